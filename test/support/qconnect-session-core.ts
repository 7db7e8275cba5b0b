import { message, type OutgoingMessage } from '../../src/protocol/frame-writer.js';
import type { qconnect } from '../../src/protocol/generated/qconnect.js';
import type { ServiceBehaviours } from './qconnect-behaviours.js';
import type { SimConnection } from './qconnect-connection.js';
import { LOOP_MODE, SimQueue } from './qconnect-queue.js';
import {
  rendererStateOf,
  uuidBytes,
  uuidString,
  type FileQualityView,
  type RendererStateView,
} from './qconnect-records.js';

/**
 * The state of one simulated Qobuz Connect session and the primitives every path shares:
 * joins (docs/protocol.md §5.1-2), the two-phase active switch (§5.3, captured
 * 'renderer-change' traffic), sends and broadcasts, and the SetState (41) builders.
 * Broadcasts reach every joined client including the one whose report caused them: the
 * captures show the service echoing a renderer's own 23 / 25 / 29 / 28 / 26 back (§5.10).
 */

export const PLAYING = { UNKNOWN: 0, STOPPED: 1, PLAYING: 2, PAUSED: 3 } as const;
export const RENDERER_STATUS = { ACTIVE_CONNECTED: 1, ACTIVE_DISCONNECTED: 2, INACTIVE: 3 } as const;

/** Type-1 ERROR texts (§5.13) and the `code` strings we pair them with (the real codes are unknown). */
export const SERVICE_ERRORS = {
  nonActive: { code: '403', message: 'Renderer state updated message received from non active renderer' },
  tooOld: { code: '400', message: 'Message too old' },
  join: { code: '400', message: 'Error while processing JoinSessionMessage' },
  notJoined: { code: '400', message: 'Not joined to a session' },
  unknownRenderer: { code: '404', message: 'Renderer not found' },
  noActiveRenderer: { code: '404', message: 'No active renderer' },
  trackNotFound: { code: '404', message: 'Current track not found in queue nor autoplay' },
} as const;

export interface RendererRecord {
  readonly rendererId: number;
  /** Hyphenated, lower case. */
  readonly deviceUuid: string;
  deviceInfo: qconnect.DeviceInfo.$Properties;
  /** The live connection, null while disconnected. */
  conn: SimConnection | null;
  /** Every connection it ever joined on, oldest first. */
  readonly connections: SimConnection[];
  lastState: RendererStateView | null;
  volume: number | null;
  muted: boolean | null;
  maxAudioQuality: number | null;
  fileQuality: FileQualityView | null;
}

export interface SessionDeps {
  readonly now: () => number;
  readonly nextRendererId: () => number;
  /** Send an info-only 41 {queue_version, next_track} to the active renderer when an edit changes what follows. */
  readonly nextTrackUpdates: boolean;
  /** What the real service was never seen doing, one switch each (qconnect-behaviours.ts); live, service-wide. */
  readonly behaviours: ServiceBehaviours;
}

export class SessionCore {
  readonly queue: SimQueue;
  readonly renderers = new Map<number, RendererRecord>();
  readonly uuid: Uint8Array;
  activeRendererId = -1;
  /** The session position (77 with renderer_id -1): the active renderer's last report. */
  savedState: RendererStateView | null = null;
  /** next_track last told to the active renderer, to send info-only 41s only on a change. */
  #toldNext: number | undefined = undefined;

  constructor(
    readonly sessionId: string,
    readonly deps: SessionDeps,
  ) {
    this.uuid = uuidBytes(sessionId);
    this.queue = new SimQueue(() => deps.behaviours.versionRule);
  }

  connected(): RendererRecord[] {
    return [...this.renderers.values()]
      .filter((r) => r.conn !== null)
      .sort((a, b) => a.rendererId - b.rendererId);
  }

  byUuid(deviceUuid: string): RendererRecord | undefined {
    const want = deviceUuid.toLowerCase();
    return [...this.renderers.values()].find((r) => r.deviceUuid === want);
  }

