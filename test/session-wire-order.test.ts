import { afterEach, describe, expect, it } from 'vitest';
import { message } from '../src/protocol/frame-writer.js';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { startPlaying, type Harness } from './support/session-harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const PLAYING = qconnect.PlayingState.PLAYING;
const PAUSED = qconnect.PlayingState.PAUSED;

/** The messages our renderer sent in the same frame as the 25 saying `volume`: one input's outcome, sent once. */
async function frameWithVolume(h: Harness, volume: number): Promise<{ type: number; body: unknown }[]> {
  const m = await h.sim.waitForMessage(h.rendererId, 25, { where: (b: qconnect.RndrSrvrVolumeChanged) => b.volume === volume });
  return h.sim.sent(h.rendererId).filter((s) => s.frameMsgId === m.frameMsgId);
}

const stateOf = (body: unknown): number | null | undefined =>
  (body as { state?: qconnect.QueueRendererState.$Properties }).state?.playing_state;

describe('a batch of Qobuz messages is answered in one frame, in the order its messages decided (issue #22)', () => {
  it('says the volume before the report of a pause that follows it, and the report of a play before the volume that follows it', async () => {
    h = await startPlaying();
    h.sim.sendMessages(h.rendererId, [message(42, { volume: 30 }), message(41, { playing_state: PAUSED })]);
    const first = await frameWithVolume(h, 30);
    expect(first.map((m) => m.type)).toEqual([25, 23]);
    expect(stateOf(first[1]?.body)).toBe(PAUSED);
    await h.sim.waitFor(() => h?.player.status === 'paused', { what: 'the speaker paused' });

    h.sim.sendMessages(h.rendererId, [message(41, { playing_state: PLAYING }), message(42, { volume: 40 })]);
    const second = await frameWithVolume(h, 40);
    expect(second.map((m) => m.type)).toEqual([23, 25]);
    expect(stateOf(second[0]?.body)).toBe(PLAYING);
    await h.sim.waitFor(() => h?.player.status === 'playing' && h.player.volume === 40, { what: 'the speaker playing at 40' });
  });
});
