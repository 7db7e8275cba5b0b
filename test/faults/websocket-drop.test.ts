import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeHarness, type BridgeHarness } from '../support/bridge-harness.js';
import { BUFFER, PLAYING, reportsOf, reportWhere, sampleMpd } from '../support/fault-helpers.js';
import { SERVICE_ERRORS, type SimSession } from '../support/qconnect-service.js';

/**
 * Issue #8 "Faults": the Qobuz WebSocket is dropped mid-play (no close frame), and dropped
 * again as soon as the rejoin reached the service. The bridge keeps MPD playing, rejoins as
 * the same renderer (§5.12), takes playback back and reports with fresh timestamps: nothing
 * queued while down is replayed late (the service answers "Message too old" to that, §3).
 */
let h: BridgeHarness;
let sim: SimSession;
let rid: number;

beforeAll(async () => {
  h = await startBridgeHarness({ trackSeconds: [40, 45], heartbeatMs: 500 });
  ({ sim, rendererId: rid } = await h.connectApp({ loadQueue: true }));
  sim.jump(0, { positionMs: 2000, playing: true });
  await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 2.2, 10_000);
}, 60_000);
afterAll(async () => h?.close());

describe('Qobuz WebSocket dropped, and dropped again during the rejoin (issue #8, faults)', () => {
  it('rejoins once as the same renderer, takes playback back with fresh reports, and MPD never stops', async () => {
    const mpd = sampleMpd(h.mpd, 10);
    const startedAt = Date.now();
    const elapsedBefore = Number((await h.mpd.status()).elapsed) * 1000;
    const renderersBefore = sim.renderers().length;
    const joinsBefore = sim.renderers().find((r) => r.rendererId === rid)?.joins ?? 0;
    const n = sim.sent(rid).length;

    sim.dropConnection(rid);
    const droppedAt = Date.now();
    // The rejoin reached the service (its 61 on a new connection): drop that one too.
    await sim.waitForMessage(rid, 61, { after: n, timeoutMs: 15_000 });
    sim.dropConnection(rid);
    const n2 = sim.sent(rid).length;

    await sim.waitForMessage(rid, 61, { after: n2, timeoutMs: 15_000 });
    await sim.waitFor(
      () => sim.activeRendererId === rid && h.bridge.player('living_room')?.session.view().qobuzSession === 'active',
      { what: 'our renderer active again', timeoutMs: 15_000 },
    );
    const fresh = await reportWhere(
      sim,
      rid,
      (s) => s.playing_state === PLAYING && s.buffer_state === BUFFER.OK && (s.current_queue_item_id ?? 0) === 0,
      { after: n2, timeoutMs: 15_000 },
    );
    const recoveryMs = Date.now() - droppedAt;
    // A few heartbeats more, to prove they keep coming on the third connection.
    await sim.waitFor(() => reportsOf(sim, rid, fresh.index + 1).length >= 2, { what: 'heartbeats after the rejoin', timeoutMs: 10_000 });

    // MPD was never stopped nor reloaded (same song id), and plays on where the track would be now.
    const samples = await mpd.stop();
    expect(samples.filter((s) => s.state !== 'play')).toEqual([]);
    expect(new Set(samples.map((s) => s.songId)).size).toBe(1);
    const st = await h.mpd.status();
    expect(st.state).toBe('play');
    expect(Math.round(Number(st.duration))).toBe(40);
    expect(Math.abs(Number(st.elapsed) * 1000 - (elapsedBefore + Date.now() - startedAt))).toBeLessThan(2500);

    // Joined once more per connection, never as a second renderer.
    const ours = sim.renderers().filter((r) => r.deviceUuid === h.playerUuid.toLowerCase());
    expect(ours).toHaveLength(1);
    expect(sim.renderers()).toHaveLength(renderersBefore);
    expect(ours[0]?.joins).toBe(joinsBefore + 2);
    expect(ours[0]?.connected).toBe(true);
    expect(h.service.connections().filter((c) => c.phase !== 'closed' && c.rendererId === rid)).toHaveLength(1);

    // Fresh timestamps: no report older than the service's 2 s staleness limit, nothing refused.
    for (const r of reportsOf(sim, rid, n)) {
      const ts = Number(r.state.current_position?.timestamp?.toString() ?? r.at);
      expect(r.at - ts).toBeLessThan(2000);
    }
    const tooOld = sim.deliveredOfType(rid, 1).filter((m) => (m.body as { message?: string }).message === SERVICE_ERRORS.tooOld.message);
    expect(tooOld).toEqual([]);
    expect(h.service.errors).toEqual([]);
    // The position reported after the rejoin matches MPD's.
    const last = reportsOf(sim, rid).at(-1)!;
    const reported = (last.state.current_position?.value ?? 0) + (Date.now() - last.at);
    expect(Math.abs(reported - Number(st.elapsed) * 1000)).toBeLessThan(2500);
    console.info(`[faults] websocket drop x2: active with a fresh report ${recoveryMs} ms after the first drop`);
  }, 60_000);
});
