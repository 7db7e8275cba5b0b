import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { QueueMetadata } from '../src/session/queue/queue-metadata.js';
import { QueuePublisher } from '../src/session/queue/queue-publisher.js';
import type { PlayableItem } from '../src/core/player.js';
import type { TrackInfo } from '../src/core/player-view.js';
import {
  buildQueueListing,
  EMPTY_LISTING,
  lookupOrder,
  type QueueListing,
  type QueuePicture,
} from '../src/core/queue-listing.js';

/** Issue #14: the queue on MQTT, bounded (a window of a long queue) and looked up lazily at a few REST calls per second. */

const silent = pino({ level: 'silent' });
const items = (n: number, from = 0): PlayableItem[] =>
  Array.from({ length: n }, (_, i) => ({ queueItemId: from + i, trackId: 1000 + from + i }));
const picture = (order: PlayableItem[], currentAt: number | null, o: Partial<QueuePicture> = {}): QueuePicture => ({
  version: { major: 1, minor: 0 },
  order,
  shuffle: false,
  autoplay: [],
  current: currentAt === null ? null : (order[currentAt] ?? null),
  next: currentAt === null ? (order[0] ?? null) : (order[currentAt + 1] ?? null),
  ...o,
});
const info = (trackId: number): TrackInfo => ({
  id: trackId,
  title: `Title ${trackId}`,
  artist: 'Artist',
  album: 'Album',
  coverUrl: null,
  durationMs: 1000,
  sampleRateHz: null,
  bitDepth: null,
});

describe('the queue listing (issue #14)', () => {
  it('lists a short queue whole, in play order, with the current index, the next item and what is known of each track', () => {
    const p = picture(items(5), 2, { autoplay: items(2, 50) });
    const l = buildQueueListing(p, (id) => (id === 1003 ? { title: 'Known', artist: 'A', album: 'B', durationMs: 5 } : undefined));
    expect(l.window).toBeNull();
    expect(l.index).toBe(2);
    expect(l.length).toBe(5);
    expect(l.items.map((i) => i.queueItemId)).toEqual([0, 1, 2, 3, 4]);
    expect(l.next).toMatchObject({ queueItemId: 3, trackId: 1003, title: 'Known', artist: 'A' });
    expect(l.items[0]).toEqual({ queueItemId: 0, trackId: 1000, title: null, artist: null, album: null, durationMs: null });
    expect(l.autoplay.map((i) => i.queueItemId)).toEqual([50, 51]);
  });

  it('lists a 2 000-item queue as a window of 100 around the current item and says so', () => {
    const order = items(2000);
    const middle = buildQueueListing(picture(order, 1500), () => undefined);
    expect(middle.items).toHaveLength(100);
    expect(middle.window).toEqual({ offset: 1490, total: 2000 });
    expect(middle.index).toBe(1500);
    expect(middle.items[middle.index! - middle.window!.offset]?.queueItemId).toBe(1500);
    expect(buildQueueListing(picture(order, 3), () => undefined).window).toEqual({ offset: 0, total: 2000 });
    expect(buildQueueListing(picture(order, 1999), () => undefined).window).toEqual({ offset: 1900, total: 2000 });
    expect(buildQueueListing(picture(order, null), () => undefined).window).toEqual({ offset: 0, total: 2000 });
  });

  it('looks up the current track first, then the next, the window ahead, the window behind (nearest first), then autoplay, each track once', () => {
    const order = [...items(30), { queueItemId: 30, trackId: 1005 }];
    const p = picture(order, 5, { autoplay: items(2, 90) });
    const wanted = lookupOrder(p);
    expect(wanted.slice(0, 4)).toEqual([1005, 1006, 1007, 1008]);
    expect(wanted.slice(25, 30)).toEqual([1004, 1003, 1002, 1001, 1000]);
    expect(wanted.slice(-2)).toEqual([1090, 1091]);
    expect(new Set(wanted).size).toBe(wanted.length);
    // A long queue: only the window is ever looked up.
    expect(lookupOrder(picture(items(2000), 1000))).toHaveLength(100);
  });
});

describe('lazy, bounded metadata lookups (issue #14)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('starts at most perSecond lookups in any second and concurrency at a time, most wanted first', async () => {
    const calls: number[] = [];
    let resolved = 0;
    const m = new QueueMetadata({
      lookup: async (id) => {
        calls.push(id);
        return info(id);
      },
      rate: { perSecond: 4, concurrency: 2 },
      onResolved: () => void (resolved += 1),
      logger: silent,
    });
    m.want(Array.from({ length: 100 }, (_, i) => 1000 + i));
    expect(calls).toEqual([1000, 1001]);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(990);
    expect(calls).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(20);
    expect(calls).toHaveLength(8);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls.length).toBeLessThanOrEqual(4 * 11 + 4);
    expect(calls).toEqual([...calls].sort((a, b) => a - b));
    expect(m.summary(1000)).toMatchObject({ title: 'Title 1000', artist: 'Artist' });
    expect(resolved).toBe(calls.length);
    // A new wish replaces the old one; known tracks are not asked for again.
    const before = calls.length;
    m.want([1000, 1001, 5000]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls.slice(before)).toEqual([5000]);
    m.stop();
  });

  it('never asks again for a track Qobuz did not describe, and shows it as unknown', async () => {
    const calls: number[] = [];
    const m = new QueueMetadata({
      lookup: async (id) => {
        calls.push(id);
        if (id === 1) throw new Error('HTTP 404');
        return null;
      },
      onResolved: () => {},
      logger: silent,
    });
    m.want([1, 2]);
    await vi.advanceTimersByTimeAsync(10);
    m.want([1, 2]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls).toEqual([1, 2]);
    expect(m.summary(1)).toBeUndefined();
  });
});

describe('publishing the listing (issue #14)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('publishes a burst of changes once, titles found meanwhile in batches, and an empty listing when the session ends', async () => {
    const published: QueueListing[] = [];
    const q = new QueuePublisher({
      playerId: 'p',
      publisher: {
        publishState: () => {},
        publishEvent: () => {},
        publishAvailability: () => {},
        publishQueue: (_id, l) => void published.push(l),
      },
      trackInfo: async (id) => info(id),
      logger: silent,
      tuning: { rate: { perSecond: 10, concurrency: 2 }, settleMs: 100, batchMs: 1000 },
    });
    const order = items(30);
    for (let at = 0; at < 5; at += 1) {
      q.queueChanged();
      q.update({ inSession: true, current: order[at]!, next: order[at + 1]! }, () => ({ version: { major: 1, minor: at }, order, shuffle: false, autoplay: [] }));
    }
    // Nothing changed: a position update costs no copy and no publish.
    let read = 0;
    q.update({ inSession: true, current: order[4]!, next: order[5]! }, () => {
      read += 1;
      return { version: null, order: [], shuffle: false, autoplay: [] };
    });
    expect(read).toBe(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ index: 4, version: { major: 1, minor: 4 } });
    await vi.advanceTimersByTimeAsync(3100);
    // 30 titles at 10 per second: a few batched publishes, not one per title.
    expect(published.length).toBeGreaterThanOrEqual(3);
    expect(published.length).toBeLessThanOrEqual(5);
    expect(published.at(-1)!.items.every((i) => i.title !== null)).toBe(true);
    q.update({ inSession: false, current: null, next: null }, () => ({ version: null, order: [], shuffle: false, autoplay: [] }));
    await vi.advanceTimersByTimeAsync(100);
    expect(published.at(-1)).toEqual(EMPTY_LISTING);
    q.stop();
  });
});
