import { describe, expect, it } from 'vitest';
import { QueueMirror } from '../src/core/queue-mirror.js';

const items = (...ids: number[]) => ids.map((id) => ({ queueItemId: id, trackId: 1000 + id }));
const v = (major: number, minor = 0) => ({ major, minor });

function mirrorOf(ids: number[], opts: { shuffled?: number[] } = {}): QueueMirror {
  const m = new QueueMirror();
  m.applySnapshot({ version: v(1), items: items(...ids), shuffle: opts.shuffled !== undefined, shuffledIndexes: opts.shuffled ?? [] });
  return m;
}

describe('the queue mirror (issue #4, docs/protocol.md §6)', () => {
  it('answers what follows with loop off, one and all', () => {
    const m = mirrorOf([0, 1, 2]);
    expect(m.next(0)?.queueItemId).toBe(1);
    expect(m.next(2)).toBeNull();
    m.setRepeat('one');
    expect(m.next(1)?.queueItemId).toBe(1);
    m.setRepeat('all');
    expect(m.next(2)?.queueItemId).toBe(0);
    expect(m.previous(0)?.queueItemId).toBe(2);
  });

  it('plays in the service shuffled order when shuffle is on', () => {
    const m = mirrorOf([0, 1, 2, 3], { shuffled: [2, 0, 3, 1] });
    expect(m.playOrder().map((i) => i.queueItemId)).toEqual([2, 0, 3, 1]);
    expect(m.next(2)?.queueItemId).toBe(0);
    expect(m.next(1)).toBeNull();
    expect(m.indexInPlayOrder(3)).toBe(2);
  });

  it('applies each delta type that follows its version', () => {
    const m = mirrorOf([0, 1, 2]);
    expect(m.applyDelta({ kind: 'added', version: v(1, 1), items: items(3) })).toBe('applied');
    expect(m.applyDelta({ kind: 'inserted', version: v(1, 2), items: items(9), afterQueueItemId: 0 })).toBe('applied');
    expect(m.items.map((i) => i.queueItemId)).toEqual([0, 9, 1, 2, 3]);
    expect(m.applyDelta({ kind: 'inserted', version: v(1, 3), items: items(8), afterQueueItemId: -1 })).toBe('applied');
    expect(m.items.map((i) => i.queueItemId)).toEqual([8, 0, 9, 1, 2, 3]);
    expect(m.applyDelta({ kind: 'removed', version: v(1, 4), queueItemIds: [9, 2] })).toBe('applied');
    expect(m.items.map((i) => i.queueItemId)).toEqual([8, 0, 1, 3]);
    expect(m.applyDelta({ kind: 'reordered', version: v(1, 5), queueItemIds: [8], afterQueueItemId: 3 })).toBe('applied');
    expect(m.items.map((i) => i.queueItemId)).toEqual([0, 1, 3, 8]);
    expect(m.applyDelta({ kind: 'reordered', version: v(1, 6), queueItemIds: [3, 1], afterQueueItemId: -1 })).toBe('applied');
    expect(m.items.map((i) => i.queueItemId)).toEqual([3, 1, 0, 8]);
    expect(m.applyDelta({ kind: 'loaded', version: v(2, 0), items: items(5, 6), shuffle: false })).toBe('applied');
    expect(m.items.map((i) => i.queueItemId)).toEqual([5, 6]);
    expect(m.applyDelta({ kind: 'cleared', version: v(3, 0) })).toBe('applied');
    expect(m.items).toHaveLength(0);
    expect(m.version).toEqual(v(3, 0));
  });

  it('ignores a stale delta and asks for a resync after a gap or without a snapshot', () => {
    const m = mirrorOf([0, 1]);
    expect(m.applyDelta({ kind: 'added', version: v(1, 0), items: items(7) })).toBe('stale');
    expect(m.items).toHaveLength(2);
    expect(m.applyDelta({ kind: 'added', version: v(1, 3), items: items(7) })).toBe('resync');
    expect(new QueueMirror().applyDelta({ kind: 'cleared', version: v(1) })).toBe('resync');
  });

  it('asks for the service order when shuffle turns on or the shuffled queue changes', () => {
    const m = mirrorOf([0, 1, 2]);
    expect(m.applyDelta({ kind: 'shuffle', version: v(1, 1), shuffle: true })).toBe('resync');
    m.applySnapshot({ version: v(1, 1), items: items(0, 1, 2), shuffle: true, shuffledIndexes: [1, 2, 0] });
    expect(m.applyDelta({ kind: 'added', version: v(1, 2), items: items(3) })).toBe('resync');
    expect(m.playOrder().map((i) => i.queueItemId)).toEqual([0, 1, 2, 3]);
  });
});
