import type { PlayableItem } from './player.js';

/** The queue's version, as queue-mirror.ts has it (spelled out here: player-view.ts imports this file). */
type QueueVersion = { readonly major: number; readonly minor: number };

/**
 * The queue as MQTT shows it (README "MQTT topics", `B/<player>/queue`; issue #14): the items in
 * play order with what is known of each track, bounded. A long queue is listed as a window around
 * the current item, and track metadata is looked up for that window only, nearest items first.
 * Pure: the session hands in a picture of its queue and what the metadata cache knows.
 */

/** What the listing shows of one track; null where it is not known (yet). */
export interface TrackSummary {
  readonly title: string | null;
  readonly artist: string | null;
  readonly album: string | null;
  readonly durationMs: number | null;
}

export interface QueueEntry extends PlayableItem, TrackSummary {}

export interface QueueListing {
  /** null while there is no Qobuz session (the listing is then empty). */
  readonly version: QueueVersion | null;
  readonly shuffle: boolean;
  /** Position of the current item in play order of the whole queue; null when none (or an autoplay item plays). */
  readonly index: number | null;
  /** Items in the whole queue. */
  readonly length: number;
  /** The whole queue in play order, or the window of it that starts at `window.offset`. */
  readonly items: readonly QueueEntry[];
  /** Set when `items` is a window of a longer queue. */
  readonly window: { readonly offset: number; readonly total: number } | null;
  /** Autoplay suggestions that follow the queue's end (at most `autoplay` of the limits). */
  readonly autoplay: readonly QueueEntry[];
  /** What plays after the current item (under loop, shuffle and autoplay), or first when nothing does. */
  readonly next: QueueEntry | null;
}

/** A copy of what the session knows of its queue, taken when it changed. */
export interface QueuePicture {
  readonly version: QueueVersion | null;
  /** The queue in play order. */
  readonly order: readonly PlayableItem[];
  readonly shuffle: boolean;
  readonly autoplay: readonly PlayableItem[];
  /** The item the session plays (ours, or the active renderer's), null when none. */
  readonly current: PlayableItem | null;
  readonly next: PlayableItem | null;
}

export interface ListingLimits {
  /** Queues longer than this are listed as a window of this many items. */
  readonly items: number;
  /** How many of the window's items come before the current one. */
  readonly before: number;
  /** Autoplay suggestions listed at most. */
  readonly autoplay: number;
}

/**
 * 100 items of about 150 bytes each keep the retained payload near 15 KB whatever the queue holds;
 * 10 of them before the current item show what just played.
 */
export const LISTING_LIMITS: ListingLimits = { items: 100, before: 10, autoplay: 50 };

const UNKNOWN: TrackSummary = { title: null, artist: null, album: null, durationMs: null };

/** The listing while no Qobuz session exists. */
export const EMPTY_LISTING: QueueListing = {
  version: null,
  shuffle: false,
  index: null,
  length: 0,
  items: [],
  window: null,
  autoplay: [],
  next: null,
};

/** Where the current item is in play order, and which slice of the queue is listed. */
function listingWindow(
  p: QueuePicture,
  limits: ListingLimits = LISTING_LIMITS,
): { readonly index: number | null; readonly offset: number; readonly end: number } {
  const at = p.current ? p.order.findIndex((i) => i.queueItemId === p.current?.queueItemId) : -1;
  const index = at < 0 ? null : at;
  const total = p.order.length;
  if (total <= limits.items) return { index, offset: 0, end: total };
  const start = Math.min(Math.max(0, (index ?? 0) - limits.before), total - limits.items);
  return { index, offset: start, end: start + limits.items };
}

export function buildQueueListing(
  p: QueuePicture,
  summaryOf: (trackId: number) => TrackSummary | undefined,
  limits: ListingLimits = LISTING_LIMITS,
): QueueListing {
  const { index, offset, end } = listingWindow(p, limits);
  const entry = (i: PlayableItem): QueueEntry => ({
    queueItemId: i.queueItemId,
    trackId: i.trackId,
    ...(summaryOf(i.trackId) ?? UNKNOWN),
  });
  const windowed = offset > 0 || end < p.order.length;
  return {
    version: p.version,
    shuffle: p.shuffle,
    index,
    length: p.order.length,
    items: p.order.slice(offset, end).map(entry),
    window: windowed ? { offset, total: p.order.length } : null,
    autoplay: p.autoplay.slice(0, limits.autoplay).map(entry),
    next: p.next ? entry(p.next) : null,
  };
}

/**
 * Track ids to look up, most wanted first (issue #14: the current item and the next 20 first, the
 * rest as time allows): the current item, what comes next, the window after the current item in
 * play order, the window before it (nearest first), then the autoplay suggestions. Each track
 * once; nothing outside the listing.
 */
export function lookupOrder(p: QueuePicture, limits: ListingLimits = LISTING_LIMITS): number[] {
  const { index, offset, end } = listingWindow(p, limits);
  const from = index ?? offset - 1;
  const wanted: PlayableItem[] = [];
  if (p.current) wanted.push(p.current);
  if (p.next) wanted.push(p.next);
  wanted.push(...p.order.slice(Math.max(from + 1, offset), end));
  wanted.push(...p.order.slice(offset, Math.max(from, offset)).reverse());
  wanted.push(...p.autoplay.slice(0, limits.autoplay));
  const seen = new Set<number>();
  const out: number[] = [];
  for (const { trackId } of wanted) {
    if (trackId <= 0 || seen.has(trackId)) continue;
    seen.add(trackId);
    out.push(trackId);
  }
  return out;
}
