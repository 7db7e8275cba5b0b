import mpdApiModule, { type MPDApi } from 'mpd-api';
import type { Logger } from 'pino';
import { QcbError, errorMessage } from '../core/qcb-error.js';
import { stripStreamTokens } from '../core/stream-tokens.js';
import { withTimeout } from '../util/abortable-sleep.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import {
  parseAddId,
  parseSongs,
  parseStatus,
  redactUrls,
  type MpdSong,
  type MpdStatus,
} from './mpd-status.js';

/**
 * The one file that touches `mpd-api` (docs/protocol.md §9.1): a small typed facade over one
 * connection. mpd-api has no reconnect and a command in flight when the socket drops
 * never settles, so every call runs under our own timeout, a timeout tears the
 * connection down (its reply queue is out of step from then on), and the owner builds a
 * new client after `closed`. Commands go out as raw protocol lines through mpd-api's
 * own argument escaping and replies are parsed by mpd-status.ts, so booleans reach MPD
 * as the exact strings we mean (`consume "0"`, never mpd-api's truthy-string bug).
 */

// mpd-api is CommonJS: under NodeNext its typed `export default` is `module.exports.default`.
const mpdApi = mpdApiModule.default;

export interface MpdClientOptions {
  readonly host: string;
  readonly port: number;
  readonly password?: string;
  /** Per-command (and connect) timeout. */
  readonly timeoutMs: number;
  readonly logger: Logger;
}

export interface MpdClientEvents {
  [event: string]: unknown[];
  /** An idle subsystem changed (`player`, `mixer`, `playlist`, `options`, …); unfiltered idle. */
  changed: [subsystem: string];
  /** The connection is gone (MPD died, network, timeout, or `close()`); emitted once. */
  closed: [];
}

export class MpdClient {
  readonly events: TypedEmitter<MpdClientEvents>;
  readonly #client: MPDApi.ClientAPI;
  readonly #options: MpdClientOptions;
  #closed = false;
  /** Settles when the connection closes: commands in flight then reject at once instead of hanging. */
  readonly #whenClosed: Promise<never>;
  #rejectOnClose: (err: Error) => void = () => {};

