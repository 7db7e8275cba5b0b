import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { qconnect } from '../src/protocol/generated/qconnect.js';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import { connectProbe, type MqttProbe } from './support/mosquitto-server.js';

/**
 * Issue #23, volume mode `mpd` on an MPD whose output has no mixer (`mixer_type "none"`): MPD answers
 * every `setvol` with `No mixer`. The command is refused with ERR_MPD_COMMAND, and nothing shows a
 * volume the speaker never took: the state on MQTT, the player's own snapshot and what the app
 * hears all keep (or come back to) the level they had.
 */
let h: BridgeHarness;
let probe: MqttProbe;
const B = 'qobuz-connect/living_room';

interface StateJson {
  readonly volume: number;
  readonly muted: boolean;
}

beforeAll(async () => {
  h = await startBridgeHarness({
    trackSeconds: [8, 8],
    mpdOptions: { audioOutputs: ['audio_output {', '  type "null"', '  name "null"', '  mixer_type "none"', '}'].join('\n') },
    beforeBridge: async ({ mosquitto }) => {
      probe = await connectProbe(mosquitto!.url);
      await probe.subscribe(`${B}/#`);
    },
  });
}, 60_000);
afterAll(async () => {
  await probe?.end();
  await h?.close();
});

const lastState = (): StateJson => {
  const states = probe.messages.filter((m) => m.topic === `${B}/state`);
  return JSON.parse(states[states.length - 1]!.payload) as StateJson;
};

describe('volume mode mpd without a mixer (issue #23)', () => {
  it('refuses an MQTT volume or mute with ERR_MPD_COMMAND and keeps the level the state showed', async () => {
    // MPD has no mixer: its status carries no volume.
    expect((await h.mpd.status()).volume ?? '-1').toBe('-1');
    await probe.waitFor((m) => m.topic === `${B}/state`, { timeoutMs: 15_000 });
    const before = lastState();

    for (const cmd of [{ volume: 17 }, { muted: true }, { volume: 88, muted: true }]) {
      const answer = await probe.command(B, cmd);
      expect(answer).toMatchObject({ ok: false, code: 'ERR_MPD_COMMAND' });
      expect(String((answer as { error?: unknown }).error)).toMatch(/mixer/i);
    }
    // The fall-back is a step of the loop, and the player's own snapshot was put back too (else the
    // state would show the speaker's refused level): the last state settles where it was.
    const settled = (): boolean => lastState().volume === before.volume && lastState().muted === before.muted;
    await probe.waitFor(settled, { timeoutMs: 15_000 });
    await probe.flush();
    expect(lastState()).toMatchObject({ volume: before.volume, muted: before.muted });
  }, 40_000);

  it("answers the app's slider with the level the speaker keeps", async () => {
    const { sim, rendererId: rid } = await h.connectApp({ loadQueue: true });
    const n = sim.sent(rid).length - 1;
    const kept = lastState().volume;
    const asked = kept === 23 ? 24 : 23;
    sim.setVolume(asked);
    // First the level asked for (answered at once), then, after MPD's refusal, the level kept. The
    // activation's own 25 (the kept level) may come after `n` too: only a 25 after the asked one counts.
    const volumes = (): number[] =>
      sim
        .sent(rid)
        .slice(n + 1)
        .filter((m) => m.type === 25)
        .map((m) => (m.body as qconnect.RndrSrvrVolumeChanged).volume ?? 0);
    await sim.waitFor(() => volumes().indexOf(asked) >= 0 && volumes().indexOf(kept, volumes().indexOf(asked)) >= 0, {
      what: 'the volume the speaker keeps, after the refusal',
    });
    await probe.waitFor(() => lastState().volume === kept, { timeoutMs: 15_000 });
    await probe.flush();
    expect(lastState().volume).toBe(kept);
  }, 40_000);
});
