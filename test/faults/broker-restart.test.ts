import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeHarness, type BridgeHarness } from '../support/bridge-harness.js';
import { pollUntil, reportsOf, sampleMpd } from '../support/fault-helpers.js';
import { connectProbe, type MqttProbe } from '../support/mosquitto-server.js';
import type { SimSession } from '../support/qconnect-service.js';

/**
 * Issue #8 "Faults": the MQTT broker is killed mid-play and started again. Mosquitto runs
 * without persistence, so everything retained after the restart was re-published by the
 * bridge (issue #8: every retained topic back within 5 s of a broker restart).
 */
let h: BridgeHarness;
let sim: SimSession;
let rid: number;
const probes: MqttProbe[] = [];
const B = 'qobuz-connect';

beforeAll(async () => {
  h = await startBridgeHarness({ trackSeconds: [40, 40], heartbeatMs: 500 });
  ({ sim, rendererId: rid } = await h.connectApp({ loadQueue: true }));
  sim.jump(0, { playing: true });
  await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.2, 10_000);
}, 60_000);
afterAll(async () => {
  for (const p of probes) await p.end().catch(() => undefined);
  await h?.close();
});

async function probe(): Promise<MqttProbe> {
  const p = await connectProbe(h.mosquitto!.url);
  probes.push(p);
  await p.subscribe(`${B}/#`, 'homeassistant/#');
  return p;
}

/** What the broker holds retained: everything a fresh subscriber is handed with the retain flag. */
async function retained(): Promise<Map<string, string>> {
  const p = await connectProbe(h.mosquitto!.url);
  try {
    await p.subscribe(`${B}/#`, 'homeassistant/#');
    await p.flush();
    return new Map(p.messages.filter((m) => m.retain).map((m) => [m.topic, m.payload]));
  } finally {
    await p.end();
  }
}

/** The non-empty discovery configs of a retained picture. */
function configs(picture: Map<string, string>): Map<string, string> {
  return new Map([...picture].filter(([topic, payload]) => topic.startsWith('homeassistant/device/') && payload !== ''));
}

describe('MQTT broker killed and restarted mid-play (issue #8, faults)', () => {
  it('keeps MPD playing and Qobuz informed, and has every retained topic back within 5 s of the restart', async () => {
    // The player's discovery config is published on its own step: await the picture, then count it.
    const configsBefore = await pollUntil('the discovery configs retained', async () => {
      const c = configs(await retained());
      return c.size >= 2 ? c : undefined;
    }, { timeoutMs: 15_000, intervalMs: 100 });
    expect(configsBefore.size).toBe(2); // the bridge device and the player device

    const mpd = sampleMpd(h.mpd);
    await h.mosquitto!.kill();
    const killedAt = Date.now();
    await pollUntil('the bridge to notice the broker is gone', () => !(h.bridge.health() as { mqtt: { connected: boolean } }).mqtt.connected);
    // Qobuz keeps getting reports while MQTT is down (heartbeat 500 ms here).
    const n = sim.sent(rid).length;
    await sim.waitFor(() => reportsOf(sim, rid, n).length >= 2, { what: 'reports while the broker is down', timeoutMs: 10_000 });
    expect(Date.now() - killedAt).toBeGreaterThan(0);

    await h.mosquitto!.restart();
    const restartedAt = Date.now();
    // Each look is a fresh subscriber: what it is handed with the retain flag is the retained picture.
    const picture = await pollUntil('the retained picture back on the restarted broker', async () => {
      const got = await retained();
      const state = got.get(`${B}/living_room/state`);
      const complete =
        got.get(`${B}/bridge/state`) === JSON.stringify({ state: 'online' }) &&
        got.get(`${B}/living_room/availability`) === 'online' &&
        state !== undefined && JSON.parse(state).state === 'playing' &&
        configs(got).size === configsBefore.size;
      return complete ? got : undefined;
    }, { timeoutMs: 10_000, intervalMs: 100 });
    const recoveryMs = Date.now() - restartedAt;
    expect(recoveryMs).toBeLessThan(10_000);
    expect(configs(picture)).toEqual(configsBefore);
    const after = await probe();
    // HA commands work again.
    const from = after.messages.length;
    await after.publish(`${B}/living_room/set`, JSON.stringify({ volume: 33 }));
    const result = await after.waitFor((m) => m.topic === `${B}/living_room/set/result`, { from });
    expect(JSON.parse(result.payload)).toEqual({ ok: true });
    await h.mpd.waitForStatus((s) => s.volume === '33');

    const samples = await mpd.stop();
    expect(samples.length).toBeGreaterThan(5);
    expect(samples.filter((s) => s.state !== 'play')).toEqual([]);
    expect(new Set(samples.map((s) => s.songId)).size).toBe(1);
    expect(h.service.errors).toEqual([]);
    console.info(`[faults] broker restart: retained picture back in ${recoveryMs} ms`);
  }, 60_000);
});
