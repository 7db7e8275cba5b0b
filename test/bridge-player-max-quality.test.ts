import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';

/** Issue #23: `players[].max_quality` below `qobuz.max_quality` is what the app hears. */
let h: BridgeHarness;

beforeAll(async () => {
  h = await startBridgeHarness({ trackSeconds: [6], playerMaxQuality: 'mp3', mqtt: 'embedded' });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('a player\'s own quality ceiling, end to end (issue #23)', () => {
  it('tells the app the player\'s lower ceiling (MP3, level 1, under the bridge\'s CD) in its device info and in 28', async () => {
    const { sim, rendererId: rid } = await h.connectApp({ loadQueue: true });
    expect(sim.core.renderers.get(rid)?.deviceInfo.capabilities?.max_audio_quality).toBe(1);
    await sim.waitFor(() => sim.renderers().find((r) => r.rendererId === rid)?.maxAudioQuality === 1, {
      what: 'max audio quality 1 reported (28)',
    });
  }, 30_000);
});
