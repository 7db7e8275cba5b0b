import WebSocket from 'ws';
import { QcbError } from '../core/qcb-error.js';
import { TOKEN_EXPIRED, type LinkToken } from '../core/link-token.js';
import { safeTap, type QconnectTap } from '../core/wire-tap.js';
import { Backoff, WEB_PLAYER_STEPS_MS } from '../util/backoff.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { decodeFrames, messagesOf } from '../protocol/frame-codec.js';
import { FrameWriter, type OutgoingMessage } from '../protocol/frame-writer.js';
import { toHex } from '../protocol/frame-json.js';
import { ProtocolError } from '../protocol/protocol-error.js';
import type { LinkState, QconnectLinkEvents, QconnectLinkOptions } from './qconnect-link-options.js';

/**
 * The WebSocket link to the Qobuz Connect service for one player (docs/conventions.md
 * principle 5: the codec is pure, this owns sockets, timers and reconnect). It authenticates
 * and subscribes (docs/protocol.md §5.1), hands decoded batches to its owner, keeps the
 * connection alive with pings (§3) and reconnects with the web player's backoff (§5.12)
 * while the token is valid. It never replays old frames: a send while down is dropped, the
 * owner re-reports after `connected`.
 */

const BROWSER_UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';

export class QconnectLink {
  readonly events: TypedEmitter<QconnectLinkEvents>;
  readonly #o: Required<
    Omit<QconnectLinkOptions, 'userAgent' | 'backoffStepsMs' | 'renewToken' | 'renewAheadMs' | 'tap'>
  > & {
    userAgent: string;
  };
  /** The token in use: the app's at first, then each renewed one. */
  #token: LinkToken;
  readonly #renew: (() => Promise<LinkToken>) | null;
  readonly #backoff: Backoff;
  #ws: WebSocket | null = null;
  #writer: FrameWriter;
  #state: LinkState = 'connecting';
  #everConnected = false;
  #lastHeardAt = 0;
  /** Pongs count as life only once the service has sent a real frame on this connection. */
  #heardFrame = false;
  /** An Error envelope came before any payload on this connection: the service refused the token (§8). */
  #refusedAtAuth = false;
  /** Refusals of the token in a row, with no payload heard between them: only the first reconnects at once. */
  #refusalsInRow = 0;
  #heardPayload = false;
  #pingTimer: NodeJS.Timeout | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  /** The next renewal ahead of expiry (its own timer: it runs whether the socket is up or not). */
  #renewTimer: NodeJS.Timeout | null = null;
  #renewing = false;
  readonly #renewAheadMs: number;
  readonly #tap: QconnectTap | null;

