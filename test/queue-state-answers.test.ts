import { describe, expect, it } from 'vitest';
import { QueueStateAnswers } from '../src/session/queue/queue-state-answers.js';
import { askForQueueState, askForRendererState } from '../src/protocol/renderer-messages.js';

/**
 * Issue #21 (docs/protocol.md "Unknowns"): the 90s on a link answer our 76s on it in order,
 * whether or not the service echoes the 76's action uuid.
 */
const uuid = (n: number) => Uint8Array.from({ length: 16 }, () => n);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('which 76 a 90 answers (issue #21)', () => {
  it("pairs 90s without an echo with our 76s oldest first, so a join's earlier 76 never answers a later verb", () => {
    const a = new QueueStateAnswers();
    a.sent([askForQueueState(null), askForRendererState(-1)]); // the join's 76, no uuid
    a.sent([askForRendererState(-1), askForQueueState(null, uuid(7))]); // transfer's 77 + 76
    expect(a.arrived(null)).toBeNull(); // answers the join's 76
    expect(a.arrived(undefined)).toBe(hex(uuid(7))); // the next answers transfer's
    expect(a.arrived(null)).toBeNull(); // nothing of ours left
  });

  it('takes an echo as naming its 76, and every older one as answered before it', () => {
    const a = new QueueStateAnswers();
    a.sent([askForQueueState(null, uuid(1))]);
    a.sent([askForQueueState(null, uuid(2))]);
    a.sent([askForQueueState(null, uuid(3))]);
    expect(a.arrived(uuid(2))).toBe(hex(uuid(2)));
    expect(a.arrived(uuid(9))).toBe(hex(uuid(3))); // an echo of nothing of ours: the oldest left
    expect(a.arrived(uuid(3))).toBeNull();
  });

  it('forgets everything on reset (a new link), and holds at most 64 unanswered 76s', () => {
    const a = new QueueStateAnswers();
    a.sent([askForQueueState(null, uuid(1))]);
    a.reset();
    expect(a.arrived(null)).toBeNull();
    for (let i = 0; i < 70; i += 1) a.sent([askForQueueState(null, uuid(i))]);
    expect(a.arrived(null)).toBe(hex(uuid(6)));
  });
});
