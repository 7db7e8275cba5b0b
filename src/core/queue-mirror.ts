import type { PlayableItem } from './player.js';
import type { RepeatMode } from './player-view.js';

/**
 * The renderer's mirror of the Qobuz queue (docs/protocol.md §6). The service owns the
 * queue; we apply its full snapshots and deltas, check versions, and answer "what plays
 * next" under loop and shuffle. Pure: no I/O, no protocol types.
 */

export interface QueueVersion {
  readonly major: number;
  readonly minor: number;
}

export interface QueueSnapshot {
  readonly version: QueueVersion;
  readonly items: readonly PlayableItem[];
  readonly shuffle: boolean;
  /** Play order as indexes into `items` when shuffle is on (from the service, never local random). */
  readonly shuffledIndexes: readonly number[];
  /** Autoplay on, and the suggestions that follow the queue's end (90 fields 6 and 8, docs/protocol.md §6). */
  readonly autoplayOn?: boolean;
  readonly autoplay?: readonly PlayableItem[];
}

/**
 * Autoplay changes (102-104) and the service moving suggestions into the queue (105). 102-104
 * carry a version too, but only 105 edits the queue, so only 105 is checked against ours.
 */
export type AutoplayChange =
  | { readonly kind: 'mode'; readonly on: boolean; readonly reset: boolean }
  | { readonly kind: 'loaded'; readonly items: readonly PlayableItem[] }
  | { readonly kind: 'removed'; readonly queueItemIds: readonly number[] };

export type QueueDelta =
  | { readonly kind: 'cleared'; readonly version: QueueVersion }
  | {
      readonly kind: 'loaded';
      readonly version: QueueVersion;
      readonly items: readonly PlayableItem[];
      readonly shuffle: boolean | null;
      /** 91's autoplay_reset: a new context, so the old suggestions go. */
      readonly autoplayReset?: boolean;
    }
  | {
      readonly kind: 'inserted';
      readonly version: QueueVersion;
      readonly items: readonly PlayableItem[];
      readonly afterQueueItemId: number;
    }
  | { readonly kind: 'added'; readonly version: QueueVersion; readonly items: readonly PlayableItem[] }
  | { readonly kind: 'removed'; readonly version: QueueVersion; readonly queueItemIds: readonly number[] }
  | {
      readonly kind: 'reordered';
      readonly version: QueueVersion;
      readonly queueItemIds: readonly number[];
      readonly afterQueueItemId: number;
    }
  | { readonly kind: 'shuffle'; readonly version: QueueVersion; readonly shuffle: boolean }
  /** 105: these autoplay items are queue items now, appended in the order given. */
  | {
      readonly kind: 'fromAutoplay';
      readonly version: QueueVersion;
      readonly queueItemIds: readonly number[];
    };

/** `applied`: the mirror changed; `stale`: older or same version, ignored; `resync`: ask the service for the full queue (76). */
export type DeltaResult = 'applied' | 'stale' | 'resync';

