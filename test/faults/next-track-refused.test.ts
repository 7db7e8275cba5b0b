import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeHarness, type BridgeHarness } from '../support/bridge-harness.js';
import type { SimSession } from '../support/qconnect-service.js';

/** Issue #8 faults: the track AFTER the playing one cannot be streamed; the queue must not stall at the change. */
let h: BridgeHarness;
let sim: SimSession;
let rid: number;
const DURATIONS = [3, 5, 7];

beforeAll(async () => {
  h = await startBridgeHarness({ trackSeconds: DURATIONS });
  ({ sim, rendererId: rid } = await h.connectApp({ loadQueue: true }));
}, 60_000);
afterAll(async () => h?.close());

describe('an unstreamable next track (issue #8, faults)', () => {
  it('is reported and skipped at the change, and the track after it plays', async () => {
    h.api.refuseFormat(h.trackIds[1]!, 6, 'restrictions');
    const n = sim.sent(rid).length;
    sim.jump(0, { positionMs: 1500, playing: true });
    const error = await sim.waitForMessage(rid, 2, {
      after: n,
      where: (b: { queue_item_id?: number | null }) => (b.queue_item_id ?? 0) === 1,
      timeoutMs: 15_000,
    });
    await sim.waitForMessage(rid, 24, { after: error.index, timeoutMs: 10_000 });
    const status = await h.mpd.waitForStatus((s) => s.state === 'play' && Math.round(Number(s.duration ?? 0)) === DURATIONS[2], 10_000);
    expect(Number(status.elapsed)).toBeLessThan(3);
  }, 60_000);
});