  constructor(options: QconnectLinkOptions) {
    if (!options.endpoint || !options.jwt)
      throw new QcbError('ERR_SESSION_CLOSED', 'link needs an endpoint and a jwt');
    this.#o = {
      pingIntervalMs: 10_000,
      // Checked every quarter of this: a half-open socket is dropped within 25 s (issue #4: 30 s).
      deadAfterMs: 20_000,
      connectTimeoutMs: 10_000,
      now: Date.now,
      ...options,
      userAgent: options.userAgent ?? BROWSER_UA,
    };
    this.#token = { jwt: options.jwt, expiresAtMs: options.expiresAtMs, endpoint: options.endpoint };
    this.#renew = options.renewToken ?? null;
    this.#renewAheadMs = options.renewAheadMs ?? 5 * 60_000;
    this.#tap = options.tap ?? null;
    this.#backoff = new Backoff(options.backoffStepsMs ?? WEB_PLAYER_STEPS_MS, 40_000, this.#o.now);
    this.#writer = new FrameWriter(this.#o.now);
    this.events = new TypedEmitter((err, event) =>
      this.#o.logger.error({ err, event }, 'link listener failed'),
    );
  }

  get state(): LinkState {
    return this.#state;
  }

  start(): void {
    this.#scheduleRenewal();
    this.#open();
  }

  /** Sends one batch now, or drops it when the link is down (never replayed late: §3 "Message too old"). */
  send(messages: OutgoingMessage[]): boolean {
    if (this.#state !== 'open' || this.#ws?.readyState !== WebSocket.OPEN || messages.length === 0)
      return false;
    this.#sendBytes(this.#ws, this.#writer.payload(messages));
    this.events.emit('framesOut', 1);
    return true;
  }

  /** Subscribes again on the open socket, before a join again (docs/protocol.md §8 "Silent deregistration"). */
  resubscribe(): boolean {
    if (this.#state !== 'open' || this.#ws?.readyState !== WebSocket.OPEN) return false;
    this.#sendBytes(this.#ws, this.#writer.subscribe());
    this.events.emit('framesOut', 1);
    return true;
  }

  /**
   * A command needs the link now (docs/protocol.md §5.12): a reconnect waiting out its backoff
   * starts at once (the backoff's next step is unchanged). True when one did.
   */
  retryNow(): boolean {
    if (this.#state !== 'waiting' || !this.#retryTimer) return false;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#o.logger.info('a command waits for the link: reconnecting now, not after the backoff');
    this.#open();
    return true;
  }

  /** Closes for good; no reconnect. */
  close(reason = 'closed by the bridge'): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#clearTimers();
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
    this.#renewTimer = null;
    const ws = this.#ws;
    this.#ws = null;
    if (ws) {
      ws.removeAllListeners();
      ws.on('error', () => {});
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'bye');
      else ws.terminate();
    }
    this.events.emit('closed', reason);
  }

  #open(): void {
    if (this.#state === 'closed') return;
    if (this.#o.now() >= this.#token.expiresAtMs) {
      if (this.#renew) this.#renewThenOpen(this.#renew);
      else this.close(TOKEN_EXPIRED);
      return;
    }
    this.#state = 'connecting';
    this.#writer = new FrameWriter(this.#o.now); // counters are per connection (§3)
    const ws = new WebSocket(this.#token.endpoint, 'qws', {
      headers: { Origin: 'https://play.qobuz.com', 'User-Agent': this.#o.userAgent },
      handshakeTimeout: this.#o.connectTimeoutMs,
      maxPayload: 8 * 1024 * 1024,
    });
    ws.binaryType = 'nodebuffer';
    this.#ws = ws;
    ws.on('open', () => this.#onOpen(ws));
    ws.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(data, isBinary));
    // A socket that answers pings but never our join is no session: only frames prove it (issue #8).
    ws.on('pong', () => {
      if (this.#heardFrame) this.#lastHeardAt = this.#o.now();
    });
    ws.on('error', (err) => this.#o.logger.debug({ err: err.message }, 'websocket error'));
    ws.on('close', (code, reason) => this.#onClose(ws, `closed ${code} ${reason.toString()}`.trim()));
  }

  #onOpen(ws: WebSocket): void {
    if (ws !== this.#ws) return;
    this.#sendBytes(ws, this.#writer.authenticate(this.#token.jwt));
    this.#sendBytes(ws, this.#writer.subscribe());
    this.events.emit('framesOut', 2);
    this.#state = 'open';
    this.#heardFrame = false;
    this.#heardPayload = false;
    this.#refusedAtAuth = false;
    this.#lastHeardAt = this.#o.now();
    this.#backoff.connected();
    this.#startPings(ws);
    const reconnection = this.#everConnected;
    this.#everConnected = true;
    this.events.emit('connected', { reconnection });
  }

  #sendBytes(ws: WebSocket, bytes: Uint8Array): void {
    ws.send(bytes);
    const tap = this.#tap;
    if (tap) safeTap(() => tap.qconnect('out', bytes));
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    this.#lastHeardAt = this.#o.now();
    this.#heardFrame = true;
    if (!isBinary) {
      this.#o.logger.debug({ bytes: data.length }, 'text message ignored');
      return;
    }
    const tap = this.#tap;
    // Before decoding: a frame we cannot decode is exactly what a recording is for.
    if (tap) safeTap(() => tap.qconnect('in', data));
    let frames;
    try {
      frames = decodeFrames(data);
    } catch (err) {
      // A malformed frame is dropped; the session lives on (issue #4, docs/conventions.md principle 8).
      const code = err instanceof ProtocolError ? err.protocolCode : 'unexpected';
      this.#o.logger.debug({ code, hex: toHex(data.subarray(0, 512)) }, 'malformed frame dropped');
      return;
    }
    this.events.emit('framesIn', frames.length);
    for (const frame of frames) {
      switch (frame.type) {
        case 'PAYLOAD':
          this.#heardPayload = true;
          this.#refusalsInRow = 0;
          this.events.emit('messages', messagesOf(frame.body));
          break;
        case 'DISCONNECT':
          this.#onDisconnectFrame(frame.body.reconnect === true);
          return;
        case 'ERROR':
          if (!this.#heardPayload) this.#refusedAtAuth = true;
          this.#o.logger.warn({ code: frame.body.code, descr: frame.body.descr }, 'service error envelope');
          break;
        default:
          this.#o.logger.debug({ type: frame.type }, 'envelope ignored');
      }
    }
  }

  #onDisconnectFrame(reconnect: boolean): void {
    this.#o.logger.info({ reconnect }, 'service sent Disconnect');
    if (!reconnect) {
      this.close('service said not to reconnect');
      return;
    }
    this.#ws?.terminate();
  }

  #onClose(ws: WebSocket, reason: string): void {
    if (ws !== this.#ws || this.#state === 'closed') return;
    this.#ws = null;
    this.#clearTimers();
    // §8: refused before any payload (revoked, expired early, or our clock behind the service's):
    // the same token would be refused again until its exp. With a user token, the reconnect mints a
    // fresh one, at once the first time: the service answered, so the refusal is no outage to back
    // off from (a command waiting for the link would otherwise wait out a 20 s step and time out).
    let mintNow = false;
    if (this.#refusedAtAuth && this.#renew) {
      this.#refusalsInRow++;
      mintNow = this.#refusalsInRow === 1;
      this.#o.logger.info(
        { refusalsInRow: this.#refusalsInRow },
        mintNow ? 'the service refused the token; minting a new one for an immediate reconnect' : 'the service refused the token again; minting a new one for the reconnect',
      );
      this.#token = { ...this.#token, expiresAtMs: Math.min(this.#token.expiresAtMs, this.#o.now()) };
    }
    const willReconnect = this.#o.now() < this.#token.expiresAtMs || this.#renew !== null;
    this.#state = willReconnect ? 'waiting' : 'closed';
    this.events.emit('disconnected', { willReconnect, reason });
    if (!willReconnect) {
      this.events.emit('closed', TOKEN_EXPIRED);
      return;
    }
    const delay = mintNow ? 0 : this.#backoff.next();
    this.#o.logger.info({ delayMs: delay, reason }, 'link down, reconnecting');
    this.#retryTimer = setTimeout(() => this.#open(), delay);
  }

  /** Mints a token; one mint at a time, and an already-expired answer counts as a failure. */
  async #mint(renew: () => Promise<LinkToken>): Promise<LinkToken> {
    this.#renewing = true;
    try {
      const token = await renew();
      if (token.expiresAtMs <= this.#o.now()) throw new Error('the renewed token is already expired');
      return token;
    } finally {
      this.#renewing = false;
    }
  }

  #adopt(token: LinkToken, ahead: boolean): void {
    this.#token = token;
    this.#o.logger.info({ expiresAtMs: token.expiresAtMs, ahead }, 'websocket token renewed');
    this.events.emit('tokenRenewed', { ahead, expiresAtMs: token.expiresAtMs });
    this.#scheduleRenewal();
  }

  /**
   * docs/protocol.md §8: with a user token the next WebSocket token is minted before the current
   * one expires, while the link lives; the socket keeps its authentication and the fresh token
   * serves the next reconnect (the service may drop the link at expiry), so no reconnect waits.
   */
  #scheduleRenewal(): void {
    if (!this.#renew || this.#state === 'closed') return;
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
    const lifetime = this.#token.expiresAtMs - this.#o.now();
    const delay = Math.max(0, lifetime - Math.min(this.#renewAheadMs, lifetime / 2));
    this.#renewTimer = setTimeout(() => this.#renewAhead(), delay);
    this.#renewTimer.unref();
  }

  #renewAhead(): void {
    this.#renewTimer = null;
    const renew = this.#renew;
    if (!renew || this.#state === 'closed' || this.#renewing) return;
    this.#mint(renew).then(
      (token) => {
        if (this.#state !== 'closed') this.#adopt(token, true);
      },
      (err: unknown) => {
        if (this.#state === 'closed') return;
        // Try again while the current token lives; once it expired, the next reconnect renews it.
        const left = this.#token.expiresAtMs - this.#o.now();
        this.#o.logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'websocket token renewal ahead of expiry failed',
        );
        if (left > 1000) {
          this.#renewTimer = setTimeout(() => this.#renewAhead(), Math.min(30_000, left / 2));
          this.#renewTimer.unref();
        }
      },
    );
  }

  /** An expired token and a way to mint one: renew, then connect; a failed renewal is retried with backoff. */
  #renewThenOpen(renew: () => Promise<LinkToken>): void {
    this.#state = 'connecting';
    this.#mint(renew).then(
      (token) => {
        if (this.#state === 'closed') return;
        this.#adopt(token, false);
        this.#open();
      },
      (err: unknown) => {
        if (this.#state === 'closed') return;
        const delay = this.#backoff.next();
        this.#o.logger.warn(
          { err: err instanceof Error ? err.message : String(err), delayMs: delay },
          'websocket token renewal failed',
        );
        this.#state = 'waiting';
        this.#retryTimer = setTimeout(() => this.#open(), delay);
      },
    );
  }

  /** §3 keepalive: ping regularly; a half-open socket (no frame, no pong) is dropped within deadAfterMs. */
  #startPings(ws: WebSocket): void {
    const period = Math.min(this.#o.pingIntervalMs, Math.floor(this.#o.deadAfterMs / 4));
    this.#pingTimer = setInterval(() => {
      if (this.#o.now() - this.#lastHeardAt > this.#o.deadAfterMs) {
        this.#o.logger.warn('no frame or pong for too long: dropping the link');
        ws.terminate();
        return;
      }
      if (ws.readyState === WebSocket.OPEN) ws.ping();
    }, period);
  }

  #clearTimers(): void {
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#pingTimer = null;
    this.#retryTimer = null;
  }
}
