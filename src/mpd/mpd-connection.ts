import type { Logger } from 'pino';
import { errorMessage } from '../core/qcb-error.js';
import { sleep } from '../util/abortable-sleep.js';
import { Backoff } from '../util/backoff.js';
import type { MpdTap } from '../core/wire-tap.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { MpdClient } from './mpd-client.js';

/**
 * Keeps one MPD connection up: connects, and after every loss builds a new MpdClient
 * with backoff (a lost connection is never revived, docs/protocol.md §9.1). A player whose MPD is
 * unreachable keeps retrying and reports itself unavailable (README.md "MPD setup").
 */

/** Steps for a daemon on the LAN or loopback: retry fast, settle at 5 s. */
export const MPD_RECONNECT_STEPS_MS = [250, 500, 1000, 2000, 5000] as const;

export interface MpdConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly password?: string;
  readonly timeoutMs: number;
  readonly stepsMs: readonly number[];
  readonly logger: Logger;
  /** Handed to every MpdClient (README "Reporting a problem"). */
  readonly tap?: MpdTap;
}

export interface MpdConnectionEvents {
  [event: string]: unknown[];
  connected: [client: MpdClient];
  lost: [];
}

export class MpdConnection {
  readonly events: TypedEmitter<MpdConnectionEvents>;
  readonly #options: MpdConnectionOptions;
  readonly #backoff: Backoff;
  #client: MpdClient | null = null;
  #abort: AbortController | null = null;
  #loop: Promise<void> | null = null;
  #warned = false;

  constructor(options: MpdConnectionOptions) {
    this.#options = options;
    this.#backoff = new Backoff(options.stepsMs, 10_000);
    this.events = new TypedEmitter<MpdConnectionEvents>((err, event) =>
      options.logger.error({ err: errorMessage(err), event }, 'mpd connection listener threw'),
    );
  }

  get client(): MpdClient | null {
    return this.#client;
  }

  /** Starts connecting in the background; resolves after the first attempt. */
  async start(): Promise<void> {
    if (this.#abort) return;
    this.#abort = new AbortController();
    const first = await this.#attempt();
    if (!first) this.#retryLater();
  }

  async stop(): Promise<void> {
    this.#abort?.abort(new Error('stopped'));
    this.#abort = null;
    await this.#loop?.catch(() => {});
    this.#loop = null;
    const client = this.#client;
    this.#client = null;
    await client?.close();
  }

  async #attempt(): Promise<boolean> {
    const signal = this.#abort?.signal;
    if (!signal || signal.aborted) return true;
    try {
      const client = await MpdClient.connect(this.#options);
      if (signal.aborted) {
        await client.close();
        return true;
      }
      this.#adopt(client);
      return true;
    } catch (err) {
      // Once per outage at warn, so a user sees why a player stays silent; retries at debug.
      const level = this.#warned ? 'debug' : 'warn';
      this.#warned = true;
      this.#options.logger[level](
        { err: errorMessage(err), host: this.#options.host, port: this.#options.port, attempt: this.#backoff.attempts },
        'mpd unreachable, retrying with backoff',
      );
      return false;
    }
  }

  #adopt(client: MpdClient): void {
    this.#client = client;
    this.#warned = false;
    this.#backoff.connected();
    client.events.on('closed', () => {
      if (this.#client !== client) return;
      this.#client = null;
      this.#options.logger.warn('mpd connection lost');
      this.events.emit('lost');
      this.#retryLater();
    });
    this.#options.logger.info('mpd connected');
    this.events.emit('connected', client);
  }

  #retryLater(): void {
    const signal = this.#abort?.signal;
    if (!signal || signal.aborted || this.#loop) return;
    this.#loop = (async () => {
      try {
        for (;;) {
          await sleep(this.#backoff.next(), signal);
          if ((await this.#attempt()) || signal.aborted) return;
        }
      } catch {
        // aborted by stop()
      } finally {
        this.#loop = null;
        // A connection lost while this loop was finishing asked for a retry we skipped.
        if (!signal.aborted && this.#client === null) this.#retryLater();
      }
    })();
  }
}
