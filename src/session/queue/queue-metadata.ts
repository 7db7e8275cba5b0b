import type { Logger } from 'pino';
import { errorMessage } from '../../core/qcb-error.js';
import type { TrackInfo } from '../../core/player-view.js';
import type { TrackSummary } from '../../core/queue-listing.js';
import { runNow, type EnqueuePartInput, type PartInput } from '../loop-step.js';

/**
 * Titles, artists, albums and durations of the queue's tracks for the MQTT queue listing, looked
 * up lazily and bounded (issue #14): only the tracks the listing asks for, most wanted first, at
 * most `perSecond` lookups started in any second and `concurrency` at a time, so a queue of
 * thousands never floods the Qobuz REST API. Lookups go through the session's `trackInfo`, the
 * cached `track/get`, so a track the player already knows costs nothing. Part of one session's
 * state (docs/architecture.md "One owner per player"); answers arrive outside the loop and only
 * fill this cache.
 */

export interface LookupRate {
  readonly perSecond: number;
  readonly concurrency: number;
}

/** "Never more than a few REST calls per second" (issue #14). */
export const DEFAULT_LOOKUP_RATE: LookupRate = { perSecond: 4, concurrency: 2 };

/** Summaries kept at most; far more than a listing shows, so only tracks long gone are dropped. */
const MAX_KNOWN = 1000;

export interface QueueMetadataOptions {
  readonly lookup: ((trackId: number) => Promise<TrackInfo | null>) | null;
  readonly rate?: LookupRate;
  /** Some lookups finished: the listing can show more. */
  readonly onResolved: () => void;
  readonly logger: Logger;
  /** Its timer and the answers come back to the player's loop through it (loop-step.ts); default: at once. */
  readonly step?: EnqueuePartInput;
}

export class QueueMetadata {
  readonly #o: QueueMetadataOptions;
  readonly #rate: LookupRate;
  /** Known summaries (null: Qobuz gave none), least recently used first. */
  readonly #known = new Map<number, TrackSummary | null>();
  readonly #inFlight = new Set<number>();
  #wanted: number[] = [];
  /** Start times of the lookups of the last second. */
  #starts: number[] = [];
  #timer: NodeJS.Timeout | null = null;
  #started = 0;

  constructor(options: QueueMetadataOptions) {
    const rate = options.rate ?? DEFAULT_LOOKUP_RATE;
    if (!(rate.perSecond > 0) || !(rate.concurrency >= 1))
      throw new Error('QueueMetadata: rate must be positive');
    this.#o = options;
    this.#rate = rate;
  }

  /** Lookups started so far (tests and logs). */
  get started(): number {
    return this.#started;
  }

  /** What is known of a track; undefined while not looked up yet. */
  summary(trackId: number): TrackSummary | undefined {
    const known = this.#known.get(trackId);
    if (known === undefined) return undefined;
    // Re-insert: Map keeps insertion order, so the first key is the least recently used.
    this.#known.delete(trackId);
    this.#known.set(trackId, known);
    return known ?? undefined;
  }

  /** Replaces what to look up, most wanted first; tracks known or on their way are skipped. */
  want(trackIds: readonly number[]): void {
    this.#wanted = trackIds.filter((id) => !this.#known.has(id) && !this.#inFlight.has(id));
    this.#pump();
  }

  /** Nothing more to look up (the session ended); answers on their way still fill the cache. */
  stop(): void {
    this.#wanted = [];
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #pump(): void {
    const lookup = this.#o.lookup;
    if (!lookup || this.#timer) return;
    while (this.#wanted.length > 0 && this.#inFlight.size < this.#rate.concurrency) {
      const now = Date.now();
      this.#starts = this.#starts.filter((t) => now - t < 1000);
      if (this.#starts.length >= this.#rate.perSecond) {
        const waitMs = 1000 - (now - (this.#starts[0] ?? now)) + 1;
        const timer = setTimeout(
          () => this.#step({ kind: 'queue-metadata-rate', metadata: this, timer }),
          waitMs,
        );
        timer.unref();
        this.#timer = timer;
        return;
      }
      const trackId = this.#wanted.shift() as number;
      if (this.#known.has(trackId) || this.#inFlight.has(trackId)) continue;
      this.#starts.push(now);
      this.#inFlight.add(trackId);
      this.#started += 1;
      lookup(trackId)
        .then(
          (info) => (info ? summaryOf(info) : null),
          (err: unknown) => {
            this.#o.logger.debug({ err: errorMessage(err), trackId }, 'queue track metadata unavailable');
            return null;
          },
        )
        .then((summary) => this.#step({ kind: 'queue-metadata', metadata: this, trackId, summary }))
        .catch((err: unknown) =>
          this.#o.logger.warn({ err: errorMessage(err) }, 'queue metadata update failed'),
        );
    }
  }

  /** A look-up answered (a 'queue-metadata' input, in the loop). */
  resolved(trackId: number, summary: TrackSummary | null): void {
    this.#store(trackId, summary);
    this.#inFlight.delete(trackId);
    this.#o.onResolved();
    this.#pump();
  }

  /** The rate limit's timer fired (a 'queue-metadata-rate' input, in the loop). */
  rateTimer(timer: object): void {
    if (this.#timer !== timer) return; // stopped meanwhile
    this.#timer = null;
    this.#pump();
  }

  #step(input: PartInput): void {
    (this.#o.step ?? runNow)(input);
  }

  #store(trackId: number, summary: TrackSummary | null): void {
    this.#known.delete(trackId);
    this.#known.set(trackId, summary);
    while (this.#known.size > MAX_KNOWN) {
      const oldest = this.#known.keys().next();
      if (oldest.done) break;
      this.#known.delete(oldest.value);
    }
  }
}

const summaryOf = (t: TrackInfo): TrackSummary => ({
  title: t.title,
  artist: t.artist,
  album: t.album,
  durationMs: t.durationMs,
});
