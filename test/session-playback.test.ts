import { afterEach, describe, expect, it } from 'vitest';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { lastReport, startPlaying, type Harness } from './support/session-harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const PLAYING = qconnect.PlayingState.PLAYING;
const PAUSED = qconnect.PlayingState.PAUSED;
const STOPPED = qconnect.PlayingState.STOPPED;

function reportWhere(h: Harness, pred: (r: qconnect.QueueRendererState.$Properties) => boolean, what: string) {
  return h.sim.waitFor(() => {
    const r = lastReport(h);
    return r && pred(r) ? r : undefined;
  }, { what });
}

describe('playback commands from the app (issue #4, §5.6)', () => {
  it('plays, pauses, resumes and seeks, answering each SetState with a report', async () => {
    h = await startPlaying();
    h.sim.pause();
    await reportWhere(h, (r) => r.playing_state === PAUSED, 'paused report');
    expect(h.player.status).toBe('paused');
    h.sim.seek(42_000);
    const seeked = await reportWhere(h, (r) => (r.current_position?.value ?? 0) >= 42_000, 'seek report');
    expect(seeked.current_position?.value).toBeLessThan(43_000);
    expect(h.player.positionMs()).toBeGreaterThanOrEqual(42_000);
    h.sim.play();
    await reportWhere(h, (r) => r.playing_state === PLAYING, 'playing report');
    expect(h.player.status).toBe('playing');
  });

  it('jumps to an item at a position and queues the following one for a gapless change', async () => {
    h = await startPlaying();
    h.sim.jump(2, { positionMs: 5000, playing: true });
    await h.sim.waitFor(() => h!.player.current?.queueItemId === 2, { what: 'jumped' });
    expect(h.player.positionMs()).toBeGreaterThanOrEqual(5000);
    // The answer went out before the speaker was told (§5.6); it reaches the service on its own time.
    const report = await reportWhere(h, (r) => r.current_queue_item_id === 2, 'jump report');
    expect(report.next_queue_item_id ?? -1).toBe(-1);
  });

  it('stops on SetState STOPPED and on a negative current item', async () => {
    h = await startPlaying();
    h.sim.stop();
    await reportWhere(h, (r) => r.playing_state === STOPPED, 'stopped report');
    expect(h.player.status).toBe('stopped');
  });

  it('moves to the next item at track end by itself and reports it, and reports STOPPED at the end of the queue', async () => {
    h = await startPlaying({ tracks: [111, 222] });
    h.player.finishTrack();
    await reportWhere(h, (r) => r.current_queue_item_id === 1 && r.playing_state === PLAYING, 'second track');
    expect(h.player.next).toBeNull();
    h.player.finishTrack();
    await reportWhere(h, (r) => r.playing_state === STOPPED, 'end of queue');
  });

  it('repeats one track with loop REPEAT_ONE and wraps with REPEAT_ALL', async () => {
    h = await startPlaying({ tracks: [111, 222] });
    h.sim.setLoop('REPEAT_ONE');
    await h.sim.waitFor(() => h!.player.next?.queueItemId === 0, { what: 'next = same item' });
    h.sim.setLoop('REPEAT_ALL');
    await h.sim.waitFor(() => h!.player.next?.queueItemId === 1, { what: 'next = following item again' });
    h.player.finishTrack();
    await h.sim.waitFor(() => h!.player.current?.queueItemId === 1 && h!.player.next?.queueItemId === 0, { what: 'wrap around' });
  });

  it('follows the service shuffled order', async () => {
    h = await startPlaying({ tracks: [111, 222, 333, 444, 555] });
    h.sim.setShuffle(true, { seed: 7 });
    const order = await h.sim.waitFor(() => (h!.sim.queue().shuffle ? h!.sim.queue().shuffledIndexes : undefined), { what: 'shuffled' });
    const items = h.sim.queue().items;
    const at = order.findIndex((i) => items[i]?.queueItemId === h!.player.current?.queueItemId);
    const expectedNext = at + 1 < order.length ? items[order[at + 1]!]?.queueItemId : undefined;
    await h.sim.waitFor(() => h!.player.next?.queueItemId === expectedNext, { what: 'next from the shuffled order' });
  });

  it('ignores a SetState that only carries the queue version and next track (no answer)', async () => {
    h = await startPlaying();
    const before = h.sim.sent(h.rendererId).length;
    h.sim.sendInfoOnlySetState();
    h.sim.volumeDelta(0);
    await h.sim.waitForMessage(h.rendererId, 25, { after: before - 1 });
    const since = h.sim.sent(h.rendererId).slice(before).map((m) => m.type);
    expect(since).toEqual([25]);
  });

  it('sets the volume absolutely and by delta, and mutes, reporting each', async () => {
    h = await startPlaying();
    h.sim.setVolume(40);
    await h.sim.waitForMessage(h.rendererId, 25, { where: (b: qconnect.RndrSrvrVolumeChanged) => b.volume === 40 });
    expect(h.player.volume).toBe(40);
    h.sim.volumeDelta(-5);
    await h.sim.waitForMessage(h.rendererId, 25, { where: (b: qconnect.RndrSrvrVolumeChanged) => b.volume === 35 });
    expect(h.player.volume).toBe(35);
    // Volume 0 arrives as an empty 42: the service leaves zeros off the wire (issue #12).
    h.sim.setVolume(0);
    await h.sim.waitForMessage(h.rendererId, 25, { where: (b: qconnect.RndrSrvrVolumeChanged) => (b.volume ?? 0) === 0 });
    expect(h.player.volume).toBe(0);
    h.sim.mute(true);
    await h.sim.waitForMessage(h.rendererId, 29, { where: (b: qconnect.RndrSrvrVolumeMuted) => b.value === true });
  });

  it('reports a track that cannot be played and asks the service for the next one', async () => {
    h = await startPlaying();
    h.player.failCurrent();
    await h.sim.waitForMessage(h.rendererId, 2);
    await h.sim.waitForMessage(h.rendererId, 24);
    await h.sim.waitFor(() => h!.player.current?.queueItemId === 1, { what: 'skipped to the next item' });
  });

  it('reports a pause made at the speaker like any other change', async () => {
    h = await startPlaying();
    h.player.externally('paused');
    await reportWhere(h, (r) => r.playing_state === PAUSED, 'external pause reported');
    h.player.externalVolume(20);
    await h.sim.waitForMessage(h.rendererId, 25, { where: (b: qconnect.RndrSrvrVolumeChanged) => b.volume === 20 });
  });
});
