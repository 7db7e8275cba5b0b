import WebSocket from 'ws';
import { decodeFrames, messagesOf, type Frame, type QcMessage } from '../../src/protocol/frame-codec.js';
import { FrameWriter, type OutgoingMessage } from '../../src/protocol/frame-writer.js';
import type { MessageBodies } from '../../src/protocol/message-types.js';
import * as rm from '../../src/protocol/renderer-messages.js';
import { realTimers, uuidBytes, uuidString, Waiters } from './qconnect-records.js';
import { takeoverFrom } from './sim-takeover.js';

/**
 * Another renderer, a real WebSocket client, for hand-over tests against the simulated service
 * (issue #4). It joins like the official web client (Authenticate, Subscribe, 61 — or 21 with
 * `join: 'renderer'`, docs/protocol.md §5.1) and, unless `autoRespond: false`, behaves as
 * §5.4-§5.11 ask: on 43 true it reports 29, 25, 28, 23; it applies 41 and answers 23 (an
 * info-only 41 gets no answer), 42 → 25, 47 → 29, 44 → 28; on 43 false it pauses, silently;
 * it keeps the last queue version.
 */

type Playing = 'PLAYING' | 'PAUSED' | 'STOPPED';
const PLAYING_CODE: Record<Playing, number> = { STOPPED: 1, PLAYING: 2, PAUSED: 3 };
/** Messages whose queue_version the renderer keeps (§5.7): session state, queue state and deltas. */
const VERSIONED = new Set<number>([81, 89, 90, 91, 92, 93, 94, 95, 96]);
const PLAYING_NAME: Record<number, Playing> = { 1: 'STOPPED', 2: 'PLAYING', 3: 'PAUSED' };

export interface SimRendererOptions {
  readonly endpoint: string;
  readonly jwt: string;
  readonly sessionId: string;
  /** Hyphenated. */
  readonly deviceUuid: string;
  readonly name: string;
  /** 'controller' (61, default) or 'renderer' (21). */
  readonly join?: 'controller' | 'renderer';
  /** With join 'renderer': is_active and reason (2 = RECONNECTION when `reconnection`). */
  readonly isActive?: boolean;
  readonly reconnection?: boolean;
  /** Behave like a renderer (default true); false = only what the test sends. */
  readonly autoRespond?: boolean;
  readonly volume?: number;
  readonly maxAudioQuality?: number;
  /** WebSocket subprotocols offered (default ['qws']). */
  readonly protocols?: string[];
  readonly headers?: Record<string, string>;
  readonly now?: () => number;
  readonly timeoutMs?: number;
  /** DeviceType in its DeviceInfo (default 1 SPEAKER; 6 MOBILE for a phone, 2 STREAMER …). */
  readonly deviceType?: number;
  /** On being made active, continue where the previously active renderer was (sim-takeover.ts; issue #24). */
  readonly takeOver?: boolean;
}

export interface SimRendererState {
  playing: Playing;
  /** Position at `positionAt` (epoch ms); while PLAYING it runs on from there. */
  positionMs: number;
  positionAt: number;
  queueItemId: number;
  nextQueueItemId: number;
  durationMs: number;
}

