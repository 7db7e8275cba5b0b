import { Socket } from 'node:net';
import type { Logger } from 'pino';
import { QcbError, errorMessage } from '../core/qcb-error.js';
import { Backoff } from '../util/backoff.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { parseRpcLine } from './snapcast-messages.js';

/**
 * One JSON-RPC 2.0 connection to snapserver's TCP control port (1705 by default;
 * docs/architecture.md "Snapcast"): one JSON object per line each way, requests answered by id,
 * notifications (`Client.OnVolumeChanged`…) pushed to every control client but the one whose
 * request caused them (measured on snapserver 0.26). Lost connections are rebuilt with backoff;
 * a request in flight on a lost connection, or unanswered in time, rejects; a line that is not
 * JSON-RPC is logged and dropped, never thrown.
 */

const SNAPCAST_RECONNECT_STEPS_MS = [250, 500, 1000, 2000, 5000] as const;
/** A line longer than this is not a reply we can use (Server.GetStatus of a big house is ~10 KiB per dozen clients). */
const MAX_LINE_BYTES = 4 * 1024 * 1024;

export interface SnapcastRpcOptions {
  readonly host: string;
  readonly port: number;
  readonly logger: Logger;
  readonly timeoutMs?: number;
  readonly stepsMs?: readonly number[];
}

export interface SnapcastRpcEvents {
  [event: string]: unknown[];
  connected: [];
  lost: [];
  notification: [method: string, params: unknown];
}

interface Pending {
  readonly resolve: (result: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class SnapcastRpc {
  readonly events: TypedEmitter<SnapcastRpcEvents>;
  readonly #o: SnapcastRpcOptions;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  readonly #pending = new Map<number, Pending>();
  #socket: Socket | null = null;
  #connected = false;
  #running = false;
  #nextId = 1;
  #buffer = '';
  #retry: NodeJS.Timeout | null = null;
  #warned = false;

  constructor(options: SnapcastRpcOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.#backoff = new Backoff(options.stepsMs ?? SNAPCAST_RECONNECT_STEPS_MS, 10_000);
    this.events = new TypedEmitter<SnapcastRpcEvents>((err, event) =>
      this.#log.error({ err: errorMessage(err), event }, 'snapcast listener threw'),
    );
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Starts connecting; resolves after the first attempt, connected or not. */
  start(): Promise<void> {
    if (this.#running) return Promise.resolve();
    this.#running = true;
    return new Promise((resolve) => this.#connect(resolve));
  }

  async stop(): Promise<void> {
    this.#running = false;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
    const socket = this.#socket;
    if (!socket) return;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.destroy();
    await closed;
  }

  /** Sends one request; resolves with its `result`, rejects with ERR_SNAPCAST (an `error` answer) or ERR_SNAPCAST_UNREACHABLE. */
  request(method: string, params?: Record<string, unknown>): Promise<unknown> {
    const socket = this.#socket;
    if (!socket || !this.#connected)
      return Promise.reject(new QcbError('ERR_SNAPCAST_UNREACHABLE', `snapserver ${this.#where()} is not connected (${method})`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new QcbError('ERR_TIMEOUT', `snapserver ${this.#where()} did not answer ${method} in time`));
        // Answers are out of step from now on: start over on a fresh connection.
        socket.destroy();
      }, this.#o.timeoutMs ?? 3000);
      this.#pending.set(id, { resolve, reject, timer });
      socket.write(`${JSON.stringify({ id, jsonrpc: '2.0', method, ...(params ? { params } : {}) })}\r\n`);
    });
  }

  #where(): string {
    return `${this.#o.host}:${this.#o.port}`;
  }

  #connect(firstAttempt?: () => void): void {
    const socket = new Socket();
    this.#socket = socket;
    this.#buffer = '';
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => this.#onData(chunk));
    socket.once('connect', () => {
      this.#connected = true;
      this.#warned = false;
      this.#backoff.connected();
      this.#log.info({ snapserver: this.#where() }, 'snapcast control connected');
      this.events.emit('connected');
      firstAttempt?.();
    });
    socket.on('error', (err) => {
      if (!this.#warned) this.#log.warn({ snapserver: this.#where(), err: err.message }, 'snapcast control connection failed; retrying');
      this.#warned = true;
    });
    socket.once('close', () => {
      const was = this.#connected;
      this.#connected = false;
      if (this.#socket === socket) this.#socket = null;
      for (const [id, p] of this.#pending) {
        clearTimeout(p.timer);
        p.reject(new QcbError('ERR_SNAPCAST_UNREACHABLE', `snapserver ${this.#where()} closed the connection`));
        this.#pending.delete(id);
      }
      if (was) this.events.emit('lost');
      firstAttempt?.();
      if (!this.#running) return;
      this.#retry = setTimeout(() => {
        this.#retry = null;
        if (this.#running) this.#connect();
      }, this.#backoff.next());
      this.#retry.unref();
    });
    socket.connect({ host: this.#o.host, port: this.#o.port });
  }

  #onData(chunk: string): void {
    this.#buffer += chunk;
    if (this.#buffer.length > MAX_LINE_BYTES) {
      this.#log.warn({ snapserver: this.#where() }, 'snapcast sent an over-long line; reconnecting');
      this.#socket?.destroy();
      return;
    }
    for (let i = this.#buffer.indexOf('\n'); i >= 0; i = this.#buffer.indexOf('\n')) {
      const line = this.#buffer.slice(0, i).trim();
      this.#buffer = this.#buffer.slice(i + 1);
      if (line !== '') this.#onLine(line);
    }
  }

  #onLine(line: string): void {
    const msg = parseRpcLine(line);
    if (msg.kind === 'invalid') {
      this.#log.warn({ snapserver: this.#where(), reason: msg.reason }, 'snapcast sent a line that is not JSON-RPC; ignored');
      return;
    }
    if (msg.kind === 'notification') {
      this.events.emit('notification', msg.method, msg.params);
      return;
    }
    const pending = msg.id === null ? undefined : this.#pending.get(msg.id);
    if (!pending) {
      this.#log.debug({ id: msg.id }, 'snapcast answered a request we no longer wait for');
      return;
    }
    this.#pending.delete(msg.id as number);
    clearTimeout(pending.timer);
    if (msg.kind === 'error') pending.reject(new QcbError('ERR_SNAPCAST', `snapserver refused: ${msg.message}`));
    else pending.resolve(msg.result);
  }
}
