import type {
  AccountSessionEvent,
  AccountSessionView,
  ActiveDeviceView,
  SessionDeviceView,
} from '../../core/account-session-view.js';
import { NO_SESSION } from '../../core/account-session-view.js';
import type { TrackInfo, ViewPlaybackState } from '../../core/player-view.js';
import type { RendererPlayStatus } from '../../core/session-observer.js';
import type { SessionRoster } from './session-roster.js';

/**
 * The account's session view and its events, derived in one place (README "The Qobuz session",
 * issue #24) from the roster of the player whose link answers for the session: pure functions, so
 * that the state on MQTT and the events can never disagree.
 */

export interface ViewInputs {
  readonly roster: SessionRoster | null;
  /** The player whose roster it is. */
  readonly via: string | null;
  /** Configured players by device uuid (lower case): which devices are ours. */
  readonly playersByUuid: ReadonlyMap<string, string>;
  /** Track metadata already looked up (README "The Qobuz session": title, artist, album, cover). */
  readonly track: (trackId: number) => TrackInfo | null;
}

export function accountView(i: ViewInputs): AccountSessionView {
  const r = i.roster;
  if (!r?.link) return NO_SESSION;
  const entries = [...r.renderers.values()].sort((a, b) => a.info.rendererId - b.info.rendererId);
  const names = new Map<string, number>();
  for (const e of entries) names.set(e.info.name.toLowerCase(), (names.get(e.info.name.toLowerCase()) ?? 0) + 1);
  const devices: SessionDeviceView[] = entries.map((e) => ({
    rendererId: e.info.rendererId,
    name: e.info.name,
    // A select offers labels: two devices of one name are told apart by their renderer ids.
    label:
      (names.get(e.info.name.toLowerCase()) ?? 0) > 1 || e.info.name === ''
        ? `${e.info.name || 'Device'} (${e.info.rendererId})`
        : e.info.name,
    type: e.info.type,
    playerId: i.playersByUuid.get(e.info.deviceUuid) ?? null,
  }));
  const device = devices.find((d) => d.rendererId === r.activeRendererId);
  const entry = r.renderers.get(r.activeRendererId);
  let active: ActiveDeviceView | null = null;
  if (device && entry) {
    const s = entry.state;
    active = {
      ...device,
      state: s ? STATE[s.status] : 'idle',
      positionMs: s?.positionMs ?? 0,
      positionAtMs: s?.atMs ?? 0,
      durationMs: s?.durationMs ?? null,
      queueItemId: s?.queueItemId ?? null,
      track: s?.trackId ? i.track(s.trackId) : null,
      connected: entry.connected,
    };
  }
  return { sessionId: r.link.sessionId, via: i.via, devices, active };
}

const STATE: Record<RendererPlayStatus, ViewPlaybackState> = {
  playing: 'playing',
  paused: 'paused',
  stopped: 'stopped',
  unknown: 'idle',
};

/**
 * The events between two views of the same session: devices that joined or left, and a change of
 * the active device. A view of another session (or of none) is a new picture, not a change: no
 * events, so joining at start does not announce every device already there.
 */
export function accountEvents(before: AccountSessionView, after: AccountSessionView, atMs: number): AccountSessionEvent[] {
  if (!sameSession(before, after)) return [];
  const events: AccountSessionEvent[] = [];
  const was = new Map(before.devices.map((d) => [d.rendererId, d]));
  const is = new Map(after.devices.map((d) => [d.rendererId, d]));
  for (const d of after.devices) if (!was.has(d.rendererId)) events.push({ type: 'device_joined', atMs, fields: describe(d) });
  for (const d of before.devices) if (!is.has(d.rendererId)) events.push({ type: 'device_left', atMs, fields: describe(d) });
  const from = before.active?.rendererId ?? -1;
  const to = after.active?.rendererId ?? -1;
  if (from !== to) {
    const fromDevice = was.get(from) ?? is.get(from) ?? null;
    const toDevice = is.get(to) ?? null;
    events.push({
      type: 'active_device_changed',
      atMs,
      fields: { from: fromDevice ? describe(fromDevice) : null, to: toDevice ? describe(toDevice) : null },
    });
  }
  return events;
}

/** Both views show a session, the same one as far as is known (a session id may come late, or never: docs/protocol.md §8). */
function sameSession(a: AccountSessionView, b: AccountSessionView): boolean {
  if (a.via === null || b.via === null) return false;
  return a.sessionId === null || b.sessionId === null || a.sessionId === b.sessionId;
}

function describe(d: SessionDeviceView): Record<string, unknown> {
  return { rendererId: d.rendererId, name: d.name, label: d.label, type: d.type, player: d.playerId };
}
