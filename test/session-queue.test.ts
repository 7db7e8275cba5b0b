import { afterEach, describe, expect, it } from 'vitest';
import { message } from '../src/protocol/frame-writer.js';
import { startHarness, waitActive, type Harness } from './support/session-harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function mirrorMatches(h: Harness): boolean {
  const sim = h.sim.queue();
  const mirror = h.session.queue;
  const same =
    JSON.stringify(mirror.items.map((i) => [i.queueItemId, i.trackId])) ===
    JSON.stringify(sim.items.map((i) => [i.queueItemId, i.trackId]));
  return same && mirror.version?.major === sim.version.major && mirror.version?.minor === sim.version.minor && mirror.shuffle === sim.shuffle;
}

describe('the queue mirror follows the service (issue #4, §6)', () => {
  it('equals the service queue after a load and after every kind of edit', async () => {
    h = await startHarness();
    await waitActive(h);
    const edits: Array<[string, () => void]> = [
      ['load', () => h!.sim.loadQueue([10, 20, 30, 40])],
      ['insert', () => h!.sim.insertTracks([15, 16], 0)],
      ['add', () => h!.sim.addTracks([50])],
      ['remove', () => h!.sim.removeTracks([2])],
      ['reorder', () => h!.sim.reorderTracks([4], -1)],
      ['shuffle on', () => h!.sim.setShuffle(true, { seed: 3 })],
      ['add while shuffled', () => h!.sim.addTracks([60])],
      ['shuffle off', () => h!.sim.setShuffle(false)],
      ['clear', () => h!.sim.clearQueue()],
      ['load again', () => h!.sim.loadQueue([70, 80])],
    ];
    for (const [what, edit] of edits) {
      edit();
      await h.sim.waitFor(() => mirrorMatches(h!), { what: `mirror after ${what}` });
    }
    expect(h.session.view().queue.length).toBe(2);
  });

  it('asks for the full queue again after a missed delta', async () => {
    h = await startHarness();
    await waitActive(h);
    h.sim.loadQueue([1, 2, 3]);
    await h.sim.waitFor(() => mirrorMatches(h!), { what: 'loaded' });
    const asked = h.sim.sent(h.rendererId).filter((m) => m.type === 76).length;
    // A delta that skips versions (as if one was lost on the way) must trigger a resync.
    const v = h.sim.queue().version;
    h.sim.sendMessages(h.rendererId, [
      message(93, { queue_version: { major: v.major, minor: v.minor + 3 }, tracks: [{ queue_item_id: 99, track_id: 999 }] }),
    ]);
    await h.sim.waitFor(() => h!.sim.sent(h!.rendererId).filter((m) => m.type === 76).length > asked, { what: '76 asked again' });
    await h.sim.waitFor(() => mirrorMatches(h!), { what: 'resynced' });
  });
});
