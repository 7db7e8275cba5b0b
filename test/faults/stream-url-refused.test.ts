import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeHarness, type BridgeHarness } from '../support/bridge-harness.js';
import type { SimSession } from '../support/qconnect-service.js';

let h: BridgeHarness;
let sim: SimSession;
let rid: number;
const DURATIONS = [30, 35];

beforeAll(async () => {
  h = await startBridgeHarness({ trackSeconds: DURATIONS });
  ({ sim, rendererId: rid } = await h.connectApp({ loadQueue: true }));
}, 60_000);
afterAll(async () => h?.close());

describe('a signed URL the CDN refuses (issue #8, faults)', () => {
  it('is resolved again at the next start instead of being served from the cache', async () => {
    const track = h.trackIds[0]!;
    const asked = () => h.api.requestsTo('track/getFileUrl').filter((r) => r.params['track_id'] === String(track)).length;
    sim.jump(0, { playing: true });
    await h.mpd.waitForStatus((s) => s.state === 'play' && Math.round(Number(s.duration)) === DURATIONS[0], 10_000);
    const resolved = asked();
    expect(resolved).toBeGreaterThan(0);
    const path = `/file/${track}-6.flac`;
    h.cdn.fail(path, 410);
    const n = sim.sent(rid).length;
    sim.jump(0, { playing: true });
    const error = await sim.waitForMessage(rid, 2, {
      after: n,
      where: (b: { queue_item_id?: number | null }) => (b.queue_item_id ?? 0) === 0,
      timeoutMs: 15_000,
    });
    await sim.waitForMessage(rid, 24, { after: error.index, timeoutMs: 10_000 });
    expect(h.cdn.requestsFor(path).some((r) => r.status === 410)).toBe(true);
    h.cdn.fail(path, null);
    await h.mpd.waitForStatus((s) => Math.round(Number(s.duration ?? 0)) === DURATIONS[1] && s.state === 'play', 10_000);
    sim.jump(0, { playing: true });
    await h.mpd.waitForStatus(
      (s) => s.state === 'play' && Math.round(Number(s.duration)) === DURATIONS[0] && Number(s.elapsed) > 0.2,
      15_000,
    );
    expect(asked()).toBe(resolved + 1);
  }, 60_000);
});
