import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { qconnect } from '../src/protocol/generated/qconnect.js';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import { connectProbe, type MqttProbe } from './support/mosquitto-server.js';
import type { SimSession } from './support/qconnect-service.js';

/**
 * Issue #23, `players[].volume.mode: external`: volume intents from the app or MQTT are published
 * on `B/<player>/volume/request` for an automation; the amplifier's level comes back with
 * `{"volume_report": n}` and only then is reported to Qobuz; a timeout says it was not applied.
 * MPD's volume is never touched.
 */
let h: BridgeHarness;
let probe: MqttProbe;
let sim: SimSession;
let rid: number;
const B = 'qobuz-connect/living_room';
const MPD_VOLUME = '71';
/**
 * The amplifier's report must come within this: long enough that a loaded machine's MQTT round
 * trips (request out, report back) never outlast it where the test answers, short enough for the
 * test that lets it run out.
 */
const TIMEOUT_MS = 5000;

beforeAll(async () => {
  h = await startBridgeHarness({
    trackSeconds: [8, 8],
    volume: { min: 0, max: 100, mode: 'external', report_timeout_ms: TIMEOUT_MS },
    beforeBridge: async ({ mpd, mosquitto }) => {
      await mpd.command(`setvol ${MPD_VOLUME}`);
      probe = await connectProbe(mosquitto!.url);
      await probe.subscribe(`${B}/#`);
    },
  });
  ({ sim, rendererId: rid } = await h.connectApp({ loadQueue: true }));
  sim.jump(0, { playing: true });
  await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.1);
}, 60_000);
afterAll(async () => {
  await probe?.end();
  await h?.close();
});

const requests = () =>
  probe.messages
    .filter((m) => m.topic === `${B}/volume/request`)
    .map((m) => JSON.parse(m.payload) as { volume: number; delta: number | null; source: string });
const volumesToQobuz = (after: number) =>
  sim
    .sent(rid)
    .slice(after + 1)
    .filter((m) => m.type === 25)
    .map((m) => (m.body as qconnect.RndrSrvrVolumeChanged).volume ?? 0);

/** A command with an id, answered by its own result (two may be open at once). */
async function commandWithId(payload: Record<string, unknown>, id: string, timeoutMs = 10_000) {
  const from = probe.messages.length;
  await probe.publish(`${B}/set`, JSON.stringify({ ...payload, id }));
  const result = await probe.waitFor(
    (m) => m.topic === `${B}/set/result` && (JSON.parse(m.payload) as { id?: string }).id === id,
    { from, timeoutMs },
  );
  return JSON.parse(result.payload) as Record<string, unknown>;
}

describe('an external volume (issue #23)', () => {
  it('tells the app volume control is allowed, and publishes its volume intents, absolute and delta, for the amplifier', async () => {
    expect(sim.core.renderers.get(rid)?.deviceInfo.capabilities?.volume_remote_control).toBe(2);
    const n = sim.sent(rid).length - 1;
    sim.setVolume(30);
    await probe.waitFor((m) => m.topic === `${B}/volume/request` && JSON.parse(m.payload).volume === 30, { timeoutMs: 15_000 });
    sim.volumeDelta(5);
    await probe.waitFor((m) => m.topic === `${B}/volume/request` && JSON.parse(m.payload).volume === 35, { timeoutMs: 15_000 });
    expect(requests().slice(-2)).toEqual([
      { volume: 30, delta: null, source: 'qobuz' },
      { volume: 35, delta: 5, source: 'qobuz' },
    ]);
    // Not applied until the amplifier says so: no 25 carries the asked level yet.
    expect(volumesToQobuz(n)).not.toContain(35);

    // The amplifier settled on 37 (its own steps): that is what Qobuz and MQTT hear.
    expect(await probe.command(B, { volume_report: 37 })).toEqual({ ok: true });
    await sim.waitForMessage(rid, 25, { after: n, where: (b: qconnect.RndrSrvrVolumeChanged) => b.volume === 37 });
    await probe.waitFor((m) => m.topic === `${B}/state` && JSON.parse(m.payload).volume === 37, { timeoutMs: 15_000 });
    expect(volumesToQobuz(n)).toEqual([37]);
    expect((await h.mpd.status()).volume).toBe(MPD_VOLUME);
  }, 30_000);

  it('answers an MQTT volume command once the amplifier reports, and with ERR_TIMEOUT when it does not', async () => {
    const answered = commandWithId({ volume: 55 }, 'slider');
    await probe.waitFor((m) => m.topic === `${B}/volume/request` && JSON.parse(m.payload).volume === 55, { timeoutMs: 15_000 });
    expect(await commandWithId({ volume_report: 54 }, 'report')).toMatchObject({ ok: true });
    expect(await answered).toMatchObject({ ok: true, id: 'slider' });
    await probe.waitFor((m) => m.topic === `${B}/state` && JSON.parse(m.payload).volume === 54, { timeoutMs: 15_000 });

    // Nobody answers: after the timeout the command fails, and the app hears the real level again.
    const n = sim.sent(rid).length - 1;
    expect(await probe.command(B, { volume: 90 }, { timeoutMs: TIMEOUT_MS + 10_000 })).toMatchObject({
      ok: false,
      code: 'ERR_TIMEOUT',
    });
    await sim.waitForMessage(rid, 25, { after: n, where: (b: qconnect.RndrSrvrVolumeChanged) => b.volume === 54 });
    expect(volumesToQobuz(n)).not.toContain(90);
  }, 30_000);

  it('refuses mute and never touches MPD’s volume', async () => {
    expect(await probe.command(B, { muted: true })).toMatchObject({ ok: false, code: 'ERR_BAD_COMMAND' });
    await h.mpd.command('setvol 20');
    await h.mpd.waitForStatus((s) => s.volume === '20');
    // MPD's own volume is not the amplifier's: the state keeps the reported level.
    const from = probe.messages.length;
    expect(await probe.command(B, { action: 'pause' })).toEqual({ ok: true });
    const state = await probe.waitFor((m) => m.topic === `${B}/state` && JSON.parse(m.payload).state === 'paused', {
      from,
      timeoutMs: 15_000,
    });
    expect(JSON.parse(state.payload).volume).toBe(54);
    sim.setVolume(10);
    await probe.waitFor((m) => m.topic === `${B}/volume/request` && JSON.parse(m.payload).volume === 10, { timeoutMs: 15_000 });
    expect((await h.mpd.status()).volume).toBe('20');
  }, 30_000);
});