export class SimRenderer {
  rendererId = -1;
  active = false;
  volume: number;
  muted = false;
  maxAudioQuality: number;
  queueVersion: { major: number; minor: number } | null = null;
  readonly state: SimRendererState = {
    playing: 'STOPPED',
    positionMs: 0,
    positionAt: 0,
    queueItemId: -1,
    nextQueueItemId: -1,
    durationMs: 0,
  };
  /** Shifts the clock of outgoing frames (e.g. -5000 to send stale batches). */
  clockOffsetMs = 0;
  readonly #frames: Frame[] = [];
  readonly #messages: QcMessage[] = [];
  readonly #waiters = new Waiters();
  readonly #writer: FrameWriter;
  readonly #ws: WebSocket;
  readonly #closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly options: SimRendererOptions) {
    this.#writer = new FrameWriter(() => this.#clock());
    this.volume = options.volume ?? 50;
    this.maxAudioQuality = options.maxAudioQuality ?? 4;
    const headers = {
      Origin: 'https://play.qobuz.com',
      'User-Agent': 'Mozilla/5.0 (SimRenderer)',
      ...options.headers,
    };
    this.#ws = new WebSocket(options.endpoint, options.protocols ?? ['qws'], { headers });
    this.#ws.binaryType = 'nodebuffer';
    this.#ws.on('message', (data: Buffer) => this.#onData(Uint8Array.from(data)));
    this.#ws.on('error', () => undefined); // surfaces as close / the connect() rejection
    this.#closed = new Promise((resolve) =>
      this.#ws.once('close', (code, reason) => {
        this.#waiters.check();
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  /**
   * Another device of the account joining the session `token` is for, as a controller (a phone
   * with the Qobuz app, by default): connect() with the token's endpoint, jwt and session.
   */
  static phone(
    token: { readonly endpoint: string; readonly jwt: string; readonly sessionId: string },
    options: Partial<Omit<SimRendererOptions, 'endpoint' | 'jwt' | 'sessionId'>> = {},
  ): Promise<SimRenderer> {
    return SimRenderer.connect({
      endpoint: token.endpoint,
      jwt: token.jwt,
      sessionId: token.sessionId,
      deviceUuid: '3b8e4f21-5a6c-4d7e-8f90-a1b2c3d4e5f6',
      name: 'Phone',
      ...options,
    });
  }

