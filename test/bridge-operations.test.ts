import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';

/** Issue #7 "Operations" and "Logging": /healthz, /metrics, and no secret in a debug log of a whole session. */
let h: BridgeHarness;
let secrets: string[];

beforeAll(async () => {
  h = await startBridgeHarness({ trackSeconds: [5, 5] });
  const { sim, rendererId, jwt, jwtApi } = await h.connectApp();
  secrets = [jwt, jwtApi, h.api.appSecret];
  await sim.waitFor(() => sim.activeRendererId === rendererId, { what: 'active' });
  sim.loadQueue(h.trackIds);
  sim.jump(0, { playing: true });
  await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.2);
  sim.seek(1000);
  sim.setVolume(30);
  await h.mpd.waitForStatus((s) => s.volume === '30');
}, 60_000);
afterAll(async () => h?.close());

describe('operating the bridge (issue #7)', () => {
  it('answers /healthz with each player advertised, its session, MPD reachability and MQTT', async () => {
    const res = await fetch(`http://127.0.0.1:${h.bridge.httpPort}/healthz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { mqtt: { connected: boolean }; players: Record<string, Record<string, unknown>> };
    expect(body.mqtt.connected).toBe(true);
    expect(body.players.living_room).toMatchObject({ advertised: true, session: 'active', state: 'playing', mpd_reachable: true });
  });

  it('serves Prometheus metrics: sessions, commands by type with latency, frames in and out', async () => {
    const expected = [
      /qcb_qobuz_commands_total\{player="living_room",type="41"\} [1-9]/,
      /qcb_qobuz_command_duration_seconds_count\{type="42"\} [1-9]/,
      /qcb_qobuz_frames_total\{player="living_room",direction="in"\} [1-9]/,
      /qcb_qobuz_frames_total\{player="living_room",direction="out"\} [1-9]/,
      /qcb_sessions\{state="active"\} 1/,
      /qcb_mpd_errors_total/,
      /qcb_qobuz_reconnects_total/,
    ];
    // A command is counted when its handling has finished, a moment after its effect shows on MPD.
    const deadline = Date.now() + 15_000;
    let text = '';
    for (;;) {
      const res = await fetch(`http://127.0.0.1:${h.bridge.httpPort}/metrics`);
      expect(res.headers.get('content-type')).toMatch(/text\/plain/);
      text = await res.text();
      if (expected.every((re) => re.test(text)) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const re of expected) expect(text).toMatch(re);
  });

  it('logs a whole session at debug level without any token or secret', () => {
    const all = h.logs.join('\n');
    expect(h.logs.length).toBeGreaterThan(20);
    expect(all).toContain('"level":20');
    for (const secret of secrets) expect(all.includes(secret), 'a secret reached the log').toBe(false);
    expect(all).not.toMatch(/request_sig=[0-9a-f]/);
  });
});