  /** The renderer whose live connection is `conn`, if it has joined. */
  recordOf(conn: SimConnection): RendererRecord | undefined {
    const r = conn.rendererId === undefined ? undefined : this.renderers.get(conn.rendererId);
    return r?.conn === conn ? r : undefined;
  }

  connectionOf(rendererId: number): SimConnection {
    const conn = this.renderers.get(rendererId)?.conn;
    if (!conn) throw new Error(`renderer ${rendererId} is not connected to session ${this.sessionId}`);
    return conn;
  }

  sendTo(rendererId: number, messages: OutgoingMessage[], explicit = false): void {
    this.renderers.get(rendererId)?.conn?.sendMessages(messages, explicit);
  }

  broadcast(messages: OutgoingMessage[], except?: number): void {
    for (const r of this.connected()) if (r.rendererId !== except) r.conn?.sendMessages(messages);
  }

  sendToActive(messages: OutgoingMessage[]): void {
    if (this.activeRendererId < 0) throw new Error(`session ${this.sessionId} has no active renderer`);
    this.sendTo(this.activeRendererId, messages);
  }

  /** §5.2: the joiner gets 83 for every renderer (itself included) and 81 in one batch; the others get its 83. */
  join(
    conn: SimConnection,
    info: qconnect.DeviceInfo.$Properties,
    opts: { initialState?: RendererStateView; isActive: boolean },
  ): RendererRecord {
    const deviceUuid = uuidString(info.device_uuid);
    if (!deviceUuid) throw new Error('device_info.device_uuid must be 16 bytes');
    let r = this.byUuid(deviceUuid);
    if (!r) {
      r = {
        rendererId: this.deps.nextRendererId(),
        deviceUuid,
        deviceInfo: info,
        conn: null,
        connections: [],
        lastState: null,
        volume: null,
        muted: null,
        maxAudioQuality: null,
        fileQuality: null,
      };
      this.renderers.set(r.rendererId, r);
    } else if (r.conn && r.conn !== conn) {
      // The same device on a new socket replaces its old one (a reconnect before the old one timed out).
      r.conn.closeAfterQueue(4000, 'replaced by a new connection', 'replaced');
    }
    r.deviceInfo = info;
    r.conn = conn;
    if (!r.connections.includes(conn)) r.connections.push(conn);
    conn.rendererId = r.rendererId;
    conn.phase = 'joined';
    if (opts.initialState) r.lastState = opts.initialState;
    if (opts.initialState && opts.isActive) this.savedState = opts.initialState;
    const added = (x: RendererRecord): OutgoingMessage =>
      message(83, { renderer_id: x.rendererId, device_info: x.deviceInfo });
    this.sendTo(r.rendererId, [...this.connected().map(added), this.sessionStateMessage()]);
    this.broadcast([added(r)], r.rendererId);
    if (opts.isActive) this.setActive(r.rendererId);
    return r;
  }

  /** A joined connection went away: 82 ACTIVE_DISCONNECTED for the active renderer, else 85 RemoveRenderer. */
  disconnected(conn: SimConnection): void {
    const r = this.recordOf(conn);
    if (!r) return;
    r.conn = null;
    if (r.rendererId === this.activeRendererId) {
      const player = r.lastState ? { player_state: rendererStateOf(r.lastState) } : {};
      this.broadcast([
        message(82, { renderer_id: r.rendererId, status: RENDERER_STATUS.ACTIVE_DISCONNECTED, ...player }),
      ]);
    } else {
      this.broadcast([message(85, { renderer_id: r.rendererId })]);
    }
  }

  /** Two-phase switch as captured: 43 {} to the previous active, 43 {active: true} to the new one, then 86 to all. */
  setActive(rendererId: number, withActivation: OutgoingMessage[] = []): void {
    const r = this.renderers.get(rendererId);
    if (!r?.conn) throw new Error(`renderer ${rendererId} is not connected`);
    const previous = this.activeRendererId;
    if (previous >= 0 && previous !== rendererId) this.sendTo(previous, [message(43, {})]);
    this.activeRendererId = rendererId;
    this.#toldNext = undefined;
    this.sendTo(rendererId, [message(43, { active: true }), ...withActivation]);
    this.broadcast([message(86, { active_renderer_id: rendererId })]);
  }

