import { describe, expect, it } from 'vitest';
import type { ConnectRequest } from '../src/core/connect-request.js';
import type { LinkToken } from '../src/core/link-token.js';
import { handleInput, type InputContext } from '../src/session/handle-input.js';
import { InputLoop } from '../src/session/input-loop.js';
import { StepGuard } from '../src/session/loop-step.js';
import { outcomeOf, type Outcome } from '../src/session/outcome.js';
import type { Effect } from '../src/session/session-core.js';
import type { SessionInput } from '../src/session/session-input.js';
import { silent } from './support/session-harness.js';

/**
 * Issue #22, "One input type and one visible handler": every input of a player is one SessionInput,
 * enters through InputLoop.enqueue and is handled by handleInput's one switch, in a step of the loop.
 */

/**
 * What the stand-in session says of itself: a joined link, so a command passes its checks; and its
 * decisions run, so the intents' calls are seen (SessionCore.decide).
 */
const FIXED: Record<string, unknown> = {
  'core.linkState': 'joined',
  'core.decide': (fn: () => Outcome | Effect | void): Outcome => outcomeOf(fn()),
};

/** Stands for every part the handler reaches: records each call it receives, and whether a step ran then. */
function recorder(calls: string[], guard: StepGuard): (name: string) => never {
  const make = (path: string): unknown =>
    new Proxy(function part() {}, {
      // Never a thenable: a recorded value is not mistaken for a promise.
      get: (_t, prop) => {
        const at = `${path}.${String(prop)}`;
        return prop === 'then' ? undefined : at in FIXED ? FIXED[at] : make(at);
      },
      apply: () => {
        calls.push(guard.inStep ? path : `${path} OUTSIDE A STEP`);
        return make(`${path}()`);
      },
    });
  return (name) => make(name) as never;
}

/**
 * One input of every kind, and the call it must reach. The type makes this list complete: a kind
 * added to SessionInput and missing here does not compile (as handleInput's switch does not).
 */
function everyKind(part: (name: string) => never): {
  [K in SessionInput['kind']]: { input: Extract<SessionInput, { kind: K }>; reaches: string };
} {
  const token: LinkToken = { jwt: 'x.y.z', expiresAtMs: 0, endpoint: 'wss://127.0.0.1/ws' };
  return {
    start: { input: { kind: 'start' }, reaches: 'core.publishView' },
    heartbeat: { input: { kind: 'heartbeat' }, reaches: 'core.heartbeat' },
    speaker: {
      input: { kind: 'speaker', event: { name: 'queueEnded', args: [] } },
      reaches: 'core.playback.speakerQueueEnded',
    },
    link: {
      input: { kind: 'link', link: part('link'), event: { type: 'disconnected', reason: 'test' } },
      reaches: 'connection.linkEvent',
    },
    minted: { input: { kind: 'minted', token }, reaches: 'connection.openOwnLink' },
    connect: { input: { kind: 'connect', request: {} as ConnectRequest }, reaches: 'connection.connect' },
    'connect-timeout': {
      input: { kind: 'connect-timeout', candidate: part('candidate') },
      reaches: 'connection.connectTimedOut',
    },
    command: { input: { kind: 'command', command: { shuffle: true } }, reaches: 'core.apply' },
    supersede: { input: { kind: 'supersede', hold: true }, reaches: 'core.verbs.supersedePlays' },
    'observer-verb': {
      input: { kind: 'observer-verb', verb: { type: 'setPlaying', playing: false } },
      reaches: 'watch.verb',
    },
    'volume-timeout': {
      input: { kind: 'volume-timeout', n: 3 },
      reaches: 'core.playback.external.timedOut',
    },
    'queue-add': {
      input: { kind: 'queue-add', trackIds: [1, 2], next: true },
      reaches: 'core.sessionItem',
    },
    step: {
      input: { kind: 'step', what: 'a verb step', run: (core) => (core as unknown as () => void)() },
      reaches: 'core',
    },
    stop: { input: { kind: 'stop' }, reaches: 'shutdown' },
    'wait-timeout': {
      input: { kind: 'wait-timeout', waits: part('waits'), wait: {} },
      reaches: 'waits.timedOut',
    },
    'verb-timeout': {
      input: { kind: 'verb-timeout', verbs: part('pending'), key: 'k', waiter: {} },
      reaches: 'pending.timedOut',
    },
    'track-info': {
      input: { kind: 'track-info', lookup: part('lookup'), trackId: 7, info: null },
      reaches: 'lookup.arrived',
    },
    'queue-metadata': {
      input: { kind: 'queue-metadata', metadata: part('metadata'), trackId: 7, summary: null },
      reaches: 'metadata.resolved',
    },
    'queue-metadata-rate': {
      input: { kind: 'queue-metadata-rate', metadata: part('metadata'), timer: {} },
      reaches: 'metadata.rateTimer',
    },
    'queue-listing': {
      input: { kind: 'queue-listing', listing: part('listing'), timer: {} },
      reaches: 'listing.due',
    },
    'volume-refused': {
      input: { kind: 'volume-refused', volume: part('volume'), ask: 1 },
      reaches: 'volume.refusedAsk',
    },
  };
}

