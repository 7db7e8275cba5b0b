import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import type { SimSession } from './support/qconnect-service.js';

/** Issue #5: loop one / all and the service's shuffle order, as MPD's own queue shows them. */
let h: BridgeHarness;
let sim: SimSession;

beforeAll(async () => {
  h = await startBridgeHarness({ trackSeconds: [6, 6, 6, 6, 6] });
  ({ sim } = await h.connectApp());
}, 60_000);
afterAll(async () => h?.close());

/** The queue items MPD holds, in MPD's order, named through the bridge's stream tokens. */
async function mpdItems(): Promise<number[]> {
  const files = [...(await h.mpd.command('playlistinfo')).matchAll(/^file: .*\/stream\/living_room\/([A-Za-z0-9_-]+)\.flac$/gm)];
  return files.map((m) => h.bridge.tokens.lookup('living_room', m[1]!)?.queueItemId ?? -99);
}

async function mpdHolds(expected: number[]): Promise<void> {
  const deadline = Date.now() + 4000;
  let got: number[] = [];
  while (Date.now() < deadline) {
    got = await mpdItems();
    if (JSON.stringify(got) === JSON.stringify(expected)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  expect(got).toEqual(expected);
}

describe('loop and shuffle on a real MPD (issue #5)', () => {
  it('queues the same item again with REPEAT_ONE, the first after the last with REPEAT_ALL, nothing with OFF', async () => {
    sim.loadQueue(h.trackIds);
    sim.setLoop('OFF');
    sim.jump(4, { playing: true });
    await h.mpd.waitForStatus((s) => s.state === 'play');
    await mpdHolds([4]);
    sim.setLoop('REPEAT_ALL');
    await mpdHolds([4, 0]);
    sim.setLoop('REPEAT_ONE');
    await mpdHolds([4, 4]);
    sim.setLoop('OFF');
    await mpdHolds([4]);
  });

  it("queues the next item of the service's shuffled order", async () => {
    sim.loadQueue(h.trackIds);
    sim.setLoop('OFF');
    sim.jump(0, { playing: true });
    await h.mpd.waitForStatus((s) => s.state === 'play');
    sim.setShuffle(true, { seed: 11 });
    const order = await sim.waitFor(() => (sim.queue().shuffle ? sim.queue().shuffledIndexes : undefined), { what: 'shuffled' });
    const items = sim.queue().items.map((i) => i.queueItemId);
    const at = order.findIndex((i) => items[i] === 0);
    const following = at + 1 < order.length ? items[order[at + 1]!] : undefined;
    await mpdHolds(following === undefined ? [0] : [0, following]);
  });
});
