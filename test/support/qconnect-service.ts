/**
 * The simulated Qobuz Connect service (issue #4): a WebSocket server on 127.0.0.1 that speaks
 * the real framing and messages (docs/protocol.md §3-§6, our codec in src/protocol) and
 * plays both the Qobuz service and the controller app, so a renderer can be proven against it.
 *
 * Usage:
 * ```ts
 * const service = new QconnectService();            // options: now, staleAfterMs (2000), nextTrackUpdates, logger
 * await service.start();                            // listens on ws://127.0.0.1:<port>/ws
 * const token = service.issueToken();               // { sessionId, jwt, exp (epoch s), endpoint }: the
 *                                                   // connect-to-qconnect `session_id` + `jwt_qconnect`
 * const own = service.mintAccountToken();           // what qws/createToken mints with the user token: it joins
 *                                                   // the account's one session (service.accountSessionId)
 * const session = service.session(token.sessionId);
 * // … let the renderer under test connect with token.jwt, or SimRenderer.connect({...}) (sim-renderer.ts) …
 * const id = await session.waitForRenderer(deviceUuid);
 * session.loadQueue([111, 222, 333]);               // 91 to all, version 1.0, queue item ids 0, 1, 2
 * session.pickRenderer(id);                         // 43 {} old active, 43 {active: true} to id, 86 to all
 * await session.waitForMessage(id, 23, { where: (b) => b.state?.buffer_state === 2 }); // body typed by the type
 * session.jump(1, { positionMs: 5000 });            // 41 {PLAYING, 5000, queue_version, current_track, next_track}
 * const types = session.sent(id).map((m) => m.type); // every message it sent, in order, e.g. [61, 77, 76, 29, 25, 28, 23 …]
 * session.dropConnection(id);                       // misbehave: terminate without a close frame
 * await service.stop();
 * ```
 * Give the service and the renderer the same clock: batches older than `staleAfterMs` by the
 * service clock are refused. `setAnswerDelay`, `setUnresponsive` and `rejectConnections` are
 * service-wide switches (reachable from any session). `service.errors` lists exceptions thrown
 * while handling client messages (e.g. a controller message with no active renderer): assert
 * it stays empty.
 *
 * Rules it enforces: the first frame must be Authenticate with a jwt it issued and that has not
 * expired (else an Error envelope from AUTH_ERRORS, then close 1008); Subscribe before any
 * Payload; a join (61, or 21 with the session uuid) before anything else; a second connection
 * with the same jwt evicts the first (close 4001); the same device uuid gets its renderer id
 * back; a batch with messages_time older than `staleAfterMs` is answered "Message too old" and
 * not applied; only the active renderer may send 23. Malformed frames are recorded as
 * MALFORMED and the connection is kept. Broadcasts reach every joined client, the sender
 * included, as the captures show. Play / pause / stop / seek are bare 41 deltas as captured
 * ({playing_state: PLAYING}); a jump or a 24 NEXT carries queue_version, current_track and
 * next_track. When a renderer's socket closes the others get 85 RemoveRenderer, or 82
 * ACTIVE_DISCONNECTED when it was the active one (it stays active until another is picked).
 * Controller actions, state and recording: qconnect-session.ts;
 * queue and versioning rule: qconnect-queue.ts; per-message behaviour: qconnect-inbound.ts.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { decodeFrames, messagesOf, type Frame } from '../../src/protocol/frame-codec.js';
import { SimConnection, type ConnectionContext, type ConnectionView } from './qconnect-connection.js';
import { errorMessage, handleInbound } from './qconnect-inbound.js';
import { storedMessagesOf, toNumber, Waiters } from './qconnect-records.js';
import { DEFAULT_BEHAVIOURS, type ServiceBehaviours } from './qconnect-behaviours.js';
import { SERVICE_ERRORS } from './qconnect-session-core.js';
import { SimSession, type Switches } from './qconnect-session.js';

export { SimSession } from './qconnect-session.js';
export { SimRenderer } from './sim-renderer.js';
export { BEHAVIOUR_VALUES, VERB_REFUSED, type ServiceBehaviours } from './qconnect-behaviours.js';
export { SERVICE_ERRORS, PLAYING, RENDERER_STATUS } from './qconnect-session-core.js';

/** Error envelope (type 9) codes; the real ones are unknown, these are stable for tests. */
export const AUTH_ERRORS = {
  notAuthenticated: { code: 4010, descr: 'Authenticate first' },
  invalidToken: { code: 4011, descr: 'Invalid token' },
  expiredToken: { code: 4012, descr: 'Token expired' },
  notSubscribed: { code: 4013, descr: 'Subscribe first' },
} as const;

