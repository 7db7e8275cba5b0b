import { afterEach, describe, expect, it } from 'vitest';
import { derivePlayerUuid } from '../src/config/player-uuid.js';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import { connectProbe, type MqttProbe } from './support/mosquitto-server.js';

/**
 * Issue #12: several bridges on one broker, each with its own base topic. The bridge device is named
 * after its base topic and the player's derived uuid (its HA unique ids and Qobuz identity) includes it
 * (README "Home Assistant entities").
 */
let h: BridgeHarness | undefined;
let probe: MqttProbe | undefined;
afterEach(async () => {
  await probe?.end();
  await h?.close();
  probe = undefined;
  h = undefined;
});

describe('a bridge with its own base topic (issue #12)', () => {
  it('names its HA device after the base topic and derives the player uuid from it', async () => {
    const base = `qc-host-${Math.random().toString(16).slice(2, 8)}`;
    h = await startBridgeHarness({ baseTopic: base });
    const uuid = derivePlayerUuid('living_room', base);
    expect(h.playerUuid).toBe(uuid);
    expect(uuid).not.toBe(derivePlayerUuid('living_room'));
    probe = await connectProbe(h.mosquitto!.url);
    await probe.subscribe('homeassistant/device/+/config');
    const bridgeConfig = await probe.waitFor((m) => m.topic.includes('qcb_bridge_') && m.payload.length > 0, { timeoutMs: 15_000 });
    expect((JSON.parse(bridgeConfig.payload) as { dev: { name: string } }).dev.name).toBe(`Qobuz Connect Bridge (${base})`);
    const playerConfig = await probe.waitFor((m) => m.topic === `homeassistant/device/${uuid}/config`, { timeoutMs: 15_000 });
    const payload = JSON.parse(playerConfig.payload) as { dev: { identifiers: string[] }; cmps: Record<string, { unique_id: string }> };
    expect(payload.dev.identifiers).toEqual([`qcb_${uuid}`]);
    const scope = base.replace(/-/g, '_');
    expect(payload.cmps.volume?.unique_id).toBe(`qcb_${scope}_living_room_volume`);
    for (const c of Object.values(payload.cmps)) expect(c.unique_id.startsWith(`qcb_${scope}_living_room_`)).toBe(true);
    // The bridge answers the app under that uuid too.
    const res = await fetch(`http://127.0.0.1:${h.bridge.httpPort}/devices/${uuid}/get-display-info`);
    expect(res.status).toBe(200);
  });
});
