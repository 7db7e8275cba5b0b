import { afterAll, beforeAll, describe, it } from 'vitest';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import { mpdHolds } from './support/mpd-window.js';
import type { SimSession } from './support/qconnect-service.js';

/** Issue #5: loop one / all and the service's shuffle order, as MPD's own queue shows them. */
let h: BridgeHarness;
let sim: SimSession;

beforeAll(async () => {
  // The items played here (the first, the last) are long: every change of MPD's window a scenario
  // awaits must land while they play, also on a loaded machine.
  h = await startBridgeHarness({ trackSeconds: [30, 6, 6, 6, 30] });
  ({ sim } = await h.connectApp());
}, 60_000);
afterAll(async () => h?.close());

describe('loop and shuffle on a real MPD (issue #5)', () => {
  it('queues the same item again with REPEAT_ONE, the first after the last with REPEAT_ALL, nothing with OFF, and the item before it ahead of it (issue #23)', async () => {
    sim.loadQueue(h.trackIds);
    sim.setLoop('OFF');
    sim.jump(4, { playing: true });
    await h.mpd.waitForStatus((s) => s.state === 'play');
    // [previous, current, next] (issue #23): the previous one is the item before in play order.
    await mpdHolds(h, [3, 4]);
    sim.setLoop('REPEAT_ALL');
    await mpdHolds(h, [3, 4, 0]);
    sim.setLoop('REPEAT_ONE');
    await mpdHolds(h, [3, 4, 4]);
    sim.setLoop('OFF');
    await mpdHolds(h, [3, 4]);
  });

  it("queues the next and the previous item of the service's shuffled order (issue #23)", async () => {
    sim.loadQueue(h.trackIds);
    sim.setLoop('OFF');
    sim.jump(0, { playing: true });
    await h.mpd.waitForStatus((s) => s.state === 'play');
    sim.setShuffle(true, { seed: 11 });
    const order = await sim.waitFor(() => (sim.queue().shuffle ? sim.queue().shuffledIndexes : undefined), {
      what: 'shuffled',
    });
    const items = sim.queue().items.map((i) => i.queueItemId);
    const at = order.findIndex((i) => items[i] === 0);
    const following = at + 1 < order.length ? items[order[at + 1]!] : undefined;
    const before = at > 0 ? items[order[at - 1]!] : undefined;
    await mpdHolds(h, [before, 0, following].filter((i): i is number => i !== undefined));
  });
});