export interface QconnectServiceOptions {
  /** Service clock (epoch ms): timestamps, token expiry, staleness. Default Date.now. */
  readonly now?: () => number;
  /** Batches older than this get "Message too old" (default 2000 ms, §3). */
  readonly staleAfterMs?: number;
  /** Info-only 41 {queue_version, next_track} to the active renderer when an edit changes its next track (default true). */
  readonly nextTrackUpdates?: boolean;
  /** First renderer id handed out (default 101); ids count up service-wide. */
  readonly firstRendererId?: number;
  /** Drop a link (terminate its socket) the moment its token expires (default false: checked at Authenticate only). */
  readonly dropLinksAtTokenExpiry?: boolean;
  /** One switch per behaviour the real service was never seen showing (qconnect-behaviours.ts; defaults as before). */
  readonly behaviours?: Partial<ServiceBehaviours>;
  readonly logger?: Logger;
}

export interface IssuedToken {
  readonly sessionId: string;
  readonly jwt: string;
  /** Epoch seconds. */
  readonly exp: number;
  readonly endpoint: string;
}

export class QconnectService {
  /** Exceptions thrown while handling a client's message (a test bug or a service gap), for assertions. */
  readonly errors: Array<{ at: number; connectionId: number; error: string }> = [];
  /** WebSocket upgrades refused while rejectConnections(true). */
  rejectedUpgrades = 0;
  readonly #now: () => number;
  readonly #staleAfterMs: number;
  readonly #nextTrackUpdates: boolean;
  readonly #logger: Logger | undefined;
  readonly #dropAtExpiry: boolean;
  readonly #expiryTimers = new Set<NodeJS.Timeout>();
  /** The unknowns' switches (qconnect-behaviours.ts): change them at any time, they apply to every session. */
  readonly behaviours: ServiceBehaviours;
  /** Links dropped because their token expired (dropLinksAtTokenExpiry). */
  expiredDrops = 0;
  readonly #secret = randomBytes(32);
  readonly #tokens = new Map<string, { sessionId: string; exp: number; expired: boolean }>();
  readonly #sessions = new Map<string, SimSession>();
  readonly #connections: SimConnection[] = [];
  readonly #waiters = new Waiters();
  readonly #switches: Switches = { delayMs: 0, unresponsive: false, rejecting: false };
  readonly #ctx: ConnectionContext;
  #seq = 0;
  #nextRendererId: number;
  #http: Server | null = null;
  #wss: WebSocketServer | null = null;
  #port = 0;

