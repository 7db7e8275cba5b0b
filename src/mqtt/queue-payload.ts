/**
 * Pure mapping from the core's QueueListing to the JSON of `B/<player>/queue` (README "MQTT
 * topics", issue #14). The wire spelling (snake_case) lives here only; key order is fixed so that
 * identical listings give identical bytes and are not published twice.
 */
import type { QueueEntry, QueueListing } from '../core/queue-listing.js';

interface QueueEntryPayload {
  queue_item_id: number;
  track_id: number;
  title: string | null;
  artist: string | null;
  album: string | null;
  duration_ms: number | null;
}

export interface QueuePayload {
  version: { major: number; minor: number } | null;
  shuffle: boolean;
  index: number | null;
  length: number;
  items: QueueEntryPayload[];
  window: { offset: number; total: number } | null;
  autoplay: QueueEntryPayload[];
  next: QueueEntryPayload | null;
}

const entry = (e: QueueEntry): QueueEntryPayload => ({
  queue_item_id: e.queueItemId,
  track_id: e.trackId,
  title: e.title,
  artist: e.artist,
  album: e.album,
  duration_ms: e.durationMs,
});

export function toQueuePayload(l: QueueListing): QueuePayload {
  return {
    version: l.version ? { major: l.version.major, minor: l.version.minor } : null,
    shuffle: l.shuffle,
    index: l.index,
    length: l.length,
    items: l.items.map(entry),
    window: l.window ? { offset: l.window.offset, total: l.window.total } : null,
    autoplay: l.autoplay.map(entry),
    next: l.next ? entry(l.next) : null,
  };
}
