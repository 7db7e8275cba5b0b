import type { Logger } from 'pino';
import { runNow, type EnqueuePartInput } from '../loop-step.js';
import type { PlayableItem } from '../../core/player.js';
import type { StatePublisher, TrackInfo } from '../../core/player-view.js';
import {
  buildQueueListing,
  EMPTY_LISTING,
  LISTING_LIMITS,
  lookupOrder,
  type ListingLimits,
  type QueuePicture,
  type TrackSummary,
} from '../../core/queue-listing.js';
import { QueueMetadata, type LookupRate } from './queue-metadata.js';

/**
 * Publishes the session's queue listing on MQTT (README "MQTT topics", `B/<player>/queue`; issue
 * #14): retained, after every change, coalesced. A burst of queue messages goes out once, `settleMs`
 * after the first; titles found by the lazy lookups go out together, at most once per `batchMs`.
 * The session tells it when its view changes; it copies the queue only when the queue, the current
 * or the next item changed, so a position update costs a comparison. Part of one session's state
 * (docs/architecture.md "One owner per player"): its timers only read its own copy.
 */

export interface QueueListingTuning {
  readonly rate?: LookupRate;
  /** Delay of a publish after a queue change (default 100 ms). */
  readonly settleMs?: number;
  /** Titles found meanwhile are published together, at most once per this (default 1 s). */
  readonly batchMs?: number;
  readonly limits?: ListingLimits;
}

export interface QueuePublisherOptions {
  readonly playerId: string;
  readonly publisher: StatePublisher | null;
  readonly trackInfo: ((trackId: number) => Promise<TrackInfo | null>) | null;
  readonly logger: Logger;
  readonly tuning?: QueueListingTuning;
  /** Its timers and lookups come back to the player's loop through it (loop-step.ts); default: at once. */
  readonly step?: EnqueuePartInput;
}

/** What the session plays and what follows, as it stands now. */
export interface SessionPosition {
  readonly inSession: boolean;
  readonly current: PlayableItem | null;
  readonly next: PlayableItem | null;
}

export class QueuePublisher {
  readonly #o: QueuePublisherOptions;
  readonly #metadata: QueueMetadata;
  readonly #limits: ListingLimits;
  #picture: QueuePicture | null = null;
  #position: SessionPosition | null = null;
  #queueChanged = true;
  #timer: NodeJS.Timeout | null = null;
  #dueAtMs = 0;

  constructor(options: QueuePublisherOptions) {
    this.#o = options;
    this.#limits = options.tuning?.limits ?? LISTING_LIMITS;
    this.#metadata = new QueueMetadata({
      lookup: options.trackInfo,
      ...(options.tuning?.rate ? { rate: options.tuning.rate } : {}),
      onResolved: () => this.#schedule(options.tuning?.batchMs ?? 1000),
      logger: options.logger,
      step: options.step ?? runNow,
    });
  }

  /** What is known of a track (queue events carry the titles already known). */
  summary(trackId: number): TrackSummary | undefined {
    return this.#metadata.summary(trackId);
  }

  /** The queue itself changed (a snapshot, a delta, autoplay, a new session). */
  queueChanged(): void {
    this.#queueChanged = true;
  }

  /** The session's view changed; `read` copies the queue in play order, only called when needed. */
  update(position: SessionPosition, read: () => Omit<QueuePicture, 'current' | 'next'>): void {
    const before = this.#position;
    const same =
      before !== null &&
      !this.#queueChanged &&
      before.inSession === position.inSession &&
      sameItem(before.current, position.current) &&
      sameItem(before.next, position.next);
    if (same) return;
    this.#position = position;
    this.#queueChanged = false;
    this.#picture = position.inSession ? { ...read(), current: position.current, next: position.next } : null;
    if (this.#picture) this.#metadata.want(lookupOrder(this.#picture, this.#limits));
    else this.#metadata.stop();
    this.#schedule(this.#o.tuning?.settleMs ?? 100);
  }

  /** Shutdown: no more lookups or publishes (the retained listing stays until the next start). */
  stop(): void {
    this.#metadata.stop();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Publishes in `delayMs` unless a publish is already due sooner. */
  #schedule(delayMs: number): void {
    const due = Date.now() + delayMs;
    if (this.#timer && this.#dueAtMs <= due) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#dueAtMs = due;
    const timer = setTimeout(
      () => (this.#o.step ?? runNow)({ kind: 'queue-listing', listing: this, timer }),
      delayMs,
    );
    this.#timer = timer;
    this.#timer.unref();
  }

  /** The publish timer fired (a 'queue-listing' input, in the loop). */
  due(timer: object): void {
    if (this.#timer !== timer) return; // stopped or rescheduled meanwhile
    this.#timer = null;
    this.#publish();
  }

  #publish(): void {
    const listing = this.#picture
      ? buildQueueListing(this.#picture, (id) => this.#metadata.summary(id), this.#limits)
      : EMPTY_LISTING;
    try {
      this.#o.publisher?.publishQueue?.(this.#o.playerId, listing);
    } catch (err) {
      this.#o.logger.warn({ err }, 'queue listing publish failed');
    }
  }
}

const sameItem = (a: PlayableItem | null, b: PlayableItem | null): boolean =>
  a?.queueItemId === b?.queueItemId && a?.trackId === b?.trackId;
