import { afterEach, describe, expect, it } from 'vitest';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { startPlaying, type Harness } from './support/session-harness.js';

/**
 * Issue #23 (docs/protocol.md §9.4): the speaker keeps the previous Qobuz item, and another client's
 * move back to it becomes one 24 PREVIOUS, the service's answer taken as the speaker plays it.
 */
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const PREVIOUS = qconnect.RndrSrvrRendererAction.ActionType.PREVIOUS;
/** Recorded bodies carry enums by name. */
const isState = (v: unknown, name: 'PLAYING' | 'PAUSED') => v === name || v === qconnect.PlayingState[name];

const previouses = (h: Harness, after: number) =>
  h.sim.sentOfType(h.rendererId, 24).filter((m) => m.index > after && m.body.action === PREVIOUS);

describe('the previous item at the speaker (issue #23)', () => {
  it('gives the speaker the item before the current one, and follows loop and shuffle for it', async () => {
    h = await startPlaying({ index: 1 });
    expect(h.player.previous?.queueItemId).toBe(0);
    expect(h.player.next?.queueItemId).toBe(2);
    h.sim.jump(0, { playing: true });
    await h.sim.waitFor(() => h!.player.current?.queueItemId === 0, { what: 'first item' });
    expect(h.player.previous).toBeNull();
    h.sim.setLoop('REPEAT_ALL');
    await h.sim.waitFor(() => h!.player.previous?.queueItemId === 2, { what: 'the last item before the first with REPEAT_ALL' });
    // A gapless change: the finished item is the previous one.
    h.player.finishTrack();
    await h.sim.waitFor(() => h!.player.current?.queueItemId === 1, { what: 'item 1' });
    expect(h.player.previous?.queueItemId).toBe(0);
  });

  it('sends one PREVIOUS when another client moves back, reports the item before it first, and takes the answer without loading it again', async () => {
    h = await startPlaying({ index: 1 });
    const from = h.sim.sent(h.rendererId).length - 1;
    const loadsBefore = h.player.calls.filter((c) => c.op === 'load').length;
    const deliveredBefore = h.sim.delivered(h.rendererId).length;
    h.player.movedBack();
    await h.sim.waitFor(() => (previouses(h!, from).length === 1 ? true : undefined), { what: 'PREVIOUS' });
    const previousAt = previouses(h, from)[0]!.index;
    // Our report of item 0 comes after the PREVIOUS, so the service moves from item 1.
    const report = await h.sim.waitForMessage(h.rendererId, 23, {
      after: from,
      where: (b) => !!b.state && (b.state.current_queue_item_id ?? 0) === 0 && isState(b.state.playing_state, 'PLAYING'),
    });
    expect(report.index).toBeGreaterThan(previousAt);
    // The simulated service answers with a 41 naming item 0: taken as it plays.
    await h.sim.waitFor(
      () => h!.sim.deliveredOfType(h!.rendererId, 41).some((m) => m.index >= deliveredBefore && !!m.body.current_track && (m.body.current_track.queue_item_id ?? 0) === 0) || undefined,
      { what: 'the 41 answering the PREVIOUS' },
    );
    // The session takes inputs in order: once a later pause is answered, the 41 was handled.
    const paused = h.sim.sent(h.rendererId).length - 1;
    h.sim.pause();
    await h.sim.waitForMessage(h.rendererId, 23, { after: paused, where: (b) => isState(b.state?.playing_state, 'PAUSED') });
    expect(h.player.calls.filter((c) => c.op === 'load').length).toBe(loadsBefore);
    expect(h.player.current?.queueItemId).toBe(0);
    expect(h.player.next?.queueItemId).toBe(1);
    expect(previouses(h, from)).toHaveLength(1);
  });

  it('sends no PREVIOUS when the track change before the move back never reached the session (next, then previous at once)', async () => {
    h = await startPlaying({ index: 1 });
    const from = h.sim.sent(h.rendererId).length - 1;
    // Both in one tick: the session reads the speaker already back on item 1 when it takes the change.
    h.player.finishTrack();
    h.player.movedBack();
    expect(h.player.previous).toBeNull();
    await h.sim.waitFor(() => (h!.player.previous?.queueItemId === 0 ? true : undefined), { what: 'item 0 given back as previous' });
    const paused = h.sim.sent(h.rendererId).length - 1;
    h.sim.pause();
    await h.sim.waitForMessage(h.rendererId, 23, { after: paused, where: (b) => isState(b.state?.playing_state, 'PAUSED') });
    expect(previouses(h, from)).toHaveLength(0);
    expect(h.sim.sentOfType(h.rendererId, 23).filter((m) => m.index > from).every((m) => m.body.state?.current_queue_item_id === 1)).toBe(true);
    expect(h.sim.queue().currentQueueItemId).toBe(1);
  });
});
