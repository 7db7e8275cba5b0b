import { message, type OutgoingMessage } from '../../src/protocol/frame-writer.js';
import type { MessageBodies } from '../../src/protocol/message-types.js';
import type { SimConnection } from './qconnect-connection.js';
import { errorMessage } from './qconnect-inbound.js';
import type { LoopName, QueueItem, QueueVersionView } from './qconnect-queue.js';
import * as ops from './qconnect-queue-ops.js';
import {
  MergedLog,
  type FileQualityView,
  type RecordedFrame,
  type RecordedMessage,
  type RendererStateView,
  type StoredMessage,
  type Waiters,
} from './qconnect-records.js';
import { PLAYING, SessionCore, type SessionDeps } from './qconnect-session-core.js';

/**
 * One simulated Qobuz Connect session as a test sees it: the renderers in it, the queue the
 * service owns, controller actions that send exactly what the real service sends when an app
 * causes them (docs/protocol.md §4-§6, captured traffic), every frame recorded, and
 * misbehaviour on demand. Built by QconnectService.session(); see qconnect-service.ts for usage.
 */

export interface RendererView {
  readonly rendererId: number;
  readonly deviceUuid: string;
  readonly name: string;
  readonly connected: boolean;
  readonly active: boolean;
  /** How many connections it joined on so far (a reconnect adds one, never a new renderer). */
  readonly joins: number;
  readonly lastState: RendererStateView | null;
  readonly volume: number | null;
  readonly muted: boolean | null;
  readonly maxAudioQuality: number | null;
  readonly fileQuality: FileQualityView | null;
}

export interface QueueView {
  readonly version: QueueVersionView;
  readonly items: QueueItem[];
  readonly shuffle: boolean;
  readonly shuffledIndexes: number[];
  readonly loop: LoopName;
  /** The session's cursor (-1 none). */
  readonly currentQueueItemId: number;
  readonly autoplayOn: boolean;
  readonly autoplay: QueueItem[];
}

/** The decoded body of message type K (unknown for types we have no schema for). */
export type BodyOf<K extends number> = K extends keyof MessageBodies ? MessageBodies[K] : unknown;
export type TypedMessage<K extends number> = RecordedMessage & { readonly type: K; readonly body: BodyOf<K> };

export interface WaitForMessageOptions<B> {
  /** Index in sent() to start from (default 0). */
  readonly after?: number;
  readonly where?: (body: B) => boolean;
  readonly timeoutMs?: number;
}

/** Service-wide switches (they affect every session of the service). */
export interface Switches {
  delayMs: number;
  unresponsive: boolean;
  rejecting: boolean;
}

export class SimSession {
  readonly core: SessionCore;
  readonly #sentCache = new Map<number, MergedLog>();
  readonly #deliveredCache = new Map<number, MergedLog>();

  constructor(
    readonly sessionId: string,
    deps: SessionDeps,
    private readonly waiters: Waiters,
    private readonly switches: Switches,
  ) {
    this.core = new SessionCore(sessionId, deps);
  }

  // ---- state ----
  renderers(): RendererView[] {
    return [...this.core.renderers.values()].map((r) => ({
      rendererId: r.rendererId,
      deviceUuid: r.deviceUuid,
      name: r.deviceInfo.friendly_name ?? '',
      connected: r.conn !== null,
      active: r.rendererId === this.core.activeRendererId,
      joins: r.connections.length,
      lastState: r.lastState,
      volume: r.volume,
      muted: r.muted,
      maxAudioQuality: r.maxAudioQuality,
      fileQuality: r.fileQuality,
    }));
  }

  rendererIdOf(deviceUuidHyphenated: string): number | undefined {
    return this.core.byUuid(deviceUuidHyphenated)?.rendererId;
  }

  get activeRendererId(): number {
    return this.core.activeRendererId;
  }

  /** The session position: the active renderer's last 23 (what 77 with renderer_id -1 answers). */
  get savedState(): RendererStateView | null {
    return this.core.savedState;
  }

  queue(): QueueView {
    const q = this.core.queue;
    return {
      version: q.version(),
      items: [...q.items],
      shuffle: q.shuffle,
      shuffledIndexes: q.shuffledIndexes(),
      loop: q.loop,
      currentQueueItemId: q.current,
      autoplayOn: q.autoplayOn,
      autoplay: [...q.autoplay],
    };
  }

