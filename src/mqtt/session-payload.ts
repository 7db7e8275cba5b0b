/**
 * Pure mapping from the core's AccountSessionView / AccountSessionEvent to the JSON of README "The
 * Qobuz session" (`B/session/state`, `B/session/event`). The wire spelling (snake_case) lives here.
 */
import type { AccountSessionEvent, AccountSessionView, SessionDeviceView } from '../core/account-session-view.js';
import type { ViewPlaybackState } from '../core/player-view.js';
import { toWire } from './state-payload.js';

interface SessionDevicePayload {
  renderer_id: number;
  name: string;
  label: string;
  type: string | null;
  player: string | null;
}

export interface SessionStatePayload {
  in_session: boolean;
  session_id: string | null;
  via: string | null;
  devices: SessionDevicePayload[];
  active:
    | (SessionDevicePayload & {
        state: ViewPlaybackState;
        connected: boolean;
        position_ms: number;
        position_at: string | null;
        duration_ms: number | null;
        queue_item_id: number | null;
        track: { id: number; title: string; artist: string | null; album: string | null; cover_url: string | null } | null;
      })
    | null;
}

const device = (d: SessionDeviceView): SessionDevicePayload => ({
  renderer_id: d.rendererId,
  name: d.name,
  label: d.label,
  type: d.type,
  player: d.playerId,
});

/** README "The Qobuz session" state JSON; key order is fixed so identical views give identical bytes. */
export function toSessionStatePayload(view: AccountSessionView): SessionStatePayload {
  const a = view.active;
  const t = a?.track ?? null;
  return {
    in_session: view.via !== null,
    session_id: view.sessionId,
    via: view.via,
    devices: view.devices.map(device),
    active: a
      ? {
          ...device(a),
          state: a.state,
          connected: a.connected,
          position_ms: Math.max(0, Math.round(a.positionMs)),
          position_at: a.positionAtMs > 0 ? new Date(a.positionAtMs).toISOString() : null,
          duration_ms: a.durationMs,
          queue_item_id: a.queueItemId,
          track: t ? { id: t.id, title: t.title, artist: t.artist, album: t.album, cover_url: t.coverUrl } : null,
        }
      : null,
  };
}

export interface SessionEventPayload {
  type: AccountSessionEvent['type'];
  at: string;
  [field: string]: unknown;
}

/** `{type, at, ...fields}` spelled like the players' events (README "MQTT topics"); fields cannot override type or at. */
export function toSessionEventPayload(event: AccountSessionEvent): SessionEventPayload {
  const fields = toWire(event.fields) as Record<string, unknown>;
  const out: SessionEventPayload = { type: event.type, at: new Date(event.atMs).toISOString() };
  for (const [k, v] of Object.entries(fields)) if (k !== 'type' && k !== 'at') out[k] = v;
  return out;
}