  sessionStateMessage(): OutgoingMessage {
    return message(81, {
      session_uuid: this.uuid,
      active_renderer_id: this.activeRendererId,
      queue_version: this.queue.version(),
      playing_state: this.savedState?.playingState ?? PLAYING.UNKNOWN,
      loop_mode: LOOP_MODE[this.queue.loop],
    });
  }

  rendererStatusOf(r: RendererRecord): number {
    if (r.rendererId !== this.activeRendererId) return RENDERER_STATUS.INACTIVE;
    return r.conn ? RENDERER_STATUS.ACTIVE_CONNECTED : RENDERER_STATUS.ACTIVE_DISCONNECTED;
  }

  trackRef(queueItemId: number | undefined): qconnect.QueueTrackRef.$Properties | undefined {
    if (queueItemId === undefined) return undefined;
    const trackId = this.queue.trackOf(queueItemId);
    return trackId === undefined ? undefined : { queue_item_id: queueItemId, track_id: trackId };
  }

  /** 41 that plays `queueItemId`: queue_version, current_track and next_track (omitted when none) as loop/shuffle give them. */
  jumpMessage(queueItemId: number, opts: { positionMs?: number; playing?: boolean } = {}): OutgoingMessage {
    const current = this.trackRef(queueItemId);
    if (!current) throw new Error(`queue item ${queueItemId} is not in the queue`);
    this.queue.current = queueItemId;
    const next = this.queue.nextOf(queueItemId);
    this.#toldNext = next;
    return message(41, {
      playing_state: opts.playing === false ? PLAYING.PAUSED : PLAYING.PLAYING,
      current_position: opts.positionMs,
      queue_version: this.queue.version(),
      current_track: current,
      next_track: this.trackRef(next),
    });
  }

  /** End of the queue with loop OFF: STOPPED with a current_track of -1 (§5.6: a negative id = stop). */
  stopMessage(): OutgoingMessage {
    this.queue.current = -1;
    this.#toldNext = undefined;
    return message(41, {
      playing_state: PLAYING.STOPPED,
      queue_version: this.queue.version(),
      current_track: { queue_item_id: -1 },
    });
  }

  /** 41 with only queue_version and next_track: information, the renderer must not answer it (§5.6). */
  infoOnlyMessage(): OutgoingMessage {
    const next = this.queue.current >= 0 ? this.queue.nextOf(this.queue.current) : undefined;
    this.#toldNext = next;
    return message(41, { queue_version: this.queue.version(), next_track: this.trackRef(next) });
  }

  /** After a queue / loop / shuffle change: tell the active renderer what follows now, when that changed. */
  nextMayHaveChanged(): void {
    if (
      !this.deps.nextTrackUpdates ||
      this.activeRendererId < 0 ||
      this.queue.trackOf(this.queue.current) === undefined
    )
      return;
    if (this.queue.nextOf(this.queue.current) === this.#toldNext) return;
    this.sendTo(this.activeRendererId, [this.infoOnlyMessage()]);
  }

  /** 24 NEXT / PREVIOUS from the active renderer: move the cursor and command the new item, or stop at the end. */
  advance(direction: 1 | -1): void {
    const from = this.queue.current;
    let to = direction > 0 ? this.queue.skipFrom(from) : this.queue.previousFrom(from);
    // PREVIOUS on the first item (loop OFF): ServiceBehaviours.previousOnFirst (the real answer is not known).
    const onFirst = to === undefined && direction < 0 && this.queue.trackOf(from) !== undefined;
    const rule = this.deps.behaviours.previousOnFirst;
    if (onFirst && rule === 'ignore') return;
    if (onFirst && rule === 'restart') to = from;
    this.sendToActive([to === undefined ? this.stopMessage() : this.jumpMessage(to)]);
  }
}
