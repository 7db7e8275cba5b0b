import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import {
  startBridgeHarness,
  type BridgeHarness,
  type BridgeHarnessOptions,
} from './support/bridge-harness.js';
import { mpdHolds } from './support/mpd-window.js';
import { waitForPlayingTitle } from './support/mpd-title.js';
import { BEHAVIOUR_VALUES, PLAYING, type SimSession } from './support/qconnect-service.js';

/**
 * Issue #21 part 1 (docs/protocol.md "Unknowns"): what the production service was never seen
 * doing while music plays, each behaviour a switch of the simulated service and each scenario run
 * under every setting, with a real MPD: where the 41 of a pick goes against its 43, what PREVIOUS
 * on the first item answers, what follows a clear, which suggestions 105 moves, and whether a link
 * is dropped when its token expires. The speaker, our reports and the service must agree.
 */
const run = promisify(execFile);
type Report = qconnect.QueueRendererState.$Properties;

interface Rig {
  readonly h: BridgeHarness;
  readonly sim: SimSession;
  readonly rid: number;
}
const rigs: BridgeHarness[] = [];
afterEach(async () => {
  for (const h of rigs.splice(0)) await h.close();
});

async function rig(
  o: BridgeHarnessOptions,
  app: { becomeActive?: boolean; loadQueue?: boolean } = {},
): Promise<Rig> {
  const h = await startBridgeHarness({ trackSeconds: [12, 12, 12], ...o });
  rigs.push(h);
  const { sim, rendererId: rid } = await h.connectApp(app);
  return { h, sim, rid };
}

/** The first report (23) of ours at index > `after` that matches. */
const reportAfter = (r: Rig, after: number, pred: (s: Report) => boolean) =>
  r.sim.waitForMessage(r.rid, 23, {
    after: after + 1,
    where: (b) => !!b.state && pred(b.state),
    timeoutMs: 10_000,
  });

const mpc = async (h: BridgeHarness, ...args: string[]) =>
  (await run('mpc', ['-h', h.mpd.host, '-p', String(h.mpd.port), ...args], { timeout: 10_000 })).stdout;

describe('the 41 of a pick before, with or after its 43 (issue #21, docs/protocol.md "Unknowns")', () => {
  it.each(BEHAVIOUR_VALUES.setStateOnPick)(
    'with setStateOnPick = %s: MPD plays the item the 41 names, and we report it',
    async (order) => {
      const r = await rig({ behaviours: { setStateOnPick: order } }, { becomeActive: false });
      // Nothing played yet, so an activation alone has nothing to take over: only the 41 says what plays.
      r.sim.loadQueue(r.h.trackIds, { startIndex: 1 });
      const from = r.sim.sent(r.rid).length;
      r.sim.pickRenderer(r.rid, { withSetState: true });
      await waitForPlayingTitle(r.h.mpd, 'Track 2');
      await reportAfter(
        r,
        from,
        (s) => s.current_queue_item_id === 1 && s.playing_state === PLAYING.PLAYING && s.buffer_state === 2,
      );
      expect(r.sim.activeRendererId).toBe(r.rid);
    },
    30_000,
  );
});

describe('PREVIOUS on the first item (issue #21, docs/protocol.md "Unknowns")', () => {
  it.each(BEHAVIOUR_VALUES.previousOnFirst)(
    'with previousOnFirst = %s: mpc prev on the first song ends where the service says, MPD and our reports agreeing',
    async (rule) => {
      const r = await rig({ behaviours: { previousOnFirst: rule } }, { loadQueue: true });
      r.sim.jump(0);
      const before = await r.h.mpd.waitForStatus(
        (s) => s.state === 'play' && Number(s.elapsed) > 2.5,
        10_000,
      );
      const t0 = Date.now();
      const from = r.sim.sent(r.rid).length - 1;
      await mpc(r.h, 'prev');
      await r.sim.waitForMessage(r.rid, 24, {
        after: from,
        where: (b) => b.action === qconnect.RndrSrvrRendererAction.ActionType.PREVIOUS,
      });
      if (rule === 'stop') {
        await r.h.mpd.waitForStatus((s) => s.state === 'stop', 10_000);
        await reportAfter(r, from, (s) => s.playing_state === PLAYING.STOPPED);
      } else {
        // Restarted (by MPD's own previous, then the service's 41 when it sends one): Track 1 from its start.
        await reportAfter(
          r,
          from,
          (s) => (s.current_queue_item_id ?? 0) === 0 && s.playing_state === PLAYING.PLAYING,
        );
        const status = await r.h.mpd.waitForStatus((s) => s.state === 'play', 10_000);
        // Back at the start: well behind where playing on would have taken it.
        expect(Number(status.elapsed)).toBeLessThan(Number(before.elapsed) + (Date.now() - t0) / 1000 - 2);
        await waitForPlayingTitle(r.h.mpd, 'Track 1');
      }
      expect(r.sim.activeRendererId).toBe(r.rid);
    },
    30_000,
  );
});

