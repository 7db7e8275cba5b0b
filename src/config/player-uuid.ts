import { createHash } from 'node:crypto';
import { DEFAULTS } from './defaults.js';

/**
 * Default device uuids. The Qobuz apps cache devices by uuid, so it must be stable
 * across restarts (docs/protocol.md §1): we derive it from the player id
 * the RFC 4122 §4.3 way (version 5: SHA-1 of a fixed namespace + the name), which
 * needs no state file and differs per id.
 */

/** Our namespace for player ids; never change it, or every device gets a new uuid. */
const PLAYER_UUID_NAMESPACE = '75e625e4-08cd-4905-962d-cfb29a746457';

/** Hyphenated 8-4-4-4-12 hexadecimal, either case on input (we store lowercase). */
export const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

function formatUuid(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The default `mqtt.base_topic`: a single bridge on a broker keeps the uuids it always had. */
const DEFAULT_BASE_TOPIC = DEFAULTS.mqtt.base_topic;

/**
 * The version-5 uuid of `id` in our namespace: same id, same uuid, on every machine. With a base
 * topic other than the default it names `<base_topic>/<id>` instead, so two bridges on one broker
 * (each its own base topic, README "MQTT topics") never share a player uuid or HA unique ids
 * (issue #12). Ids cannot hold a `/`, so the two forms never meet.
 */
export function derivePlayerUuid(id: string, baseTopic: string = DEFAULT_BASE_TOPIC): string {
  const name = baseTopic === DEFAULT_BASE_TOPIC ? id : `${baseTopic}/${id}`;
  const digest = createHash('sha1')
    .update(uuidBytes(PLAYER_UUID_NAMESPACE))
    .update(name, 'utf8')
    .digest()
    .subarray(0, 16);
  digest[6] = (digest[6]! & 0x0f) | 0x50; // version 5
  digest[8] = (digest[8]! & 0x3f) | 0x80; // RFC 4122 variant
  return formatUuid(digest);
}

/** The uuid a player is advertised under: its configured one (lowercased), else derived from its id (and base topic). */
export function playerUuid(player: { id: string; uuid?: string | null | undefined }, baseTopic: string = DEFAULT_BASE_TOPIC): string {
  return player.uuid ? player.uuid.toLowerCase() : derivePlayerUuid(player.id, baseTopic);
}
