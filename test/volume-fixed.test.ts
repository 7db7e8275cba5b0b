import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { qconnect } from '../src/protocol/generated/qconnect.js';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import { connectProbe, type MqttProbe } from './support/mosquitto-server.js';
import type { SimSession } from './support/qconnect-service.js';

/**
 * Issue #23, `players[].volume.mode: fixed`: the amplifier owns the volume. MPD's volume is never
 * touched, the app is told volume control is not allowed, Home Assistant gets no volume entity,
 * and every volume command is refused with ERR_VOLUME_FIXED.
 */
let h: BridgeHarness;
let probe: MqttProbe;
let sim: SimSession;
let rid: number;
const B = 'qobuz-connect/living_room';
const MPD_VOLUME = '63';

beforeAll(async () => {
  h = await startBridgeHarness({
    trackSeconds: [8, 8],
    volume: { min: 0, max: 100, mode: 'fixed' },
    beforeBridge: async ({ mpd, mosquitto }) => {
      await mpd.command(`setvol ${MPD_VOLUME}`);
      probe = await connectProbe(mosquitto!.url);
      await probe.subscribe(`${B}/#`);
      await probe.subscribe('homeassistant/device/#');
    },
  });
}, 60_000);
afterAll(async () => {
  await probe?.end();
  await h?.close();
});

describe('a fixed volume (issue #23)', () => {
  it('publishes no volume or mute entity to Home Assistant, and keeps the others', async () => {
    const config = await probe.waitFor(
      (m) => m.topic.startsWith('homeassistant/device/') && m.payload.includes('"qcb_living_room_state"'),
      { timeoutMs: 15_000 },
    );
    const cmps = (JSON.parse(config.payload) as { cmps: Record<string, Record<string, unknown>> }).cmps;
    expect(cmps.volume).toEqual({ p: 'number' });
    expect(cmps.mute).toEqual({ p: 'switch' });
    expect(cmps.play?.p).toBe('button');
    expect(cmps.state?.p).toBe('sensor');
  });

  it('tells the app volume control is not allowed, and no app or MQTT volume command ever changes MPD’s volume', async () => {
    ({ sim, rendererId: rid } = await h.connectApp({ loadQueue: true }));
    const info = sim.core.renderers.get(rid)?.deviceInfo;
    // docs/protocol.md §5.9: volume_remote_control 1 = not allowed.
    expect(info?.capabilities?.volume_remote_control).toBe(1);
    sim.jump(0, { playing: true });
    await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.1);
    expect((await h.mpd.status()).volume).toBe(MPD_VOLUME);

    // The app's slider, deltas and mute, as a misbehaving app might still send them.
    let n = sim.sent(rid).length - 1;
    for (const v of [10, 90, 0, 100]) sim.setVolume(v);
    sim.volumeDelta(5);
    sim.volumeDelta(-20);
    sim.mute(true);
    sim.mute(false);
    sim.mute(true);
    // Each is answered with the volume as it is: the app's view snaps back to the speaker's.
    await sim.waitFor(
      () => sim.sent(rid).slice(n + 1).filter((m) => m.type === 29).length >= 9,
      { what: 'nine answers to the refused volume commands' },
    );
    const volumes = sim.sent(rid).slice(n + 1).filter((m) => m.type === 25);
    for (const m of volumes) expect((m.body as qconnect.RndrSrvrVolumeChanged).volume).toBe(Number(MPD_VOLUME));
    const mutes = sim.sent(rid).slice(n + 1).filter((m) => m.type === 29);
    for (const m of mutes) expect((m.body as qconnect.RndrSrvrVolumeMuted).value ?? false).toBe(false);

    // MQTT: refused with a clear code, changing nothing.
    for (const cmd of [{ volume: 20 }, { muted: true }, { volume: 80, muted: false }]) {
      expect(await probe.command(B, cmd)).toMatchObject({ ok: false, code: 'ERR_VOLUME_FIXED' });
    }
    // A command that is not about volume still works and reaches MPD.
    n = sim.sent(rid).length - 1;
    expect(await probe.command(B, { action: 'next' })).toEqual({ ok: true });
    await sim.waitForMessage(rid, 23, {
      after: n,
      where: (b: { state?: qconnect.QueueRendererState.$Properties }) => b.state?.current_queue_item_id === 1,
    });
    await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.song) >= 0);
    expect(await probe.command(B, { action: 'pause' })).toEqual({ ok: true });
    await h.mpd.waitForStatus((s) => s.state === 'pause');

    expect((await h.mpd.status()).volume).toBe(MPD_VOLUME);
    const state = await probe.waitFor((m) => m.topic === `${B}/state`, { timeoutMs: 15_000 });
    expect(JSON.parse(state.payload)).toMatchObject({ volume: Number(MPD_VOLUME), muted: false });
  }, 40_000);
});