  // ---- controller actions ----
  loadQueue(trackIds: number[], opts?: ops.LoadOptions): void {
    ops.loadQueue(this.core, trackIds, opts);
  }
  insertTracks(trackIds: number[], afterQueueItemId: number): void {
    ops.insertTracks(this.core, trackIds, afterQueueItemId);
  }
  addTracks(trackIds: number[]): void {
    ops.addTracks(this.core, trackIds);
  }
  removeTracks(queueItemIds: number[]): void {
    ops.removeTracks(this.core, queueItemIds);
  }
  reorderTracks(queueItemIds: number[], afterQueueItemId: number): void {
    ops.reorderTracks(this.core, queueItemIds, afterQueueItemId);
  }
  clearQueue(): void {
    ops.clearQueue(this.core);
  }
  setShuffle(on: boolean, opts?: { seed?: number }): void {
    ops.setShuffle(this.core, on, opts);
  }
  /** Autoplay on or off (102), as the app's autoplay switch. */
  setAutoplay(on: boolean): void {
    ops.setAutoplay(this.core, on);
  }
  /** Suggestions after the queue's end (103); returns their queue item ids. */
  loadAutoplay(trackIds: number[]): number[] {
    return ops.loadAutoplay(this.core, trackIds);
  }
  removeAutoplay(queueItemIds: number[]): void {
    ops.removeAutoplay(this.core, queueItemIds);
  }
  setLoop(mode: LoopName): void {
    ops.setLoop(this.core, mode);
  }

  /** The app picks a renderer: 43 {} to the previous active, 43 {active: true} to it, 86 to all; `withSetState` adds a 41 playing the session's current item. */
  pickRenderer(rendererId: number, opts: { withSetState?: boolean } = {}): void {
    const current = this.core.queue.current;
    if (!opts.withSetState || this.core.queue.trackOf(current) === undefined) return this.core.setActive(rendererId);
    const s = this.core.savedState;
    const jump = this.core.jumpMessage(current, {
      positionMs: s?.positionMs,
      playing: s?.playingState !== PLAYING.PAUSED,
    });
    // ServiceBehaviours.setStateOnPick: where the real service puts that 41 against the 43 is not known.
    const order = this.core.deps.behaviours.setStateOnPick;
    if (order === 'before') this.core.sendTo(rendererId, [jump]);
    if (order === 'same-batch') this.core.setActive(rendererId, [jump]);
    else this.core.setActive(rendererId);
    if (order === 'after') this.core.sendToActive([jump]);
  }

  // Play / pause / stop / seek are bare deltas, as captured (41 {playing_state: PLAYING}); §5.6.
  play(): void {
    this.core.sendToActive([message(41, { playing_state: PLAYING.PLAYING })]);
  }
  pause(): void {
    this.core.sendToActive([message(41, { playing_state: PLAYING.PAUSED })]);
  }
  stop(): void {
    this.core.sendToActive([message(41, { playing_state: PLAYING.STOPPED })]);
  }
  seek(positionMs: number): void {
    // ServiceBehaviours.seekToZeroAs: a zero position leaves the wire; what the real service sends then is not captured.
    const withState = positionMs === 0 && this.core.deps.behaviours.seekToZeroAs === 'with-state';
    const state = this.core.savedState?.playingState ?? PLAYING.PLAYING;
    this.core.sendToActive([message(41, withState ? { playing_state: state } : { current_position: positionMs })]);
  }
  /** A scrub: one bare seek per position, all in one batch, as the service groups a burst. */
  seekBurst(positionsMs: readonly number[]): void {
    this.core.sendToActive(positionsMs.map((p) => message(41, { current_position: p })));
  }
  /** Play a queue item: 41 with playing_state, current_position, queue_version, current_track and next_track. */
  jump(queueItemId: number, opts?: { positionMs?: number; playing?: boolean }): void {
    this.core.sendToActive([this.core.jumpMessage(queueItemId, opts)]);
  }
  setVolume(volume: number): void {
    this.core.sendToActive([message(42, { volume })]);
  }
  volumeDelta(delta: number): void {
    this.core.sendToActive([message(42, { volume_delta: delta })]);
  }
  mute(on: boolean): void {
    this.core.sendToActive([message(47, { value: on })]);
  }
  setMaxAudioQuality(level: number): void {
    this.core.sendToActive([message(44, { max_audio_quality: level })]);
  }
  sendInfoOnlySetState(): void {
    this.core.sendToActive([this.core.infoOnlyMessage()]);
  }

