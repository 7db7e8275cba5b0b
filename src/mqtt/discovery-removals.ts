/**
 * Entities a device no longer offers (README "Home Assistant entities", issue #24: the identity
 * entities go when the user token goes). With device-based discovery one retained config holds
 * all of a device's entities; leaving a component out of it is not enough for Home Assistant to
 * remove the entity: the component must be sent once with only its platform (`{"p": "text"}`, HA
 * docs "Device discovery payload"). These markers are added for what the retained config on the
 * broker still had, found at start (DiscoveryPublisher.removeStale); a marker alone counts as gone.
 */
import type { DiscoveryMessage } from './ha-discovery.js';

type Components = Record<string, Record<string, unknown>>;

function componentsOf(payload: Buffer | string | undefined): Components | null {
  if (payload === undefined || payload.length === 0) return null;
  try {
    const json = JSON.parse(payload.toString()) as { cmps?: unknown };
    return json.cmps !== null && typeof json.cmps === 'object' && !Array.isArray(json.cmps) ? (json.cmps as Components) : null;
  } catch {
    return null;
  }
}

/** `message` with a platform-only marker for every real component `retained` has and `message` lacks. */
export function withRemovedComponents(message: DiscoveryMessage, retained: Buffer | undefined): DiscoveryMessage {
  const before = componentsOf(retained);
  if (!before || message.payload === '') return message;
  const json = JSON.parse(message.payload) as { cmps?: Components };
  const now = json.cmps ?? {};
  let added = false;
  for (const [key, c] of Object.entries(before)) {
    if (key in now || c === null || typeof c !== 'object' || typeof c.p !== 'string') continue;
    if (Object.keys(c).length === 1) continue; // a marker already: the entity is gone
    now[key] = { p: c.p };
    added = true;
  }
  return added ? { topic: message.topic, payload: JSON.stringify({ ...json, cmps: now }) } : message;
}
