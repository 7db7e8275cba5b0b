import type { Logger } from 'pino';
import { QcbError, errorMessage } from '../core/qcb-error.js';
import { stripStreamTokens } from '../core/stream-tokens.js';
import { safeTap, type MpdTap } from '../core/wire-tap.js';
import { withTimeout } from '../util/abortable-sleep.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import {
  parseAddId,
  parseEnabledOutputs,
  parseSongs,
  parseStatus,
  redactUrls,
  type MpdSong,
  type MpdStatus,
} from './mpd-status.js';
import { MpdLine, quoteArg } from './mpd-line.js';

/**
 * A small typed facade over one MPD connection (docs/protocol.md §9.1), the only place that
 * speaks MPD's protocol (through mpd-line.ts). A command in flight when the socket drops would
 * never settle, so every call runs under our own timeout, a timeout tears the connection down
 * (its answers are out of step from then on), and the owner builds a new client after
 * `closed`. Replies are parsed by mpd-status.ts, and booleans reach MPD as the exact strings we
 * mean (`consume "0"`).
 */

export interface MpdClientOptions {
  readonly host: string;
  readonly port: number;
  readonly password?: string;
  /** Per-command (and connect) timeout. */
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Sees every command, its arguments and outcome (README "Reporting a problem"); never throws into the client. */
  readonly tap?: MpdTap;
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
  readonly #client: MpdLine;
  readonly #options: MpdClientOptions;
  #closed = false;
  /** Settles when the connection closes: commands in flight then reject at once instead of hanging. */
  readonly #whenClosed: Promise<never>;
  #rejectOnClose: (err: Error) => void = () => {};

  /** `commands` answers our commands; `watcher` only idles, so a command never waits to leave an idle. */
  readonly #watcher: MpdLine;

  private constructor(commands: MpdLine, watcher: MpdLine, options: MpdClientOptions) {
    this.#client = commands;
    this.#watcher = watcher;
    this.#options = options;
    this.#whenClosed = new Promise<never>((_, reject) => (this.#rejectOnClose = reject));
    this.#whenClosed.catch(() => {});
    this.events = new TypedEmitter<MpdClientEvents>((err, event) =>
      options.logger.error({ err: errorMessage(err), event }, 'mpd client listener threw'),
    );
    watcher.events.on('changed', (name) => {
      if (!this.#closed) this.events.emit('changed', name);
    });
    // Either connection gone is the client gone: the owner reconnects both.
    commands.events.on('closed', () => this.#markClosed());
    watcher.events.on('closed', () => this.#markClosed());
  }

  /** Connects and authenticates both connections; rejects with ERR_MPD_UNREACHABLE or ERR_MPD_TIMEOUT. */
  static async connect(options: MpdClientOptions): Promise<MpdClient> {
    const at = { host: options.host, port: options.port, ...(options.password ? { password: options.password } : {}) };
    const lines = [MpdLine.connect({ ...at, watch: false }), MpdLine.connect({ ...at, watch: true })];
    const pending = Promise.all(lines);
    // A line that connected while the other failed or timed out is closed, never leaked.
    const closeAll = () => lines.forEach((l) => void l.then((late) => late.close()).catch(() => {}));
    try {
      const [commands, watcher] = await withTimeout(pending, options.timeoutMs, () => {
        return new QcbError(
          'ERR_MPD_TIMEOUT',
          `MPD ${options.host}:${options.port} did not answer within ${options.timeoutMs} ms`,
        );
      });
      return new MpdClient(commands!, watcher!, options);
    } catch (err) {
      closeAll();
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
    this.#markClosed();
  }

  async status(): Promise<MpdStatus> {
    const started = Date.now();
    const status = parseStatus(await this.#run('status', [], true));
    const tap = this.#options.tap;
    if (tap) safeTap(() => tap.mpd({ command: 'status', args: [], ms: Date.now() - started, ok: true, status: { ...status } }));
    return status;
  }

  async currentSong(): Promise<MpdSong | null> {
    return parseSongs(await this.#run('currentsong'))[0] ?? null;
  }

  async playlistInfo(): Promise<MpdSong[]> {
    return parseSongs(await this.#run('playlistinfo'));
  }

  /** Adds `uri` (only URLs we build) and returns its song id. */
  async addId(uri: string, pos?: number): Promise<number> {
    return parseAddId(await this.#run('addid', pos === undefined ? [uri] : [uri, String(pos)]));
  }

  /**
   * Adds a tag to a song in the queue (MPD takes it on URL songs, docs/protocol.md §9.4). Values
   * come from Qobuz metadata: `quoteArg` escapes them like every argument.
   */
  async addTagId(id: number, tag: string, value: string): Promise<void> {
    // One command is one line: a line break inside a value would end it early.
    const oneLine = [...value].map((c) => (c < ' ' || c === '\u007f' ? ' ' : c)).join('');
    await this.#run('addtagid', [String(id), tag, oneLine.replace(/ {2,}/g, ' ')]);
  }

  /** Removes every tag of a queued URL song (ours and the stream's). */
  async clearTagId(id: number): Promise<void> {
    await this.#run('cleartagid', [String(id)]);
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

  /** Names of the outputs MPD has enabled now (issue #23: what bit-perfectness is judged on). */
  async enabledOutputs(): Promise<string[]> {
    return parseEnabledOutputs(await this.#run('outputs'));
  }

  async clearError(): Promise<void> {
    await this.#run('clearerror');
  }

  /** consume, random, repeat, single all off: the window must stay exactly as we built it. */
  async setPlaybackModesOff(): Promise<void> {
    for (const mode of ['consume', 'random', 'repeat', 'single']) await this.#run(mode, ['0']);
  }

  /** `tapLater`: the caller taps the exchange itself once it parsed the answer (status). */
  async #run(name: string, args: readonly string[] = [], tapLater = false): Promise<string> {
    if (this.#closed) throw new QcbError('ERR_MPD_UNREACHABLE', `MPD connection closed (${name})`);
    const line = [name, ...args.map(quoteArg)].join(' ');
    const started = Date.now();
    const tap = this.#options.tap;
    try {
      const reply = Promise.race([this.#client.command(line), this.#whenClosed]);
      const answer = await withTimeout(reply, this.#options.timeoutMs, () => {
        return new QcbError(
          'ERR_MPD_TIMEOUT',
          `MPD did not answer ${name} within ${this.#options.timeoutMs} ms`,
        );
      });
      if (tap && !tapLater) safeTap(() => tap.mpd({ command: name, args, ms: Date.now() - started, ok: true }));
      return answer;
    } catch (err) {
      if (tap) {
        const error = errorMessage(err);
        safeTap(() => tap.mpd({ command: name, args, ms: Date.now() - started, ok: false, error }));
      }
      if (err instanceof QcbError) {
        // The reply queue is out of step now: drop the connection, the owner reconnects.
        this.#markClosed();
        throw err;
      }
      if (this.#client.closed) {
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
    this.#client.close();
    this.#watcher.close();
    this.#rejectOnClose(new QcbError('ERR_MPD_UNREACHABLE', 'MPD connection closed'));
    this.events.emit('closed');
  }
}
