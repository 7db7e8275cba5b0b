import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeHarness, type BridgeHarness } from '../support/bridge-harness.js';
import type { SimSession } from '../support/qconnect-service.js';

/**
 * Issue #21 part 4 (chaos soak, seed 1681636650): another MPD client's `next` moves MPD onto our
 * next entry, an item that cannot be streamed. MPD fails to open it, finds nothing after it in its
 * queue and stops with no current song: that is the item failing, not the end of the Qobuz queue
 * (docs/protocol.md §9.2). The current track is long so that MPD has not opened the next URL yet.
 */
let h: BridgeHarness;
let sim: SimSession;
let rid: number;
const DURATIONS = [40, 5, 7];

beforeAll(async () => {
  h = await startBridgeHarness({ trackSeconds: DURATIONS });
  ({ sim, rendererId: rid } = await h.connectApp({ loadQueue: true }));
}, 60_000);
afterAll(async () => h?.close());

describe("another MPD client's next onto an unstreamable item (issue #21)", () => {
  it('reports the item failed and skipped, never the queue ended, and the track after it plays', async () => {
    h.api.refuseFormat(h.trackIds[1]!, 6, 'restrictions');
    sim.setLoop('REPEAT_ALL');
    sim.jump(0, { positionMs: 1500, playing: true });
    await h.mpd.waitForStatus((s) => s.state === 'play' && Math.round(Number(s.duration ?? 0)) === DURATIONS[0] && Number(s.elapsed) > 1.6, 15_000);
    // Our window is [previous (the last item, repeat all), current, next]: the refused item is the
    // last song in MPD's queue.
    await h.mpd.waitForStatus((s) => s.playlistlength === '3' && s.song === '1', 10_000);
    const n = sim.sent(rid).length;
    // MPD may answer the `next` itself with the decoder's ACK when the refusal comes back first (§9.2).
    await h.mpd.command('next').catch((err: unknown) => expect(String(err)).toMatch(/Failed to decode/));
    const error = await sim.waitForMessage(rid, 2, {
      after: n,
      where: (b: { queue_item_id?: number | null }) => (b.queue_item_id ?? 0) === 1,
      timeoutMs: 10_000,
    });
    await sim.waitForMessage(rid, 24, { after: error.index, timeoutMs: 10_000 });
    const status = await h.mpd.waitForStatus((s) => s.state === 'play' && Math.round(Number(s.duration ?? 0)) === DURATIONS[2], 10_000);
    expect(Number(status.elapsed)).toBeLessThan(4);
  }, 60_000);
});
