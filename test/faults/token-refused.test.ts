import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeHarness, type BridgeHarness } from '../support/bridge-harness.js';
import { sampleMpd } from '../support/fault-helpers.js';
import type { SimSession } from '../support/qconnect-service.js';

/**
 * Issue #21 part 4 (found by the chaos soak, bench/chaos.ts): the service refuses the token a
 * link holds before its exp (revoked, or our clock behind the service's) and drops the link.
 * With a user token the reconnect mints a fresh token instead of offering the refused one again
 * until its exp (docs/protocol.md §8 "Token renewal"); the music plays on throughout.
 */
let h: BridgeHarness;
let sim: SimSession;
let rid: number;
let jwt: string;

beforeAll(async () => {
  h = await startBridgeHarness({ trackSeconds: [30, 35], userAuthToken: true });
  ({ sim, rendererId: rid, jwt } = await h.connectApp({ loadQueue: true }));
  sim.jump(0, { playing: true });
  await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.2, 10_000);
}, 60_000);
afterAll(async () => h?.close());

describe('a token the service refuses before its exp (issue #21, chaos soak)', () => {
  it('is refused once, then the reconnect mints a new token and rejoins as the same active renderer', async () => {
    const mpd = sampleMpd(h.mpd, 50);
    const minted = h.minted.length;
    const n = sim.sent(rid).length;
    h.service.expireToken(jwt);
    sim.dropConnection(rid);

    await sim.waitForMessage(rid, 61, { after: n, timeoutMs: 10_000 });
    await sim.waitFor(() => sim.activeRendererId === rid && sim.renderers().find((r) => r.rendererId === rid)?.connected, {
      what: 'our renderer active again',
      timeoutMs: 10_000,
    });
    expect(h.minted.length).toBe(minted + 1);
    const refused = h.service.connections().filter((c) => c.closedBy === 'unauthorized');
    expect(refused).toHaveLength(1);
    const samples = await mpd.stop();
    expect(samples.filter((s) => s.state !== 'play')).toEqual([]);
    expect(h.logs.filter((l) => l.includes('the service refused the token'))).toHaveLength(1);
  });
});