  private constructor(client: MPDApi.ClientAPI, options: MpdClientOptions) {
    this.#client = client;
    this.#options = options;
    this.#whenClosed = new Promise<never>((_, reject) => (this.#rejectOnClose = reject));
    this.#whenClosed.catch(() => {});
    this.events = new TypedEmitter<MpdClientEvents>((err, event) =>
      options.logger.error({ err: errorMessage(err), event }, 'mpd client listener threw'),
    );
    client.on('system', (name: unknown) => {
      if (typeof name === 'string' && !this.#closed) this.events.emit('changed', name);
    });
    client.on('close', () => this.#markClosed());
    // mpd2 leaves its connect-time `reject` as the socket's error listener; add our own
    // so a late socket error can never become an unhandled 'error' event.
    client.socket.on('error', (err: Error) => options.logger.debug({ err: err.message }, 'mpd socket error'));
    client.socket.setKeepAlive(true, 10_000);
    // mpd2 leaves Nagle on: each short command then waits for a delayed ACK (~40 ms measured
    // by bench/latency from SetState to MPD's own change). Commands are tiny; send them at once.
    if (typeof client.socket.setNoDelay === 'function') client.socket.setNoDelay(true);
  }

  /** Connects and authenticates; rejects with ERR_MPD_UNREACHABLE or ERR_MPD_TIMEOUT. */
  static async connect(options: MpdClientOptions): Promise<MpdClient> {
    // mpd2 deletes `password` from the object it is given: a fresh one per connect.
    const config: { host: string; port: number; password?: string } = {
      host: options.host,
      port: options.port,
    };
    if (options.password) config.password = options.password;
    const pending = mpdApi.connect(config);
    let timedOut = false;
    try {
      const client = await withTimeout(pending, options.timeoutMs, () => {
        timedOut = true;
        return new QcbError(
          'ERR_MPD_TIMEOUT',
          `MPD ${options.host}:${options.port} did not answer within ${options.timeoutMs} ms`,
        );
      });
      return new MpdClient(client, options);
    } catch (err) {
      if (timedOut) pending.then((late) => late.disconnect()).catch(() => {});
      if (err instanceof QcbError) throw err;
      throw new QcbError('ERR_MPD_UNREACHABLE', `MPD ${options.host}:${options.port}: ${errorMessage(err)}`, {
        cause: err,
      });
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#markClosed();
    await withTimeout(this.#client.disconnect(), 500, () => new Error('disconnect timeout')).catch(() =>
      this.#client.socket.destroy(),
    );
  }

  status(): Promise<MpdStatus> {
    return this.#run('status').then(parseStatus);
  }

  async currentSong(): Promise<MpdSong | null> {
    return parseSongs(await this.#run('currentsong'))[0] ?? null;
  }

  async playlistInfo(): Promise<MpdSong[]> {
    return parseSongs(await this.#run('playlistinfo'));
  }

  /** Adds `uri` (only URLs we build: mpd-api escapes `"` but not `\`) and returns its song id. */
  async addId(uri: string, pos?: number): Promise<number> {
    return parseAddId(await this.#run('addid', pos === undefined ? [uri] : [uri, String(pos)]));
  }

  async deleteId(id: number): Promise<void> {
    await this.#run('deleteid', [String(id)]);
  }

  async clear(): Promise<void> {
    await this.#run('clear');
  }

  async playId(id: number): Promise<void> {
    await this.#run('playid', [String(id)]);
  }

  /** Starts `id` at `seconds` (MPD starts playback when stopped). */
  async seekId(id: number, seconds: number): Promise<void> {
    await this.#run('seekid', [String(id), seconds.toFixed(3)]);
  }

  async seekCur(seconds: number): Promise<void> {
    await this.#run('seekcur', [seconds.toFixed(3)]);
  }

  async pause(paused: boolean): Promise<void> {
    await this.#run('pause', [paused ? '1' : '0']);
  }

  async stop(): Promise<void> {
    await this.#run('stop');
  }

  async setVol(volume: number): Promise<void> {
    await this.#run('setvol', [String(Math.round(volume))]);
  }

  async clearError(): Promise<void> {
    await this.#run('clearerror');
  }

  /** consume, random, repeat, single all off: the window must stay exactly as we built it. */
  async setPlaybackModesOff(): Promise<void> {
    for (const mode of ['consume', 'random', 'repeat', 'single']) await this.#run(mode, ['0']);
  }

  async #run(name: string, args: readonly string[] = []): Promise<string> {
    if (this.#closed) throw new QcbError('ERR_MPD_UNREACHABLE', `MPD connection closed (${name})`);
    const line = args.length === 0 ? name : mpdApi.mpd.cmd(name, [...args]).toString();
    try {
      const reply = Promise.race([this.#client.sendCommand(line), this.#whenClosed]);
      return await withTimeout(reply, this.#options.timeoutMs, () => {
        return new QcbError(
          'ERR_MPD_TIMEOUT',
          `MPD did not answer ${name} within ${this.#options.timeoutMs} ms`,
        );
      });
    } catch (err) {
      if (err instanceof QcbError) {
        // The reply queue is out of step now: drop the connection, the owner reconnects.
        this.#client.socket.destroy();
        this.#markClosed();
        throw err;
      }
      if (this.#client.socket.destroyed) {
        this.#markClosed();
        throw new QcbError('ERR_MPD_UNREACHABLE', `MPD connection lost during ${name}`, { cause: err });
      }
      // MPD quotes the URL it refused (`addid`, a failed seek): neither signature nor stream token may
      // travel on, so the raw error is not kept as `cause` either.
      throw new QcbError('ERR_MPD_COMMAND', `MPD ${name}: ${stripStreamTokens(redactUrls(errorMessage(err)))}`);
    }
  }

  #markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#rejectOnClose(new QcbError('ERR_MPD_UNREACHABLE', 'MPD connection closed'));
    this.events.emit('closed');
  }
}
