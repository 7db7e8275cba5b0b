import type { Logger } from 'pino';
import { errorMessage } from '../core/qcb-error.js';
import type { SerialQueue } from '../util/serial-queue.js';
import type { MpdClient } from './mpd-client.js';

/**
 * Watches MPD for changes made by anyone (`mpc pause`, a knob, MPD moving on by itself)
 * with unfiltered idle (a filtered idle in 0.23 drops other pending events,
 * docs/protocol.md §9.2), plus a light poll while playing: idle says nothing while `elapsed`
 * advances, and buffering and a stalled stream are only visible in `elapsed`.
 * Refreshes are coalesced and run in the player's serial queue.
 */

/** Idle subsystems that can change what the player reports. */
const WATCHED = new Set(['player', 'mixer', 'options', 'playlist']);

export interface MpdWatcherOptions {
  readonly queue: SerialQueue;
  readonly logger: Logger;
  /** The usable client, or null while MPD is away. */
  readonly client: () => MpdClient | null;
  /** Reads MPD's status and emits what changed. */
  readonly sync: (client: MpdClient) => Promise<void>;
  /** Delay before the next poll, or null for no poll (paused, stopped). */
  readonly pollDelayMs: () => number | null;
}

export class MpdWatcher {
  readonly #options: MpdWatcherOptions;
  #running = false;
  #queued = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: MpdWatcherOptions) {
    this.#options = options;
  }

  start(): void {
    this.#running = true;
  }

  stop(): void {
    this.#running = false;
    this.cancelPoll();
  }

  /** Follows one connection's idle events (a new client after each reconnect). */
  attach(client: MpdClient): void {
    client.events.on('changed', (subsystem) => {
      if (WATCHED.has(subsystem)) this.request();
    });
  }

  /** Plans the next poll from the current state; replaces any planned one. */
  schedulePoll(): void {
    this.cancelPoll();
    const delay = this.#running ? this.#options.pollDelayMs() : null;
    if (delay === null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.request();
    }, delay);
    this.#timer.unref();
  }

  cancelPoll(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Queues one refresh; requests arriving before it runs share it. */
  request(): void {
    if (!this.#running || this.#queued) return;
    this.#queued = true;
    this.#options.queue
      .run(async () => {
        this.#queued = false;
        const client = this.#options.client();
        if (client && !client.closed) await this.#options.sync(client);
      })
      .catch((err: unknown) => {
        this.#options.logger.warn({ err: errorMessage(err) }, 'mpd refresh failed');
      });
  }
}