function contextOf(part: (name: string) => never): InputContext {
  return {
    core: part('core'),
    connection: part('connection'),
    media: part('media'),
    watch: part('watch'),
    trackIdsOf: null,
    enqueue: part('enqueue'),
    stopped: () => false,
    shutdown: part('shutdown'),
  };
}

describe('one input type and one visible handler (issue #22)', () => {
  it('hands every kind of input to the module that owns it, inside a step of the loop, and reports once after each', async () => {
    const guard = new StepGuard(true);
    const calls: string[] = [];
    const part = recorder(calls, guard);
    const ctx = contextOf(part);
    let reports = 0;
    const loop = new InputLoop({
      handle: (input) => handleInput(ctx, input),
      afterInput: () => (reports += 1),
      stopped: () => false,
      logger: silent,
      guard,
    });
    const kinds = Object.entries(everyKind(part));
    expect(kinds.length).toBe(21);
    for (const [kind, { input, reaches }] of kinds) {
      calls.length = 0;
      const before = reports;
      // Answered kinds reject when the stand-in parts make no sense to them: the call they reached is what counts here.
      await loop.enqueue(input).catch(() => undefined);
      expect(calls, kind).toContain(reaches);
      expect(
        calls.filter((c) => c.endsWith('OUTSIDE A STEP')),
        kind,
      ).toEqual([]);
      // The loop reports once per input; the last one, stop, reports nothing.
      expect(reports - before, kind).toBe(kind === 'stop' ? 0 : 1);
    }
    expect(guard.inStep).toBe(false);
  });

  it('refuses, loudly, a value that is no SessionInput kind', () => {
    const part = recorder([], new StepGuard(true));
    expect(() => handleInput(contextOf(part), { kind: 'nonsense' } as unknown as SessionInput)).toThrow(
      /unhandled session input: nonsense/,
    );
  });

  it('answers a step with what it returned, without holding the loop on a promise it returned', async () => {
    const loop = new InputLoop({
      handle: (input) => (input.kind === 'step' ? input.run({} as never) : undefined),
      afterInput: () => {},
      stopped: () => false,
      logger: silent,
    });
    let release: () => void = () => {};
    const slow = new Promise<string>((resolve) => (release = () => resolve('answered')));
    const waiting = loop.enqueue({ kind: 'step', what: 'a slow answer', run: () => slow });
    // The loop goes on with the next input while the first one's answer is still to come.
    await expect(loop.enqueue({ kind: 'step', what: 'next', run: () => 42 })).resolves.toBe(42);
    release();
    await expect(waiting).resolves.toBe('answered');
  });

  it('drops the inputs from outside once the session stopped, and still runs the timers and answers', async () => {
    const handled: string[] = [];
    const loop = new InputLoop({
      handle: (input) => void handled.push(input.kind),
      afterInput: () => {},
      stopped: () => true,
      logger: silent,
    });
    await loop.enqueue({ kind: 'heartbeat' });
    await loop.enqueue({ kind: 'volume-timeout', n: 1 });
    await loop.enqueue({ kind: 'verb-timeout', verbs: { timedOut: () => {} }, key: 'k', waiter: {} });
    await loop.enqueue({ kind: 'step', what: 'a verb step', run: () => undefined });
    expect(handled).toEqual(['verb-timeout', 'step']);
  });
});
