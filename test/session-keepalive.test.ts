import { afterEach, describe, expect, it } from 'vitest';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { startHarness, waitActive, type Harness } from './support/session-harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('heartbeat and keepalive (issue #4, §3, §5.7)', () => {
  it('reports its state on every heartbeat while active and playing, and not while paused', async () => {
    h = await startHarness({ heartbeatMs: 200 });
    await waitActive(h);
    h.sim.loadQueue([1, 2]);
    h.sim.jump(0, { playing: true });
    await h.sim.waitFor(() => h!.player.status === 'playing', { what: 'playing' });
    // The start's own reports (23 buffer OK, then 26) are in: from here on only heartbeats report.
    await h.sim.waitForMessage(h.rendererId, 26, { after: -1 });
    const from = h.sim.sent(h.rendererId).length;
    await h.sim.waitFor(() => h!.sim.sent(h!.rendererId).slice(from).filter((m) => m.type === 23).length >= 3, { what: 'three heartbeats' });
    const beats = h.sim.sent(h.rendererId).slice(from).filter((m) => m.type === 23);
    // Spaced by the period as the renderer stamped them (arrival times bunch up on a loaded machine).
    const stamps = beats.map((m) => Number((m.body as { state: qconnect.QueueRendererState }).state.current_position?.timestamp?.toString() ?? 0));
    const gaps = stamps.slice(1).map((t, i) => t - stamps[i]!);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(150);
    const positions = beats.map((m) => (m.body as { state: qconnect.QueueRendererState }).state.current_position?.value ?? 0);
    expect(positions[2]! - positions[0]!).toBeGreaterThanOrEqual(300);

    h.sim.pause();
    await h.sim.waitFor(() => h!.player.status === 'paused', { what: 'paused' });
    // The PAUSED answer itself has arrived: whatever comes after it would be a heartbeat.
    await h.sim.waitFor(() => {
      const last = h!.sim.sent(h!.rendererId).filter((m) => m.type === 23).at(-1);
      return (last?.body as { state?: qconnect.QueueRendererState } | undefined)?.state?.playing_state === qconnect.PlayingState.PAUSED;
    }, { what: 'PAUSED report' });
    await h.session.idle();
    const pausedFrom = h.sim.sent(h.rendererId).length;
    // Absence can only be shown by letting time pass: two heartbeat periods bring no report while paused.
    await new Promise((r) => setTimeout(r, 450));
    expect(h.sim.sent(h.rendererId).slice(pausedFrom).filter((m) => m.type === 23)).toHaveLength(0);
  });

  it('drops a half-open connection (no frames, no pongs) and reconnects when the service answers again', async () => {
    h = await startHarness();
    await waitActive(h);
    const authBefore = h.sim.frames(h.rendererId).filter((f) => f.type === 'AUTHENTICATE').length;
    h.sim.setUnresponsive(true);
    const started = Date.now();
    await h.sim.waitFor(() => h!.session.view().qobuzSession !== 'active', { what: 'link declared dead', timeoutMs: 10_000 });
    const detectedMs = Date.now() - started;
    expect(detectedMs).toBeLessThan(7500); // harness: dead after 3 s without a frame or pong (default 30 s)
    h.sim.setUnresponsive(false);
    await h.sim.waitFor(
      () => h!.sim.frames(h!.rendererId).filter((f) => f.type === 'AUTHENTICATE').length > authBefore && h!.session.view().qobuzSession === 'active',
      { what: 'rejoined and active', timeoutMs: 10_000 },
    );
  });
});