  constructor(options: QconnectServiceOptions = {}) {
    // Looked up on every call, so a test's fake Date reaches the service and the renderer alike.
    this.#now = options.now ?? (() => Date.now());
    this.#staleAfterMs = options.staleAfterMs ?? 2000;
    this.#nextTrackUpdates = options.nextTrackUpdates ?? true;
    this.#nextRendererId = options.firstRendererId ?? 101;
    this.#logger = options.logger;
    this.#dropAtExpiry = options.dropLinksAtTokenExpiry ?? false;
    this.behaviours = { ...DEFAULT_BEHAVIOURS, refuseVerbs: [], ...options.behaviours };
    const sw = this.#switches;
    this.#ctx = {
      now: this.#now,
      nextSeq: () => ++this.#seq,
      delayMs: () => sw.delayMs,
      unresponsive: () => sw.unresponsive,
    };
  }

  get endpoint(): string {
    if (!this.#http) throw new Error('QconnectService not started');
    return `ws://127.0.0.1:${this.#port}/ws`;
  }

  async start(): Promise<void> {
    // autoPong off: pongs are ours to withhold while unresponsive.
    this.#wss = new WebSocketServer({
      noServer: true,
      autoPong: false,
      handleProtocols: (p) => (p.has('qws') ? 'qws' : false),
    });
    this.#http = createServer((_req, res) => res.writeHead(404).end());
    this.#http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#onUpgrade(req, socket, head),
    );
    await new Promise<void>((resolve, reject) => {
      this.#http?.once('error', reject);
      this.#http?.listen(0, '127.0.0.1', () => resolve());
    });
    this.#port = (this.#http.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const t of this.#expiryTimers) clearTimeout(t);
    this.#expiryTimers.clear();
    for (const c of this.#connections) if (c.phase !== 'closed') c.terminate('service stopped');
    await new Promise<void>((resolve) => (this.#wss ? this.#wss.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (this.#http ? this.#http.close(() => resolve()) : resolve()));
    this.#http?.closeAllConnections();
  }

  /**
   * The account's session (docs/protocol.md §8 "Cloud presence"): every token minted with the user's
   * own token joins it, and the Qobuz app of that account hands its id over in connect-to-qconnect.
   */
  readonly accountSessionId = randomUUID();

  /** A token as qws/createToken mints it: generic, for the account, so it joins the account's session. */
  mintAccountToken(opts: { expiresInSeconds?: number } = {}): IssuedToken {
    return this.issueToken({ sessionId: this.accountSessionId, ...opts });
  }

  issueToken(opts: { sessionId?: string; expiresInSeconds?: number } = {}): IssuedToken {
    const sessionId = (opts.sessionId ?? randomUUID()).toLowerCase();
    this.session(sessionId);
    const iat = Math.floor(this.#now() / 1000);
    const exp = iat + (opts.expiresInSeconds ?? 3600);
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sid: sessionId, iat, exp, jti: randomUUID(), aud: 'qws' })}`;
    const jwt = `${unsigned}.${createHmac('sha256', this.#secret).update(unsigned).digest('base64url')}`;
    this.#tokens.set(jwt, { sessionId, exp, expired: false });
    return { sessionId, jwt, exp, endpoint: this.endpoint };
  }

  expireToken(jwt: string): void {
    const t = this.#tokens.get(jwt);
    if (!t) throw new Error('expireToken: not a token this service issued');
    t.expired = true;
  }

  /** The session (created if needed; session ids are hyphenated uuids). */
  session(sessionId: string): SimSession {
    const id = sessionId.toLowerCase();
    let s = this.#sessions.get(id);
    if (!s) {
      s = new SimSession(
        id,
        {
          now: this.#now,
          nextRendererId: () => this.#nextRendererId++,
          nextTrackUpdates: this.#nextTrackUpdates,
          behaviours: this.behaviours,
        },
        this.#waiters,
        this.#switches,
      );
      this.#sessions.set(id, s);
    }
    return s;
  }

  /** Every connection so far, joined or not (handshake headers, phase, frames, close code). */
  connections(): ConnectionView[] {
    return [...this.#connections];
  }

  waitFor<T>(
    pred: () => T | undefined | false | null,
    opts?: { timeoutMs?: number; what?: string },
  ): Promise<T> {
    return this.#waiters.waitFor(pred, opts);
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const refuse = this.#switches.rejecting
      ? '503 Service Unavailable'
      : path !== '/ws'
        ? '404 Not Found'
        : null;
    if (refuse) {
      if (this.#switches.rejecting) this.rejectedUpgrades += 1;
      socket.once('finish', () => socket.destroy());
      socket.end(`HTTP/1.1 ${refuse}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      this.#waiters.check();
      return;
    }
    this.#wss?.handleUpgrade(req, socket, head, (ws) => this.#onConnection(ws, req));
  }

  #onConnection(ws: WebSocket, req: IncomingMessage): void {
    const conn = new SimConnection(this.#connections.length + 1, ws, req, this.#ctx);
    this.#connections.push(conn);
    ws.on('message', (data: RawData, isBinary: boolean) => this.#onData(conn, data, isBinary));
    ws.on('ping', (data: Buffer) => {
      if (!this.#switches.unresponsive) ws.pong(data);
    });
    ws.on('error', (err) =>
      this.#logger?.debug({ connectionId: conn.id, err: err.message }, 'qconnect sim: socket error'),
    );
    ws.on('close', (code: number) => {
      conn.closed(code);
      if (conn.sessionId) this.session(conn.sessionId).core.disconnected(conn);
      this.#waiters.check();
    });
    this.#waiters.check();
  }

  #onData(conn: SimConnection, data: RawData, isBinary: boolean): void {
    const at = this.#now();
    const raw = Uint8Array.from(Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer));
    let frames: Frame[];
    try {
      if (!isBinary) throw new Error('text message');
      frames = decodeFrames(raw);
    } catch (err) {
      // Tolerant like the real service: note it, keep the connection.
      const error = err instanceof Error ? err.message : String(err);
      this.#logger?.debug(
        { connectionId: conn.id, bytes: raw.length, error },
        'qconnect sim: malformed frame',
      );
      conn.frames.push({
        seq: ++this.#seq,
        at,
        connectionId: conn.id,
        type: 'MALFORMED',
        body: undefined,
        raw,
        error,
      });
      this.#waiters.check();
      return;
    }
    for (const frame of frames) {
      const body = frame.type === 'UNKNOWN' ? undefined : frame.body;
      conn.frames.push({ seq: ++this.#seq, at, connectionId: conn.id, type: frame.type, body, raw });
      if (frame.type === 'PAYLOAD')
        conn.messages.push(...storedMessagesOf(frame.body, at, () => ++this.#seq));
    }
    if (!this.#switches.unresponsive) for (const frame of frames) this.#handleFrame(conn, frame, at);
    this.#waiters.check();
  }

  #handleFrame(conn: SimConnection, frame: Frame, at: number): void {
    if (conn.phase === 'closed') return;
    if (frame.type === 'AUTHENTICATE') return this.#authenticate(conn, frame.body.jwt ?? '');
    if (conn.phase === 'connected') return this.#refuse(conn, AUTH_ERRORS.notAuthenticated);
    if (frame.type === 'SUBSCRIBE') {
      if (conn.phase === 'authenticated') conn.phase = 'subscribed';
      return;
    }
    if (frame.type !== 'PAYLOAD') return; // Unsubscribe, Error, Disconnect, unknown envelopes: ignored
    if (conn.phase === 'authenticated')
      return conn.sendBytes(
        conn.writer.error(AUTH_ERRORS.notSubscribed.code, AUTH_ERRORS.notSubscribed.descr),
      );
    if (toNumber(frame.body.payload?.messages_time) < at - this.#staleAfterMs)
      return conn.sendMessages([errorMessage(SERVICE_ERRORS.tooOld)]);
    const core = this.session(conn.sessionId ?? '').core;
    for (const m of messagesOf(frame.body)) {
      try {
        handleInbound(core, conn, m, at);
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        this.errors.push({ at, connectionId: conn.id, error });
        this.#logger?.warn({ connectionId: conn.id, error }, 'qconnect sim: message handling failed');
      }
    }
  }

  #authenticate(conn: SimConnection, jwt: string): void {
    if (conn.phase !== 'connected') return;
    const token = this.#tokens.get(jwt);
    if (!token) return this.#refuse(conn, AUTH_ERRORS.invalidToken);
    if (token.expired || token.exp * 1000 <= this.#now()) return this.#refuse(conn, AUTH_ERRORS.expiredToken);
    // One socket per token (§3): the newest wins.
    for (const other of this.#connections) {
      if (other !== conn && other.jwt === jwt && other.phase !== 'closed')
        other.closeAfterQueue(4001, 'evicted by a new connection', 'evicted');
    }
    conn.jwt = jwt;
    conn.sessionId = token.sessionId;
    conn.phase = 'authenticated';
    if (this.#dropAtExpiry) {
      const timer = setTimeout(
        () => {
          this.#expiryTimers.delete(timer);
          if (conn.phase === 'closed') return;
          this.expiredDrops += 1;
          conn.terminate('token expired');
        },
        token.exp * 1000 - this.#now(),
      );
      this.#expiryTimers.add(timer);
    }
  }

  #refuse(conn: SimConnection, e: { code: number; descr: string }): void {
    conn.sendBytes(conn.writer.error(e.code, e.descr));
    conn.closeAfterQueue(1008, e.descr, 'unauthorized');
  }
}