function compareVersions(a: QueueVersion, b: QueueVersion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

export class QueueMirror {
  #version: QueueVersion | null = null;
  #items: PlayableItem[] = [];
  #shuffle = false;
  #shuffled: number[] = [];
  /** True when shuffle is on but the order no longer matches the items (a delta arrived): resync. */
  #orderStale = false;
  #repeat: RepeatMode = 'off';
  #autoplayOn = false;
  /** Suggestions that play once the queue ends, in order (docs/protocol.md §6 "Autoplay"). */
  #autoplay: PlayableItem[] = [];

  get version(): QueueVersion | null {
    return this.#version;
  }
  get items(): readonly PlayableItem[] {
    return this.#items;
  }
  get shuffle(): boolean {
    return this.#shuffle;
  }
  get repeat(): RepeatMode {
    return this.#repeat;
  }
  get autoplayOn(): boolean {
    return this.#autoplayOn;
  }
  get autoplay(): readonly PlayableItem[] {
    return this.#autoplay;
  }

  setRepeat(mode: RepeatMode): void {
    this.#repeat = mode;
  }

  /** Forget everything: a new session numbers its versions afresh, so a lower one must count (issue #12). */
  reset(): void {
    this.#version = null;
    this.#items = [];
    this.#shuffle = false;
    this.#shuffled = [];
    this.#orderStale = false;
    this.#repeat = 'off';
    this.#autoplayOn = false;
    this.#autoplay = [];
  }

  /** A version seen elsewhere (SetState, SessionState): remembered so reports carry it (§5.7). */
  noteVersion(version: QueueVersion): void {
    if (this.#version === null || compareVersions(version, this.#version) > 0) this.#version = version;
  }

  applySnapshot(s: QueueSnapshot): void {
    this.#version = s.version;
    this.#items = [...s.items];
    this.#shuffle = s.shuffle;
    const valid =
      s.shuffledIndexes.length === s.items.length &&
      s.shuffledIndexes.every((i) => i >= 0 && i < s.items.length);
    this.#shuffled = valid ? [...s.shuffledIndexes] : [];
    this.#orderStale = s.shuffle && !valid;
    if (s.autoplayOn !== undefined) this.#autoplayOn = s.autoplayOn;
    this.#autoplay = [...(s.autoplay ?? [])];
  }

  /** 102-104: the suggestions change; the queue itself does not. */
  applyAutoplay(c: AutoplayChange): void {
    switch (c.kind) {
      case 'mode':
        this.#autoplayOn = c.on;
        if (c.reset || !c.on) this.#autoplay = [];
        return;
      case 'loaded': {
        const known = new Set(this.#autoplay.map((i) => i.queueItemId));
        this.#autoplay.push(...c.items.filter((i) => !known.has(i.queueItemId)));
        return;
      }
      case 'removed': {
        const gone = new Set(c.queueItemIds);
        this.#autoplay = this.#autoplay.filter((i) => !gone.has(i.queueItemId));
        return;
      }
    }
  }

  /** Applies a delta when it follows our version; anything out of step asks for a resync (§6). */
  applyDelta(d: QueueDelta): DeltaResult {
    if (this.#version === null) return 'resync';
    const cmp = compareVersions(d.version, this.#version);
    if (cmp <= 0) return 'stale';
    const follows =
      (d.version.major === this.#version.major && d.version.minor === this.#version.minor + 1) ||
      (d.version.major === this.#version.major + 1 && d.version.minor <= 1);
    this.#version = d.version;
    this.#apply(d);
    if (!follows) return 'resync';
    return this.#shuffle && this.#orderStale ? 'resync' : 'applied';
  }

  #apply(d: QueueDelta): void {
    switch (d.kind) {
      case 'cleared':
        this.#items = [];
        this.#autoplay = [];
        this.#shuffled = [];
        this.#orderStale = false;
        return;
      case 'loaded':
        this.#items = [...d.items];
        if (d.shuffle !== null) this.#shuffle = d.shuffle;
        if (d.autoplayReset) this.#autoplay = [];
        this.#markOrderChanged();
        return;
      case 'fromAutoplay': {
        const moving = new Set(d.queueItemIds);
        const known = new Set(this.#items.map((i) => i.queueItemId));
        const moved = d.queueItemIds
          .filter((id) => !known.has(id))
          .map((id) => this.#autoplay.find((i) => i.queueItemId === id))
          .filter((i): i is PlayableItem => i !== undefined);
        this.#autoplay = this.#autoplay.filter((i) => !moving.has(i.queueItemId));
        this.#items.push(...moved);
        this.#markOrderChanged();
        return;
      }
      case 'inserted': {
        // insert_after -1 = at the start; an id we do not know appends (a resync follows anyway).
        const anchor = d.afterQueueItemId < 0 ? -1 : this.#indexOf(d.afterQueueItemId);
        const at = d.afterQueueItemId < 0 ? 0 : anchor < 0 ? this.#items.length : anchor + 1;
        this.#items.splice(at, 0, ...d.items);
        this.#markOrderChanged();
        return;
      }
      case 'added':
        this.#items.push(...d.items);
        this.#markOrderChanged();
        return;
      case 'removed': {
        const gone = new Set(d.queueItemIds);
        this.#items = this.#items.filter((i) => !gone.has(i.queueItemId));
        this.#markOrderChanged();
        return;
      }
      case 'reordered': {
        const moving = new Set(d.queueItemIds);
        const moved = d.queueItemIds
          .map((id) => this.#items.find((i) => i.queueItemId === id))
          .filter((i): i is PlayableItem => i !== undefined);
        const rest = this.#items.filter((i) => !moving.has(i.queueItemId));
        const anchor =
          d.afterQueueItemId < 0 ? -1 : rest.findIndex((i) => i.queueItemId === d.afterQueueItemId);
        rest.splice(anchor + 1, 0, ...moved);
        this.#items = rest;
        this.#markOrderChanged();
        return;
      }
      case 'shuffle':
        this.#shuffle = d.shuffle;
        this.#markOrderChanged();
        return;
    }
  }

  #markOrderChanged(): void {
    this.#shuffled = [];
    this.#orderStale = this.#shuffle && this.#items.length > 0;
  }

  #indexOf(queueItemId: number): number {
    return this.#items.findIndex((i) => i.queueItemId === queueItemId);
  }

  /** A queue item, or an autoplay suggestion (both can be current: §6 "Autoplay"). */
  find(queueItemId: number): PlayableItem | null {
    return (
      this.#items.find((i) => i.queueItemId === queueItemId) ??
      this.#autoplay.find((i) => i.queueItemId === queueItemId) ??
      null
    );
  }

  /** The items in play order: the service's shuffled order when shuffle is on and known. */
  playOrder(): readonly PlayableItem[] {
    if (!this.#shuffle || this.#orderStale || this.#shuffled.length !== this.#items.length)
      return this.#items;
    return this.#shuffled.map((i) => this.#items[i] as PlayableItem);
  }

  /**
   * What follows `queueItemId` under the current loop mode, or null at the end. Loop modes apply
   * to the queue itself; only a queue that ends (loop off) plays on into autoplay, and the
   * suggestions then follow one another (docs/protocol.md §6 "Autoplay").
   */
  next(queueItemId: number, repeat: RepeatMode = this.#repeat): PlayableItem | null {
    const order = this.playOrder();
    const at = order.findIndex((i) => i.queueItemId === queueItemId);
    if (at < 0) return this.#nextSuggestion(queueItemId, repeat);
    if (repeat === 'one') return order[at] ?? null;
    if (at + 1 < order.length) return order[at + 1] ?? null;
    if (repeat === 'all') return order[0] ?? null;
    return this.#autoplayOn ? (this.#autoplay[0] ?? null) : null;
  }

  #nextSuggestion(queueItemId: number, repeat: RepeatMode): PlayableItem | null {
    const at = this.#autoplay.findIndex((i) => i.queueItemId === queueItemId);
    if (at < 0 || !this.#autoplayOn) return null;
    if (repeat === 'one') return this.#autoplay[at] ?? null;
    return this.#autoplay[at + 1] ?? null;
  }

  /** What precedes `queueItemId` (wrapping only with repeat all), or null. */
  previous(queueItemId: number, repeat: RepeatMode = this.#repeat): PlayableItem | null {
    const order = this.playOrder();
    const at = order.findIndex((i) => i.queueItemId === queueItemId);
    if (at < 0) {
      const suggestion = this.#autoplay.findIndex((i) => i.queueItemId === queueItemId);
      if (suggestion < 0) return null;
      return suggestion > 0 ? (this.#autoplay[suggestion - 1] ?? null) : (order[order.length - 1] ?? null);
    }
    if (at > 0) return order[at - 1] ?? null;
    return repeat === 'all' ? (order[order.length - 1] ?? null) : null;
  }

  /** Position of `queueItemId` in play order, for the MQTT view. */
  indexInPlayOrder(queueItemId: number): number | null {
    const at = this.playOrder().findIndex((i) => i.queueItemId === queueItemId);
    return at < 0 ? null : at;
  }
}
