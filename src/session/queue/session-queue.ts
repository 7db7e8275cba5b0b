import type { PlayableItem, Player } from '../../core/player.js';
import type { RepeatMode } from '../../core/player-view.js';
import type { TrackSummary } from '../../core/queue-listing.js';
import {
  QueueMirror,
  type AutoplayChange,
  type DeltaResult,
  type QueueDelta,
  type QueueSnapshot,
  type QueueVersion,
} from '../../core/queue-mirror.js';
import type { Effect, SessionPlayback } from '../playback/session-playback.js';
import { QueuePublisher, type QueuePublisherOptions } from './queue-publisher.js';

/** The read-only face of the queue mirror: handlers read it, only the core changes it. */
export type QueueView = Omit<
  QueueMirror,
  'setRepeat' | 'noteVersion' | 'applySnapshot' | 'applyDelta' | 'applyAutoplay' | 'reset'
>;

/** The queue's intents, as handlers reach them (`core.queueUpdates`). */
export type QueueUpdates = Pick<
  SessionQueue,
  'noteVersion' | 'applySnapshot' | 'applyDelta' | 'applyAutoplay' | 'setRepeat'
>;

/** What the session's queue reads and tells of the rest of the session (SessionCore hands it). */
export interface QueueHost {
  readonly player: Player;
  /** Items of the current queue (stream tokens of items that left it die: README "HTTP endpoints"). */
  readonly onQueueItems: ((items: readonly PlayableItem[]) => void) | null;
  playback(): SessionPlayback;
  /** The item the session plays (ours while active, else the active renderer's). */
  sessionItem(): PlayableItem | null;
  inSession(): boolean;
  publishView(): void;
  reportState(): void;
}

/**
 * The session's queue (docs/protocol.md §6; issue #14): the mirror of the service's queue, and its
 * listing on MQTT (`B/<player>/queue`, queue-publisher.ts). Part of SessionCore's state
 * (docs/architecture.md "One owner per player"): the loop's handlers change it through
 * `core.queueUpdates`, and read it through `core.queue`.
 */
export class SessionQueue {
  readonly #h: QueueHost;
  readonly #mirror = new QueueMirror();
  readonly #listing: QueuePublisher;

  constructor(host: QueueHost, listing: QueuePublisherOptions) {
    this.#h = host;
    this.#listing = new QueuePublisher(listing);
  }

  get view(): QueueView {
    return this.#mirror;
  }

  /** What the queue listing knows of a track (queue events carry the titles already known). */
  summary(trackId: number): TrackSummary | undefined {
    return this.#listing.summary(trackId);
  }

  noteVersion(version: QueueVersion): void {
    this.#mirror.noteVersion(version);
  }

  applySnapshot(snapshot: QueueSnapshot): Effect {
    this.#mirror.applySnapshot(snapshot);
    this.#h.playback().requeued();
    this.#changed();
    return this.#h.playback().refreshNext();
  }

  applyDelta(delta: QueueDelta): { readonly result: DeltaResult; readonly effect: Effect } {
    const result = this.#mirror.applyDelta(delta);
    if (result === 'stale') return { result, effect: null };
    if (delta.kind === 'cleared') return { result, effect: this.#cleared() };
    this.#changed();
    return { result, effect: this.#h.playback().refreshNext() };
  }

  /** 102-104: autoplay on or off, suggestions loaded or removed; what follows the queue's end may change. */
  applyAutoplay(change: AutoplayChange): Effect {
    this.#mirror.applyAutoplay(change);
    this.#changed();
    return this.#h.playback().refreshNext();
  }

  setRepeat(mode: RepeatMode): Effect {
    this.#mirror.setRepeat(mode);
    const effect = this.#h.playback().refreshNext();
    this.#h.publishView();
    return effect;
  }

  /** 81: the queue version and loop mode the service holds. */
  noteSessionState(version: QueueVersion | null, repeat: RepeatMode | null): void {
    if (version) this.#mirror.noteVersion(version);
    if (repeat) this.#mirror.setRepeat(repeat);
  }

  /** A new session: nothing of the old queue carries over (issue #12). */
  reset(): void {
    this.#mirror.reset();
    this.#listing.queueChanged();
  }

  stop(): void {
    this.#listing.stop();
  }

  /** The MQTT queue listing follows the session: the queue is copied only when it, the current or the next item changed. */
  updateListing(): void {
    const current = this.#h.sessionItem();
    const next = current ? this.#mirror.next(current.queueItemId) : (this.#mirror.playOrder()[0] ?? null);
    this.#listing.update({ inSession: this.#h.inSession(), current, next }, () => ({
      version: this.#mirror.version,
      order: [...this.#mirror.playOrder()],
      shuffle: this.#mirror.shuffle,
      autoplay: [...this.#mirror.autoplay],
    }));
  }

  /** 89: the queue is empty, so nothing is current any more: stop, and never report the cleared item again (issue #12). */
  #cleared(): Effect {
    const playing = this.#h.playback().clear();
    this.#listing.queueChanged();
    this.#h.onQueueItems?.([...this.#mirror.items, ...this.#mirror.autoplay]);
    this.#h.reportState();
    return playing ? this.#h.player.stopPlayback() : null;
  }

  #changed(): void {
    this.#listing.queueChanged();
    this.#h.onQueueItems?.([...this.#mirror.items, ...this.#mirror.autoplay]);
    this.#h.publishView();
  }
}
