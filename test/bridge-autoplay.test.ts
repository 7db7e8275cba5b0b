import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import { mpdHolds } from './support/mpd-window.js';
import { PLAYING, type SimSession } from './support/qconnect-service.js';

/**
 * Issue #12: when the queue ends with autoplay on, the speaker plays on into the suggestions
 * gaplessly, in the same MPD window, reporting their queue item ids; loop modes still apply to
 * the queue itself (docs/protocol.md §6 "Autoplay").
 */
let h: BridgeHarness;
let sim: SimSession;
let rendererId: number;
/**
 * The second track is long: the loop-mode scenario changes MPD's window five times while it plays,
 * which must all land before it ends, also on a loaded machine. The gapless scenario starts it
 * 1.5 s before its end.
 */
const SECOND_S = 30;

beforeAll(async () => {
  h = await startBridgeHarness({ trackSeconds: [3, SECOND_S, 3, 3] });
  ({ sim, rendererId } = await h.connectApp());
}, 60_000);
afterAll(async () => h?.close());

describe('autoplay after the queue ends (issue #12)', () => {
  it('plays gaplessly into the suggestions, reports their ids, and follows them as the service moves them into the queue', async () => {
    const [a, b, c, d] = h.trackIds as [number, number, number, number];
    sim.loadQueue([a, b]);
    sim.setLoop('OFF');
    sim.setAutoplay(true);
    const [first, second] = sim.loadAutoplay([c, d]) as [number, number];
    sim.jump(1, { playing: true, positionMs: SECOND_S * 1000 - 1500 });
    // The first suggestion waits in MPD's window behind the queue's last item (the item before it ahead, issue #23).
    await mpdHolds(h, [0, 1, first]);
    const reported = await sim.waitFor(
      () => {
        const s = sim.renderers().find((r) => r.rendererId === rendererId)?.lastState;
        return s?.currentQueueItemId === first && s.playingState === PLAYING.PLAYING ? s : undefined;
      },
      { timeoutMs: 10_000, what: 'the first suggestion reported playing' },
    );
    expect(reported.currentQueueItemId).toBe(first);
    // The service moved the played suggestion into the queue (105); the next one follows it in MPD.
    await sim.waitFor(() => sim.queue().items.some((i) => i.queueItemId === first), {
      what: 'suggestion promoted',
    });
    expect(sim.queue().autoplay.map((i) => i.queueItemId)).toEqual([second]);
    await mpdHolds(h, [1, first, second]);
    // Played on with no stop in between: no STOPPED report since the jump's first PLAYING one.
    const reports = sim.sentOfType(rendererId, 23).map((m) => m.body.state);
    const jumped = reports.findIndex(
      (s) => s?.current_queue_item_id === 1 && s.playing_state === PLAYING.PLAYING,
    );
    expect(jumped).toBeGreaterThanOrEqual(0);
    expect(reports.slice(jumped).map((s) => s?.playing_state)).not.toContain(PLAYING.STOPPED);
    await h.mpd.waitForStatus((s) => s.state === 'play');
  });

  it('keeps loop modes on the queue: REPEAT_ALL wraps to its start, REPEAT_ONE repeats, autoplay off stops at the end', async () => {
    const [a, b, c] = h.trackIds as [number, number, number];
    sim.loadQueue([a, b]);
    sim.setLoop('OFF');
    sim.setAutoplay(true);
    const [suggestion] = sim.loadAutoplay([c]) as [number];
    sim.jump(1, { playing: true });
    await mpdHolds(h, [0, 1, suggestion]);
    sim.setLoop('REPEAT_ALL');
    await mpdHolds(h, [0, 1, 0]);
    sim.setLoop('REPEAT_ONE');
    await mpdHolds(h, [0, 1, 1]);
    sim.setLoop('OFF');
    await mpdHolds(h, [0, 1, suggestion]);
    sim.setAutoplay(false);
    await mpdHolds(h, [0, 1]);
  });
});