describe('what follows a queue clear (issue #21, docs/protocol.md "Unknowns")', () => {
  it.each(BEHAVIOUR_VALUES.afterClear)(
    'with afterClear = %s: the speaker stops and reports STOPPED, and the next queue plays',
    async (rule) => {
      const r = await rig({ behaviours: { afterClear: rule } }, { loadQueue: true });
      r.sim.jump(0);
      await waitForPlayingTitle(r.h.mpd, 'Track 1');
      const from = r.sim.sent(r.rid).length - 1;
      r.sim.clearQueue();
      await r.h.mpd.waitForStatus((s) => s.state === 'stop', 10_000);
      await reportAfter(r, from, (s) => s.playing_state === PLAYING.STOPPED);
      r.sim.loadQueue(r.h.trackIds);
      r.sim.jump(2);
      await waitForPlayingTitle(r.h.mpd, 'Track 3');
    },
    30_000,
  );
});

describe('which suggestions 105 moves into the queue (issue #21, docs/protocol.md "Unknowns")', () => {
  it.each(BEHAVIOUR_VALUES.autoplayPromotion)(
    'with autoplayPromotion = %s: MPD plays on gaplessly into the suggestions, a jump past one plays, and our mirror matches the service',
    async (rule) => {
      // The first suggestion (c) and the one jumped to (a) are long: what the scenario awaits while
      // they play must land before they end, also on a loaded machine (a second suggestion played
      // by itself would change what the service moves into the queue).
      const r = await rig({ trackSeconds: [30, 3, 30, 3], behaviours: { autoplayPromotion: rule } });
      const [a, b, c, d] = r.h.trackIds as [number, number, number, number];
      r.sim.loadQueue([a, b]);
      r.sim.setLoop('OFF');
      r.sim.setAutoplay(true);
      const [first, second, third] = r.sim.loadAutoplay([c, d, a]) as [number, number, number];
      r.sim.jump(1, { playing: true, positionMs: 1500 });
      await mpdHolds(r.h, [0, 1, first]);
      await mpdHolds(r.h, [1, first, second]);
      await r.sim.waitFor(() => r.sim.savedState?.currentQueueItemId === first, {
        what: 'the first suggestion reported',
      });
      // Played on with no stop in between.
      const reports = r.sim.sentOfType(r.rid, 23).map((m) => m.body.state);
      const jumped = reports.findIndex(
        (s) => s?.current_queue_item_id === 1 && s.playing_state === PLAYING.PLAYING,
      );
      expect(jumped).toBeGreaterThanOrEqual(0);
      expect(reports.slice(jumped).map((s) => s?.playing_state)).not.toContain(PLAYING.STOPPED);
      // The app jumps past a suggestion: what moves into the queue now differs by rule.
      r.sim.jump(third);
      await waitForPlayingTitle(r.h.mpd, 'Track 1');
      const expected = {
        'with-earlier': [0, 1, first, second, third],
        'only-current': [0, 1, first, third],
        never: [0, 1],
      }[rule];
      await r.sim.waitFor(
        () => JSON.stringify(r.sim.queue().items.map((i) => i.queueItemId)) === JSON.stringify(expected),
        {
          timeoutMs: 10_000,
          what: `the service queue ${JSON.stringify(expected)}`,
        },
      );
      const mirror = r.h.bridge.player('living_room')!.session.queue;
      await r.sim.waitFor(
        () =>
          JSON.stringify(mirror.items) === JSON.stringify(r.sim.queue().items) &&
          JSON.stringify(mirror.autoplay) === JSON.stringify(r.sim.queue().autoplay),
        { timeoutMs: 10_000, what: 'the mirror equal to the service queue' },
      );
    },
    30_000,
  );
});

describe('a link dropped or kept when its token expires (issue #21, docs/protocol.md "Unknowns")', () => {
  it.each([true, false])(
    'with dropLinksAtTokenExpiry = %s: with a user token, MPD plays on through two token lifetimes and the player stays active',
    async (drop) => {
      const r = await rig(
        { userAuthToken: true, tokenSeconds: 3, tokenRenewAheadMs: 1000, dropLinksAtTokenExpiry: drop },
        { loadQueue: true },
      );
      r.sim.jump(0);
      await waitForPlayingTitle(r.h.mpd, 'Track 1');
      // Two token lifetimes of music, the speaker never stopping.
      await r.h.mpd.waitForStatus((s) => s.state !== 'play' || Number(s.elapsed) > 7, 15_000);
      expect((await r.h.mpd.status()).state).toBe('play');
      if (drop) expect(r.h.service.expiredDrops).toBeGreaterThanOrEqual(1);
      else expect(r.h.service.expiredDrops).toBe(0);
      expect(r.h.minted.length).toBeGreaterThanOrEqual(2);
      await r.sim.waitFor(
        () =>
          r.sim.activeRendererId === r.rid &&
          r.h.bridge.player('living_room')!.session.view().qobuzSession === 'active',
        { timeoutMs: 10_000, what: 'the player active' },
      );
      await waitForPlayingTitle(r.h.mpd, 'Track 1');
    },
    40_000,
  );
});
