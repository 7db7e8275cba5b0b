import { describe, expect, it } from 'vitest';
import { PendingActions } from '../src/session/pending-actions.js';
import { QcbError } from '../src/core/qcb-error.js';
import { decodeFrames, messagesOf } from '../src/protocol/frame-codec.js';
import { FrameWriter } from '../src/protocol/frame-writer.js';
import { loadQueue, newActionUuid } from '../src/protocol/controller-messages.js';

describe('controller verbs waiting for the service (docs/protocol.md §8)', () => {
  it('resolves on the answer naming its uuid, rejects on a refusal, ignores other uuids', async () => {
    const p = new PendingActions();
    const a = newActionUuid();
    const b = newActionUuid();
    const answered = p.expect(a, 'the add', 5000);
    const refused = p.expect(b, 'the clear', 5000);
    p.answered(newActionUuid());
    p.answered(null);
    expect(p.size).toBe(2);
    p.answered(Uint8Array.from(a));
    p.refused(b, 'Queue version mismatch');
    await expect(answered).resolves.toBeUndefined();
    await expect(refused).rejects.toMatchObject({
      code: 'ERR_QOBUZ_REFUSED',
      message: expect.stringContaining('Queue version mismatch'),
    });
    expect(p.size).toBe(0);
  });

  it('times out with ERR_TIMEOUT and fails everything when the link ends', async () => {
    const p = new PendingActions();
    const late = p.expect(newActionUuid(), 'the load', 20);
    await expect(late).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    const waiting = p.expect(newActionUuid(), 'the load', 5000);
    p.failAll(new QcbError('ERR_SESSION_CLOSED', 'gone'));
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_SESSION_CLOSED' });
    expect(p.size).toBe(0);
  });

  it('lets a verb with no action uuid (a jump, issue #14) wait under a key of its own, several commands for one key', async () => {
    const p = new PendingActions();
    const first = p.expect('jump:3', 'the jump', 5000);
    const second = p.expect('jump:3', 'the jump', 5000);
    const short = p.expect('jump:3', 'the jump', 20);
    await expect(short).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(p.size).toBe(2);
    expect(p.answered('jump:4')).toBe(false);
    expect(p.answered('jump:3')).toBe(true);
    await expect(Promise.all([first, second])).resolves.toEqual([undefined, undefined]);
    expect(p.size).toBe(0);
    expect(p.answered('jump:3')).toBe(false);
  });

  it('sends 66 with shuffle pivot 0 and shuffle mode false present on the wire', () => {
    const writer = new FrameWriter(() => 1_700_000_000_000);
    const frame = decodeFrames(
      writer.payload([loadQueue({ major: 3, minor: 1 }, newActionUuid(), [11, 12])]),
    )[0];
    if (frame?.type !== 'PAYLOAD') throw new Error(`expected PAYLOAD, got ${frame?.type}`);
    const [msg] = messagesOf(frame.body);
    expect(msg?.type).toBe(66);
    const body = msg?.type === 66 ? msg.body : null;
    expect(body?.track_ids).toEqual([11, 12]);
    expect(body?.shuffle_pivot_index).toBe(0);
    expect(body?.shuffle_mode).toBe(false);
    expect(Object.prototype.hasOwnProperty.call(body, 'shuffle_pivot_index')).toBe(true);
  });
});
