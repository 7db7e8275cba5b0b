import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { AccountSessionView } from '../src/core/account-session-view.js';
import type { TrackInfo } from '../src/core/player-view.js';
import { AccountSession } from '../src/session/account/account-session.js';
import { SessionRoster } from '../src/session/account/session-roster.js';
import { SessionCore } from '../src/session/session-core.js';
import { StepGuard, stepGuardWanted, type EnqueueStep } from '../src/session/loop-step.js';
import { PendingActions } from '../src/session/pending-actions.js';
import { TrackInfoLookup } from '../src/session/playback/track-info-lookup.js';
import { MemoryPlayer } from './support/memory-player.js';
import { deviceInfoFor, silent } from './support/session-harness.js';

/** docs/architecture.md "One owner per player": no session state is written outside a step of the loop. */

function core(guard: StepGuard): SessionCore {
  return new SessionCore({
    playerId: 'living_room',
    device: deviceInfoFor('11f97d04-519d-59a5-a42a-544a6f891472', 'Living Room'),
    joinMode: 'controller',
    maxAudioQuality: 4,
    player: new MemoryPlayer(),
    publisher: null,
    trackInfo: null,
    onQueueItems: null,
    logger: silent,
    now: Date.now,
    guard,
  });
}

/** A loop that only collects what is queued, so a test says when each step runs. */
function collectingLoop(): { step: EnqueueStep; queued: Array<{ what: string; fn: () => void }> } {
  const queued: Array<{ what: string; fn: () => void }> = [];
  return { step: (what, fn) => queued.push({ what, fn }), queued };
}

