import { describe, expect, it } from 'vitest';
import { QueueMirror } from '../src/core/queue-mirror.js';

const items = (...ids: number[]) => ids.map((id) => ({ queueItemId: id, trackId: 1000 + id }));
const v = (major: number, minor = 0) => ({ major, minor });
const ids = (list: readonly { queueItemId: number }[]) => list.map((i) => i.queueItemId);

function withAutoplay(on = true): QueueMirror {
  const m = new QueueMirror();
  m.applySnapshot({
    version: v(1),
    items: items(0, 1),
    shuffle: false,
    shuffledIndexes: [],
    autoplayOn: on,
    autoplay: items(50, 51),
  });
  return m;
}

describe('autoplay in the queue mirror (issue #12, docs/protocol.md §6)', () => {
  it('plays on from the queue end into the suggestions, one after the other, only when autoplay is on', () => {
    const m = withAutoplay();
    expect(m.next(1)?.queueItemId).toBe(50);
    expect(m.next(50)?.queueItemId).toBe(51);
    expect(m.next(51)).toBeNull();
    expect(m.find(51)?.trackId).toBe(1051);
    expect(m.previous(50)?.queueItemId).toBe(1);
    expect(withAutoplay(false).next(1)).toBeNull();
  });

  it('keeps loop modes on the queue itself: repeat all wraps to the start, repeat one stays', () => {
    const m = withAutoplay();
    m.setRepeat('all');
    expect(m.next(1)?.queueItemId).toBe(0);
    m.setRepeat('one');
    expect(m.next(1)?.queueItemId).toBe(1);
  });

  it('applies 102-104: mode, loaded suggestions (no duplicates), removed ones; a reset or off clears them', () => {
    const m = withAutoplay();
    m.applyAutoplay({ kind: 'loaded', items: items(51, 52) });
    expect(ids(m.autoplay)).toEqual([50, 51, 52]);
    m.applyAutoplay({ kind: 'removed', queueItemIds: [51] });
    expect(ids(m.autoplay)).toEqual([50, 52]);
    expect(m.next(50)?.queueItemId).toBe(52);
    m.applyAutoplay({ kind: 'mode', on: true, reset: true });
    expect(m.autoplay).toEqual([]);
    m.applyAutoplay({ kind: 'loaded', items: items(60) });
    m.applyAutoplay({ kind: 'mode', on: false, reset: false });
    expect(m.autoplayOn).toBe(false);
    expect(m.next(1)).toBeNull();
  });

  it('moves suggestions into the queue on 105, in order, checking the version like any delta', () => {
    const m = withAutoplay();
    expect(m.applyDelta({ kind: 'fromAutoplay', version: v(1, 1), queueItemIds: [50] })).toBe('applied');
    expect(ids(m.items)).toEqual([0, 1, 50]);
    expect(ids(m.autoplay)).toEqual([51]);
    expect(m.next(50)?.queueItemId).toBe(51);
    expect(m.applyDelta({ kind: 'fromAutoplay', version: v(1, 1), queueItemIds: [51] })).toBe('stale');
    expect(ids(m.autoplay)).toEqual([51]);
  });

  it('forgets suggestions on a queue clear, a load with autoplay_reset and a reset', () => {
    const m = withAutoplay();
    m.applyDelta({ kind: 'loaded', version: v(1, 1), items: items(7), shuffle: null, autoplayReset: false });
    expect(ids(m.autoplay)).toEqual([50, 51]);
    m.applyDelta({ kind: 'loaded', version: v(1, 2), items: items(8), shuffle: null, autoplayReset: true });
    expect(m.autoplay).toEqual([]);
    const n = withAutoplay();
    n.applyDelta({ kind: 'cleared', version: v(1, 1) });
    expect(n.autoplay).toEqual([]);
    const r = withAutoplay();
    r.reset();
    expect(r.autoplayOn).toBe(false);
    expect(r.autoplay).toEqual([]);
  });
});
