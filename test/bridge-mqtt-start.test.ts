import { afterEach, describe, expect, it } from 'vitest';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import { connectProbe, type MqttProbe } from './support/mosquitto-server.js';

/**
 * Issue #12: what Home Assistant sees when the bridge starts. Availability is retained from the
 * start (offline until MPD first answers) and the first state carries MPD's real volume, never a
 * made-up one (README "MQTT topics").
 */
const B = 'qobuz-connect/living_room';
let h: BridgeHarness | undefined;
let probe: MqttProbe | undefined;
afterEach(async () => {
  await probe?.end();
  await h?.close();
  probe = undefined;
  h = undefined;
});

/** Starts the bridge with a probe subscribed before it publishes anything. */
async function start(opts: { mpdVolume?: number; mpdUnreachable?: boolean }): Promise<{ h: BridgeHarness; probe: MqttProbe }> {
  h = await startBridgeHarness({
    ...(opts.mpdUnreachable ? { mpdUnreachable: true } : {}),
    beforeBridge: async ({ mpd, mosquitto }) => {
      if (opts.mpdVolume !== undefined) await mpd.command(`setvol ${opts.mpdVolume}`);
      probe = await connectProbe(mosquitto!.url);
      await probe.subscribe(`${B}/#`);
    },
  });
  return { h, probe: probe! };
}

const states = (p: MqttProbe): Array<Record<string, unknown>> =>
  p.messages.filter((m) => m.topic === `${B}/state`).map((m) => JSON.parse(m.payload) as Record<string, unknown>);

describe('MQTT at start (issue #12)', () => {
  it('publishes MPD\'s real volume in the very first state, and availability online once MPD answered', async () => {
    const { probe: p } = await start({ mpdVolume: 41 });
    await p.waitFor((m) => m.topic === `${B}/state`, { timeoutMs: 15_000 });
    await p.waitFor((m) => m.topic === `${B}/availability` && m.payload === 'online', { timeoutMs: 15_000 });
    await p.flush();
    const all = states(p);
    expect(all.length).toBeGreaterThan(0);
    for (const s of all) expect(s.volume).toBe(41);
    expect(all[0]).not.toHaveProperty('controller');
  });

  it('retains availability offline, and no state, while MPD has never answered', async () => {
    const { probe: p } = await start({ mpdUnreachable: true });
    const offline = await p.waitFor((m) => m.topic === `${B}/availability`, { timeoutMs: 15_000 });
    expect(offline.payload).toBe('offline');
    // A client arriving later still finds it retained.
    const late = await connectProbe(h!.mosquitto!.url);
    try {
      await late.subscribe(`${B}/availability`);
      const retained = await late.waitFor((m) => m.topic === `${B}/availability`, { timeoutMs: 10_000 });
      expect(retained).toMatchObject({ payload: 'offline', retain: true });
    } finally {
      await late.end();
    }
    await p.flush();
    expect(states(p)).toEqual([]);
  });
});