  // ---- recording ----
  /** Every message the renderer sent (all its connections), decoded, in order. */
  sent(rendererId: number): RecordedMessage[] {
    return this.#merged(this.#sentCache, rendererId, (c) => c.messages).slice();
  }
  /** The types of sent(), from index `from`: the sequence tests most often assert. */
  sentTypes(rendererId: number, from = 0): number[] {
    return this.#merged(this.#sentCache, rendererId, (c) => c.messages)
      .slice(from)
      .map((m) => m.type);
  }
  /** Every message the service sent to the renderer, decoded, in order. */
  delivered(rendererId: number): RecordedMessage[] {
    return this.#merged(this.#deliveredCache, rendererId, (c) => c.delivered).slice();
  }
  /** Every envelope the renderer sent (AUTHENTICATE, SUBSCRIBE, PAYLOAD, MALFORMED …) with raw bytes. */
  frames(rendererId: number): RecordedFrame[] {
    return this.#connections(rendererId)
      .flatMap((c) => c.frames)
      .sort((a, b) => a.seq - b.seq);
  }
  waitFor<T>(
    pred: () => T | undefined | false | null,
    opts?: { timeoutMs?: number; what?: string },
  ): Promise<T> {
    return this.waiters.waitFor(pred, opts);
  }
  /**
   * The first message of `type` the renderer sent at index >= `after` that matches `where`.
   * `where` gets the body typed by `type`; a callback annotated with a narrower shape of its
   * own is accepted too (second overload).
   */
  waitForMessage<K extends number>(
    rendererId: number,
    type: K,
    opts?: WaitForMessageOptions<BodyOf<K>>,
  ): Promise<TypedMessage<K>>;
  waitForMessage<K extends number>(
    rendererId: number,
    type: K,
    opts?: WaitForMessageOptions<never>,
  ): Promise<TypedMessage<K>>;
  waitForMessage<K extends number>(
    rendererId: number,
    type: K,
    opts: WaitForMessageOptions<BodyOf<K>> = {},
  ): Promise<TypedMessage<K>> {
    const after = opts.after ?? 0;
    // A cursor: each check looks only at messages that arrived since the last one (linear in long runs).
    let cursor = after;
    return this.waitFor(
      () => {
        const list = this.#merged(this.#sentCache, rendererId, (c) => c.messages);
        for (; cursor < list.length; cursor += 1) {
          const m = list[cursor];
          if (m?.type === type && (!opts.where || opts.where(m.body as BodyOf<K>)))
            return m as TypedMessage<K>;
        }
        return undefined;
      },
      { timeoutMs: opts.timeoutMs, what: `message ${type} from renderer ${rendererId} at index >= ${after}` },
    );
  }
  /** sent() narrowed to one type, bodies typed. */
  sentOfType<K extends number>(rendererId: number, type: K): Array<TypedMessage<K>> {
    return this.sent(rendererId).filter((m): m is TypedMessage<K> => m.type === type);
  }
  /** delivered() narrowed to one type, bodies typed. */
  deliveredOfType<K extends number>(rendererId: number, type: K): Array<TypedMessage<K>> {
    return this.delivered(rendererId).filter((m): m is TypedMessage<K> => m.type === type);
  }
  /** Resolves with the renderer id once the device has joined (and is connected). */
  waitForRenderer(deviceUuidHyphenated: string, opts?: { timeoutMs?: number }): Promise<number> {
    return this.waitFor(
      () => {
        const r = this.core.byUuid(deviceUuidHyphenated);
        return r?.conn ? r.rendererId : undefined;
      },
      {
        timeoutMs: opts?.timeoutMs,
        what: `device ${deviceUuidHyphenated} to join session ${this.sessionId}`,
      },
    );
  }

  // ---- misbehaviour ----
  dropConnection(rendererId: number): void {
    this.core.connectionOf(rendererId).terminate('dropped');
  }
  sendDisconnect(rendererId: number, reconnect: boolean): void {
    const conn = this.core.connectionOf(rendererId);
    conn.sendBytes(conn.writer.disconnect(reconnect), true);
  }
  sendRaw(rendererId: number, bytes: Uint8Array): void {
    this.core.connectionOf(rendererId).sendBytes(bytes, true);
  }
  /** Any messages in one batch from the service (unknown types too: `{ message_type: 250 }`). */
  sendMessages(rendererId: number, messages: OutgoingMessage[]): void {
    this.core.connectionOf(rendererId).sendMessages(messages, true);
  }
  sendError(rendererId: number, code: string, text: string): void {
    this.sendMessages(rendererId, [errorMessage({ code, message: text })]);
  }
  /** Delays every frame the service sends (answers, broadcasts, controller actions), order kept. Service-wide. */
  setAnswerDelay(ms: number): void {
    this.switches.delayMs = ms;
  }
  /** Frames are accepted and recorded but nothing is processed or answered, pings included. Service-wide. */
  setUnresponsive(on: boolean): void {
    this.switches.unresponsive = on;
  }
  /** New WebSocket upgrades are refused with HTTP 503. Service-wide. */
  rejectConnections(on: boolean): void {
    this.switches.rejecting = on;
  }

  #merged(
    logs: Map<number, MergedLog>,
    rendererId: number,
    pick: (c: SimConnection) => readonly StoredMessage[],
  ): readonly RecordedMessage[] {
    let log = logs.get(rendererId);
    if (!log) logs.set(rendererId, (log = new MergedLog()));
    return log.read(this.#connections(rendererId).map(pick));
  }

  #connections(rendererId: number): SimConnection[] {
    return this.core.renderers.get(rendererId)?.connections ?? [];
  }
}
