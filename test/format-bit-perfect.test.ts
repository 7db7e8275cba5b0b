import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { qconnect } from '../src/protocol/generated/qconnect.js';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import { connectProbe, type MqttProbe } from './support/mosquitto-server.js';
import type { StartMpdOptions } from './support/mpd-server.js';

/**
 * Issue #23, "the true format": a 96 kHz / 24-bit stream through a real MPD. MPD's `audio:` is the
 * decoder's format whatever the outputs do, so the bridge reads MPD's config
 * (`players[].mpd.config_file`): an output that resamples makes the format MPD plays 16/44.1 and
 * bit_perfect false, on MQTT and in the report to Qobuz (26); without one it is bit-perfect until
 * the software mixer attenuates.
 */
const B = 'qobuz-connect/living_room';

interface FormatJson {
  sample_rate: number;
  bit_depth: number;
  channels: number;
  stream: { sample_rate: number; bit_depth: number; channels: number };
  bit_perfect: boolean | null;
  not_bit_perfect: string[];
}

async function hiresRig(mpdOptions: StartMpdOptions): Promise<{ h: BridgeHarness; probe: MqttProbe; rid: number; sim: Awaited<ReturnType<BridgeHarness['connectApp']>>['sim'] }> {
  let probe: MqttProbe | undefined;
  const h = await startBridgeHarness({
    trackSeconds: [45],
    trackFormat: { sampleRate: 96_000, bitDepth: 24 },
    qobuzMaxQuality: 'hires_96',
    mpdConfigFile: true,
    mpdOptions,
    beforeBridge: async ({ mpd, mosquitto }) => {
      await mpd.command('setvol 100');
      probe = await connectProbe(mosquitto!.url);
      await probe.subscribe(`${B}/#`);
    },
  });
  const { sim, rendererId } = await h.connectApp({ loadQueue: true });
  sim.jump(0, { playing: true });
  await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.1);
  return { h, probe: probe!, rid: rendererId, sim };
}

async function formatOnState(probe: MqttProbe, where: (f: FormatJson) => boolean, from = 0): Promise<FormatJson> {
  const m = await probe.waitFor(
    (msg) => {
      if (msg.topic !== `${B}/state`) return false;
      const f = (JSON.parse(msg.payload) as { format: FormatJson | null }).format;
      return f !== null && where(f);
    },
    { from, timeoutMs: 15_000 },
  );
  return (JSON.parse(m.payload) as { format: FormatJson }).format;
}

describe('an MPD output that resamples (issue #23)', () => {
  let rig: Awaited<ReturnType<typeof hiresRig>>;
  beforeAll(async () => {
    rig = await hiresRig({ outputFormat: '44100:16:2' });
  }, 60_000);
  afterAll(async () => {
    await rig?.probe.end();
    await rig?.h.close();
  });

  it('reports 16-bit / 44.1 kHz as played, the 24/96 stream beside it, and bit_perfect false', async () => {
    // MPD itself shows the decoder's format: the output's resampling is invisible in its status.
    expect((await rig.h.mpd.status()).audio).toBe('96000:24:2');
    const f = await formatOnState(rig.probe, (x) => x.bit_perfect !== null);
    expect(f).toEqual({
      sample_rate: 44_100,
      bit_depth: 16,
      channels: 2,
      stream: { sample_rate: 96_000, bit_depth: 24, channels: 2 },
      bit_perfect: false,
      not_bit_perfect: ['converted to 16-bit / 44.1 kHz by output "null"'],
    });
    // Qobuz hears what MPD plays, not what the stream carries: CD quality.
    const q = await rig.sim.waitForMessage(rig.rid, 26, { after: -1 });
    expect(q.body as qconnect.RndrSrvrFileAudioQualityChanged).toMatchObject({ sampling_rate: 44_100, bit_depth: 16, audio_quality: 2 });
    const reported = rig.sim.sent(rig.rid).filter((m) => m.type === 26).map((m) => (m.body as qconnect.RndrSrvrFileAudioQualityChanged).sampling_rate);
    expect(reported).not.toContain(96_000);
  }, 30_000);
});

describe('an MPD output that passes the stream on (issue #23)', () => {
  let rig: Awaited<ReturnType<typeof hiresRig>>;
  beforeAll(async () => {
    // A second output, off at start, that would resample: only enabled outputs count.
    rig = await hiresRig({
      audioOutputs: [
        'audio_output {\n  type "null"\n  name "null"\n  mixer_type "software"\n}',
        'audio_output {\n  type "null"\n  name "lofi"\n  mixer_type "none"\n  format "44100:16:2"\n  enabled "no"\n}',
      ].join('\n'),
    });
  }, 60_000);
  afterAll(async () => {
    await rig?.probe.end();
    await rig?.h.close();
  });

  it('reports 24-bit / 96 kHz and bit_perfect true, to MQTT and to Qobuz', async () => {
    const f = await formatOnState(rig.probe, (x) => x.bit_perfect !== null);
    expect(f).toEqual({
      sample_rate: 96_000,
      bit_depth: 24,
      channels: 2,
      stream: { sample_rate: 96_000, bit_depth: 24, channels: 2 },
      bit_perfect: true,
      not_bit_perfect: [],
    });
    const q = await rig.sim.waitForMessage(rig.rid, 26, { after: -1 });
    expect(q.body as qconnect.RndrSrvrFileAudioQualityChanged).toMatchObject({ sampling_rate: 96_000, bit_depth: 24, audio_quality: 3 });
  }, 30_000);

  it('is no longer bit-perfect while the software mixer attenuates, and is again at 100 %', async () => {
    const from = rig.probe.messages.length;
    expect(await rig.probe.command(B, { volume: 50 })).toEqual({ ok: true });
    const down = await formatOnState(rig.probe, (x) => x.bit_perfect === false, from);
    expect(down.not_bit_perfect).toEqual(['software volume at 50 % on output "null"']);
    expect(down.sample_rate).toBe(96_000);
    const back = rig.probe.messages.length;
    expect(await rig.probe.command(B, { volume: 100 })).toEqual({ ok: true });
    expect((await formatOnState(rig.probe, (x) => x.bit_perfect === true, back)).not_bit_perfect).toEqual([]);
  }, 30_000);

  it('judges again when another MPD client switches an output on or off', async () => {
    const from = rig.probe.messages.length;
    await rig.h.mpd.command('enableoutput 1');
    const on = await formatOnState(rig.probe, (x) => x.bit_perfect === false, from);
    expect(on.not_bit_perfect).toEqual(['converted to 16-bit / 44.1 kHz by output "lofi"']);
    const back = rig.probe.messages.length;
    await rig.h.mpd.command('disableoutput 1');
    expect((await formatOnState(rig.probe, (x) => x.bit_perfect === true, back)).not_bit_perfect).toEqual([]);
  }, 30_000);
});
