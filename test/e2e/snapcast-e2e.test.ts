import { stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { qconnect } from '../../src/protocol/generated/qconnect.js';
import { startBridgeHarness, type BridgeHarness } from '../support/bridge-harness.js';
import { connectProbe, type MqttProbe } from '../support/mosquitto-server.js';
import type { SimSession } from '../support/qconnect-service.js';
import { startSnapcast, until, waitForTone, type SnapcastRig } from '../support/snapcast-server.js';

/**
 * Issue #23, "Rooms in sync with Snapcast" (README "Multi-room with Snapcast"), end to end with
 * real processes: the bridge's MPD writes to a FIFO, a real `snapserver` reads it as a pipe
 * source, and two real `snapclient`s (kitchen, bedroom) write what they play to files. The
 * player's volume mode is `snapcast`, following the stream the FIFO feeds.
 */
const B = 'qobuz-connect/living_room';
/** The first track's tone (bridge-harness: 330 Hz + 110 Hz per track); snapclient's sync nudges its rate by a few Hz. */
const TRACK_0_HZ = 330;

let snap: SnapcastRig;
let h: BridgeHarness;
let probe: MqttProbe;
let sim: SimSession;
let rid: number;

beforeAll(async () => {
  snap = await startSnapcast({ rooms: ['kitchen', 'bedroom'] });
  // Rooms at different levels, as a house has them: the group's volume is their mean, 60.
  await snap.rpc('Client.SetVolume', { id: 'kitchen', volume: { percent: 80, muted: false } });
  await snap.rpc('Client.SetVolume', { id: 'bedroom', volume: { percent: 40, muted: false } });
  h = await startBridgeHarness({
    trackSeconds: [30, 30],
    mpdConfigFile: true,
    mpdOptions: {
      audioOutputs: [
        'audio_output {',
        '  type "fifo"',
        '  name "snapcast"',
        `  path "${snap.fifo}"`,
        `  format "${snap.sampleFormat}"`,
        '  mixer_type "none"',
        '}',
      ].join('\n'),
    },
    volume: { min: 0, max: 100, mode: 'snapcast', snapcast: { host: '127.0.0.1', port: snap.controlPort, stream: snap.streamId } },
    beforeBridge: async ({ mosquitto }) => {
      probe = await connectProbe(mosquitto!.url);
      await probe.subscribe(`${B}/#`);
    },
  });
  ({ sim, rendererId: rid } = await h.connectApp({ loadQueue: true }));
}, 90_000);

afterAll(async () => {
  await probe?.end();
  await h?.close();
  await snap?.stop();
});

const stateWith = (pred: (s: Record<string, unknown>) => boolean, from = 0) =>
  probe.waitFor((m) => m.topic === `${B}/state` && pred(JSON.parse(m.payload) as Record<string, unknown>), { from, timeoutMs: 15_000 });

describe('multi-room with Snapcast (issue #23)', () => {
  it("takes the Snapcast group's volume as the speaker's, and both rooms play the track the app plays", async () => {
    await stateWith((s) => s.volume === 60);
    const from = { kitchen: 0, bedroom: 0 };
    for (const room of ['kitchen', 'bedroom'] as const) from[room] = (await stat(snap.files[room]!)).size;
    sim.jump(0, { playing: true });
    await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.5, 15_000);
    const [kitchen, bedroom] = await Promise.all([
      waitForTone(snap.files.kitchen!, from.kitchen, 48_000, 30_000),
      waitForTone(snap.files.bedroom!, from.bedroom, 48_000, 30_000),
    ]);
    expect(Math.abs(kitchen.hz - TRACK_0_HZ)).toBeLessThanOrEqual(15);
    expect(Math.abs(bedroom.hz - TRACK_0_HZ)).toBeLessThanOrEqual(15);
    // The FIFO takes 16/48: the state says so, and that it is not bit-perfect.
    const state = JSON.parse((await stateWith((s) => (s.format as { bit_perfect?: unknown } | null)?.bit_perfect === false)).payload) as {
      format: { sample_rate: number; bit_depth: number; not_bit_perfect: string[] };
    };
    expect(state.format).toMatchObject({ sample_rate: 48_000, bit_depth: 16, not_bit_perfect: ['converted to 16-bit / 48 kHz by output "snapcast"'] });
  }, 60_000);

  it("sets the rooms' volumes in proportion when the app sets the volume", async () => {
    const n = sim.sent(rid).length - 1;
    sim.setVolume(30);
    // 80 and 40 (mean 60) to mean 30: each keeps its share, 40 and 20. The rooms are set one
    // after the other, in the order snapserver lists them, so both are awaited.
    let v = await snap.volumes();
    await until(
      async () => {
        v = await snap.volumes();
        return v.kitchen?.percent !== 80 && v.bedroom?.percent !== 40;
      },
      15_000,
      () => `the rooms never both moved: ${JSON.stringify(v)}`,
    );
    expect([v.kitchen?.percent, v.bedroom?.percent]).toEqual([40, 20]);
    await stateWith((s) => s.volume === 30, 0);
    // The app hears its own level back, never a level in between.
    await sim.waitForMessage(rid, 25, { after: n, where: (b: qconnect.RndrSrvrVolumeChanged) => b.volume === 30 });
    const heard = sim.sent(rid).slice(n + 1).filter((m) => m.type === 25).map((m) => (m.body as qconnect.RndrSrvrVolumeChanged).volume ?? 0);
    expect(heard.every((x) => x === 30)).toBe(true);
  }, 30_000);

  it('reports a volume changed in Snapcast to Qobuz and MQTT as the speaker’s', async () => {
    const n = sim.sent(rid).length - 1;
    const from = probe.messages.length;
    await snap.rpc('Client.SetVolume', { id: 'kitchen', volume: { percent: 70 } });
    await snap.rpc('Client.SetVolume', { id: 'bedroom', volume: { percent: 50 } });
    await sim.waitForMessage(rid, 25, { after: n, where: (b: qconnect.RndrSrvrVolumeChanged) => b.volume === 60 });
    await stateWith((s) => s.volume === 60, from);
  }, 30_000);

  it('mutes the Snapcast groups from Home Assistant, and unmutes them', async () => {
    const muted = async () => {
      const st = (await snap.rpc('Server.GetStatus')) as { server: { groups: Array<{ muted: boolean; stream_id: string }> } };
      return st.server.groups.filter((g) => g.stream_id === snap.streamId).map((g) => g.muted);
    };
    expect(await probe.command(B, { muted: true })).toEqual({ ok: true });
    expect(await muted()).toEqual([true, true]);
    expect(await probe.command(B, { muted: false })).toEqual({ ok: true });
    expect(await muted()).toEqual([false, false]);
  }, 30_000);
});