  /** Connects, authenticates, subscribes and joins; resolves once its own 83 and the 81 arrived. Rejects naming any Error envelope when the service closes first. */
  static async connect(options: SimRendererOptions): Promise<SimRenderer> {
    const r = new SimRenderer(options);
    await new Promise<void>((resolve, reject) => {
      r.#ws.once('open', resolve);
      r.#ws.once('error', reject);
    });
    r.#ws.send(r.#writer.authenticate(options.jwt));
    r.#ws.send(r.#writer.subscribe());
    const device = r.#device();
    const session = uuidBytes(options.sessionId);
    r.send([
      options.join === 'renderer'
        ? rm.rndrJoinSession(session, device, {
            reconnection: options.reconnection ?? false,
            isActive: options.isActive ?? false,
            initialState: null,
          })
        : rm.ctrlJoinSession(session, device),
    ]);
    const closedEarly = r.#closed.then(({ code, reason }) => {
      const env = r.#frames.find((f) => f.type === 'ERROR');
      const detail = env?.type === 'ERROR' ? ` after Error envelope ${env.body.code} ${env.body.descr}` : '';
      throw new Error(`closed (${code} ${reason})${detail} before the join completed`);
    });
    closedEarly.catch(() => undefined);
    const joined = r.waitFor(
      () => {
        const refused = r.#messages.find((m) => m.type === 1);
        if (refused?.type === 1)
          throw new Error(`join refused: ${refused.body.code} ${refused.body.message}`);
        return r.rendererId >= 0 && r.#messages.some((m) => m.type === 81);
      },
      { timeoutMs: options.timeoutMs, what: 'the join answer (83 + 81)' },
    );
    try {
      await Promise.race([joined, closedEarly]);
    } catch (err) {
      r.#ws.terminate();
      throw err;
    }
    return r;
  }

  received(): QcMessage[] {
    return [...this.#messages];
  }
  /** Bodies of the received messages of `type`, from index `from` of received(). */
  bodies<K extends keyof MessageBodies>(type: K, from = 0): Array<MessageBodies[K]> {
    return this.#messages
      .slice(from)
      .filter((m) => m.type === type)
      .map((m) => (m as unknown as { body: MessageBodies[K] }).body);
  }
  /** Types of the received messages from index `from` ('unknown' for types without a schema). */
  types(from = 0): Array<number | 'unknown'> {
    return this.#messages.slice(from).map((m) => m.type);
  }
  /** Every envelope received (PAYLOAD, ERROR, DISCONNECT …). */
  frames(): Frame[] {
    return [...this.#frames];
  }
  get closed(): Promise<{ code: number; reason: string }> {
    return this.#closed;
  }
  get isOpen(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  waitFor<T>(
    pred: () => T | undefined | false | null,
    opts?: { timeoutMs?: number; what?: string },
  ): Promise<T> {
    return this.#waiters.waitFor(pred, opts);
  }
  /** The first received message of `type` at index >= `after` matching `where`. */
  waitForMessage<K extends keyof MessageBodies>(
    type: K,
    opts: { after?: number; where?: (body: MessageBodies[K]) => boolean; timeoutMs?: number } = {},
  ): Promise<MessageBodies[K]> {
    let cursor = opts.after ?? 0; // each check looks only at what arrived since the last one
    return this.waitFor(
      () => {
        for (; cursor < this.#messages.length; cursor += 1) {
          const m = this.#messages[cursor] as unknown as { type: number | 'unknown'; body: MessageBodies[K] };
          if (m.type === type && (!opts.where || opts.where(m.body))) return m.body;
        }
        return undefined;
      },
      { timeoutMs: opts.timeoutMs, what: `message ${type} to renderer ${this.options.name}` },
    );
  }

  reportState(state: {
    playing: Playing;
    positionMs: number;
    queueItemId: number;
    durationMs?: number;
    nextQueueItemId?: number;
    buffering?: boolean;
  }): void {
    Object.assign(this.state, {
      playing: state.playing,
      positionMs: state.positionMs,
      positionAt: this.#clock(),
      queueItemId: state.queueItemId,
    });
    if (state.durationMs !== undefined) this.state.durationMs = state.durationMs;
    if (state.nextQueueItemId !== undefined) this.state.nextQueueItemId = state.nextQueueItemId;
    this.send([rm.stateUpdated(this.#report(state.buffering ? 1 : 2))]);
  }
  /** 63 with its own renderer id (§5.3). */
  becomeActive(): void {
    this.send([rm.setActiveRenderer(this.rendererId)]);
  }
  send(messages: OutgoingMessage[]): void {
    this.sendBytes(this.#writer.payload(messages));
  }
  sendBytes(bytes: Uint8Array): void {
    if (this.isOpen) this.#ws.send(bytes);
  }
  /** A WebSocket ping: true when the pong came within `timeoutMs`. */
  ping(timeoutMs = 500): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = realTimers.setTimeout(() => {
        this.#ws.off('pong', onPong);
        resolve(false);
      }, timeoutMs);
      const onPong = (): void => {
        realTimers.clearTimeout(timer);
        resolve(true);
      };
      this.#ws.once('pong', onPong);
      this.#ws.ping();
    });
  }
  /** Ends the socket without a close frame. */
  terminate(): void {
    this.#ws.terminate();
  }
  async close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return;
    this.#ws.close(1000);
    await this.#closed;
  }

  #onData(data: Uint8Array): void {
    let frames: Frame[];
    try {
      frames = decodeFrames(data);
    } catch {
      return; // a malformed frame from the service: a renderer skips it
    }
    for (const f of frames) {
      this.#frames.push(f);
      if (f.type !== 'PAYLOAD') continue;
      for (const m of messagesOf(f.body)) {
        this.#messages.push(m);
        this.#apply(m);
      }
    }
    this.#waiters.check();
  }

  #apply(m: QcMessage): void {
    const auto = this.options.autoRespond ?? true;
    if (
      m.type === 83 &&
      uuidString(m.body.device_info?.device_uuid) === this.options.deviceUuid.toLowerCase()
    )
      this.rendererId = m.body.renderer_id ?? 0;
    if (m.type !== 'unknown' && VERSIONED.has(m.type))
      this.#version(
        (m.body as { queue_version?: { major?: number | null; minor?: number | null } | null }).queue_version,
      );
    if (m.type === 43) {
      const was = this.active;
      this.active = m.body.active === true;
      // §5.11: deactivated, a renderer pauses where it is and reports nothing more.
      if (was && !this.active && auto && this.state.playing === 'PLAYING') {
        this.#seek(this.positionNow());
        this.state.playing = 'PAUSED';
      }
      const from =
        !was && this.active && this.options.takeOver
          ? takeoverFrom(this.#messages, this.rendererId, this.#clock())
          : null;
      if (from) Object.assign(this.state, { ...from, positionAt: this.#clock(), nextQueueItemId: -1 });
      if (this.active && auto) {
        this.send([rm.volumeMuted(this.muted)]);
        this.send([rm.volumeChanged(this.volume)]);
        this.send([rm.maxAudioQualityChanged(this.maxAudioQuality)]);
        this.send([rm.stateUpdated(this.#report(2))]);
      }
    }
    if (!auto || !this.active) return;
    if (m.type === 41) this.#setState(m.body);
    else if (m.type === 42) {
      this.volume = m.body.volume ?? Math.max(0, Math.min(100, this.volume + (m.body.volume_delta ?? 0)));
      this.send([rm.volumeChanged(this.volume)]);
    } else if (m.type === 47) {
      this.muted = m.body.value === true;
      this.send([rm.volumeMuted(this.muted)]);
    } else if (m.type === 44) {
      this.maxAudioQuality = m.body.max_audio_quality ?? 0;
      this.send([rm.maxAudioQualityChanged(this.maxAudioQuality)]);
    }
  }

  /** §5.6: apply what is present; a 41 with only queue_version / next_track is information. */
  #setState(b: MessageBodies[41]): void {
    this.#version(b.queue_version);
    if (b.next_track) this.state.nextQueueItemId = b.next_track.queue_item_id ?? 0;
    const isCommand = b.playing_state != null || b.current_position != null || b.current_track != null;
    if (!isCommand) return;
    if (b.current_track) {
      this.state.queueItemId = b.current_track.queue_item_id ?? 0;
      this.#seek(b.current_position ?? 0);
      this.state.playing =
        this.state.queueItemId < 0 ? 'STOPPED' : (PLAYING_NAME[b.playing_state ?? 2] ?? 'PLAYING');
    } else {
      this.#seek(b.current_position ?? this.positionNow());
      if (b.playing_state != null) this.state.playing = PLAYING_NAME[b.playing_state] ?? this.state.playing;
    }
    if (!b.next_track && b.current_track) this.state.nextQueueItemId = -1;
    this.send([rm.stateUpdated(this.#report(2))]);
  }

  /** Where playback is now: the position runs on while PLAYING (§4 Position). */
  positionNow(): number {
    const s = this.state;
    return s.playing === 'PLAYING' ? s.positionMs + Math.max(0, this.#clock() - s.positionAt) : s.positionMs;
  }

  #seek(positionMs: number): void {
    this.state.positionMs = positionMs;
    this.state.positionAt = this.#clock();
  }

  #clock(): number {
    return (this.options.now ? this.options.now() : Date.now()) + this.clockOffsetMs;
  }

  #version(v: { major?: number | null; minor?: number | null } | null | undefined): void {
    if (v) this.queueVersion = { major: v.major ?? 0, minor: v.minor ?? 0 };
  }

  #report(bufferState: number): rm.RendererReport {
    return {
      playingState: PLAYING_CODE[this.state.playing],
      bufferState,
      positionMs: this.positionNow(),
      positionAtMs: this.#clock(),
      durationMs: this.state.durationMs,
      queueVersion: this.queueVersion,
      currentQueueItemId: this.state.queueItemId,
      nextQueueItemId: this.state.nextQueueItemId,
    };
  }

  #device(): rm.DeviceInfoValue {
    return {
      uuid: uuidBytes(this.options.deviceUuid),
      friendlyName: this.options.name,
      brand: 'Sim',
      model: 'SimRenderer',
      serialNumber: this.options.deviceUuid,
      type: this.options.deviceType ?? 1,
      minAudioQuality: 1,
      maxAudioQuality: this.maxAudioQuality,
      volumeRemoteControl: true,
      softwareVersion: '0.0.1',
    };
  }
}