describe('session state is written only inside a loop step (issue #22)', () => {
  it('is checked whenever the tests run, and off in production unless asked for', () => {
    expect(new StepGuard().enabled).toBe(true);
    expect(stepGuardWanted({})).toBe(false);
    expect(stepGuardWanted({ QCB_STEP_GUARD: '1' })).toBe(true);
  });

  it('catches a write to SessionCore outside a step, and lets the same write through inside one', () => {
    const guard = new StepGuard(true);
    const c = core(guard);
    expect(() => c.publishView()).toThrow(/outside a loop step: publishView/);
    expect(() => c.linkDown()).toThrow(/outside a loop step: linkDown/);
    expect(() => c.activation.request()).toThrow(/outside a loop step: activation/);
    expect(() => c.queueUpdates.setRepeat('all')).toThrow(/outside a loop step: queueUpdates/);
    expect(() => c.playback.setPlaying(true)).toThrow(/outside a loop step: playback/);
    expect(() => guard.run(() => c.publishView())).not.toThrow();
    expect(guard.run(() => c.queueUpdates.setRepeat('all'))).toBeNull();
    expect(c.queue.repeat).toBe('all');
    // Reads stay open: the HTTP routes and the MQTT view read from outside.
    expect(c.view().state).toBeDefined();
    expect(c.effectiveMaxQuality).toBe(4);
  });

  it('brings a late track-info answer back to the loop as a step, not from its promise', async () => {
    const { step, queued } = collectingLoop();
    const info = { title: 'Blue in Green', artist: 'Miles Davis' } as TrackInfo;
    const answer = Promise.resolve(info);
    const lookup = new TrackInfoLookup(() => answer, silent, step);
    let arrived = 0;
    lookup.fetch(
      { queueItemId: 1, trackId: 42 },
      () => true,
      () => (arrived += 1),
    );
    await answer; // the lookup's own callback, registered first, has run
    expect(lookup.track).toBeNull();
    expect(queued.map((q) => q.what)).toEqual(['track info']);
    queued[0]!.fn();
    expect(lookup.track).toBe(info);
    expect(arrived).toBe(1);
  });

  it('times a controller verb out in a step of the loop, and not at all when it was answered before that step', async () => {
    vi.useFakeTimers();
    try {
      const { step, queued } = collectingLoop();
      const pending = new PendingActions(step);
      const late = pending.expect('verb-a', 'queue_add', 5000);
      const answered = pending.expect('verb-b', 'queue_clear', 5000);
      vi.advanceTimersByTime(5001);
      // Both timers fired, but nothing changed yet: the timeouts wait for their steps.
      expect(queued.map((q) => q.what)).toEqual(['verb timeout', 'verb timeout']);
      expect(pending.size).toBe(2);
      expect(pending.answered('verb-b')).toBe(true);
      for (const q of queued) q.fn();
      await expect(answered).resolves.toBeUndefined();
      await expect(late).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
      expect(pending.size).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('catches a write to the account view outside a step of its loop, and lets the same write through inside one', () => {
    const guard = new StepGuard(true);
    const roster = new SessionRoster(guard);
    const phone = { rendererId: 101, name: 'Phone', deviceUuid: '', type: 'smartphone' };
    expect(() => roster.added(phone)).toThrow(/outside a loop step: account roster added/);
    expect(() => roster.setActive(101)).toThrow(/outside a loop step: account roster setActive/);
    expect(() => roster.setLink({ sessionId: 'S', ownRendererId: 100, own: true })).toThrow(/account roster setLink/);
    expect(roster.renderers.size).toBe(0);
    guard.run(() => roster.added(phone));
    expect([...roster.renderers.keys()]).toEqual([101]);
  });

  it("handles AccountSession's facts in steps, and times its command's wait out in a step of its loop too", async () => {
    vi.useFakeTimers();
    try {
      const guard = new StepGuard(true);
      const logger = pino({ level: 'silent' });
      const failed = vi.spyOn(logger, 'warn');
      const published: AccountSessionView[] = [];
      const owner = new AccountSession({
        players: [{ id: 'a', uuid: 'aaaaaaaa-0000-4000-8000-000000000001' }],
        publisher: () => ({ publishSessionState: (v) => void published.push(v), publishSessionEvent: () => undefined }),
        trackInfo: null,
        logger,
        stepTimeoutMs: 5000,
        guard,
      });
      const sent: number[] = [];
      owner.attach('a', { setActiveRenderer: async (r) => void sent.push(r), setPlaying: async () => undefined });
      owner.rendererAdded('a', { rendererId: 100, name: 'A', deviceUuid: '', type: 'speaker' });
      owner.rendererAdded('a', { rendererId: 101, name: 'Phone', deviceUuid: '', type: 'smartphone' });
      owner.link('a', { sessionId: 'S', ownRendererId: 100, own: true });
      // Every write asserted a step: none threw, so the view shows the session.
      await vi.waitFor(() => expect(published.at(-1)?.devices.map((d) => d.name)).toEqual(['A', 'Phone']));
      expect(failed).not.toHaveBeenCalled();
      const steps = vi.spyOn(guard, 'run');
      const moved = owner.command({ playOn: 'Phone' }).then(
        () => 'answered',
        (err: unknown) => err,
      );
      // The plan, then (once the verb left) the wait's registration: two steps, the service silent.
      await vi.waitFor(() => expect(sent).toEqual([101]));
      await vi.waitFor(() => expect(steps).toHaveBeenCalledTimes(2));
      await vi.advanceTimersByTimeAsync(5001);
      // The timeout was one more step of the loop, not a write from the timer's callback.
      expect(steps).toHaveBeenCalledTimes(3);
      await expect(moved).resolves.toMatchObject({ code: 'ERR_TIMEOUT' });
    } finally {
      vi.useRealTimers();
    }
  });

  it("brings a track's metadata back to AccountSession's loop as a step, not from its promise", async () => {
    const guard = new StepGuard(true);
    const published: AccountSessionView[] = [];
    let answer: (info: TrackInfo) => void = () => undefined;
    const owner = new AccountSession({
      players: [{ id: 'a', uuid: 'aaaaaaaa-0000-4000-8000-000000000001' }],
      publisher: () => ({ publishSessionState: (v) => void published.push(v), publishSessionEvent: () => undefined }),
      trackInfo: () => new Promise<TrackInfo>((resolve) => (answer = resolve)),
      logger: silent,
      guard,
    });
    owner.rendererAdded('a', { rendererId: 101, name: 'Phone', deviceUuid: '', type: 'smartphone' });
    owner.activeChanged('a', 101);
    const playing = { status: 'playing' as const, positionMs: 0, atMs: 1, durationMs: null, queueItemId: 7, trackId: 42 };
    owner.rendererState('a', 101, playing, true);
    owner.link('a', { sessionId: 'S', ownRendererId: 100, own: true });
    await vi.waitFor(() => expect(published.at(-1)?.active).toMatchObject({ name: 'Phone', track: null }));
    const steps = vi.spyOn(guard, 'run');
    answer({ title: 'Blue in Green', artist: 'Miles Davis' } as TrackInfo);
    await vi.waitFor(() => expect(published.at(-1)?.active?.track?.title).toBe('Blue in Green'));
    expect(steps).toHaveBeenCalledTimes(1);
  });
});
