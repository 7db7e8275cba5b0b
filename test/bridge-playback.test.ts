import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import type { SimSession } from './support/qconnect-service.js';

/**
 * Issue #5: the Qobuz queue plays on a real MPD, stream URLs resolved just in time through the
 * Qobuz REST stub, every change reported back to the simulated Qobuz service.
 */
let h: BridgeHarness;
let sim: SimSession;
let rid: number;

beforeAll(async () => {
  h = await startBridgeHarness({ trackSeconds: [6, 3, 3] });
  ({ sim, rendererId: rid } = await h.connectApp({ loadQueue: true }));
}, 60_000);
afterAll(async () => h?.close());

/** Each scenario starts from its own known state: item `item` playing from `positionMs`. */
async function playing(item = 0, positionMs = 0): Promise<void> {
  const before = sim.sent(rid).length;
  sim.jump(item, { positionMs, playing: true });
  // The renderer answers the jump at once (BUFFERING), then reports buffer OK once MPD plays it;
  // waiting for both in that order ignores a late report of an earlier load.
  type Report = { state?: qconnect.QueueRendererState.$Properties };
  const ack = await sim.waitForMessage(rid, 23, {
    after: before - 1,
    where: (b: Report) => b.state?.buffer_state === qconnect.BufferState.BUFFERING && (b.state.current_queue_item_id ?? 0) === item,
  });
  await sim.waitForMessage(rid, 23, {
    after: ack.index,
    where: (b: Report) => b.state?.buffer_state === qconnect.BufferState.OK && (b.state.current_queue_item_id ?? 0) === item,
  });
  await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed ?? 0) * 1000 >= positionMs + 100, 10_000);
}

function lastReport() {
  const r = sim.sent(rid).filter((m) => m.type === 23).at(-1);
  return (r?.body as { state?: qconnect.QueueRendererState.$Properties } | undefined)?.state;
}

describe('playing the Qobuz queue on MPD (issue #5)', () => {
  it("starts the app's track on MPD within 1 s, through the bridge's stream route", async () => {
    await h.mpd.command('stop');
    const sentAt = Date.now();
    sim.jump(0, { playing: true });
    const status = await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed ?? 0) > 0.2, 10_000);
    expect(Date.now() - sentAt).toBeLessThan(5000); // the figure itself is bench/latency's
    const song = await h.mpd.command('currentsong');
    expect(song).toMatch(new RegExp(`file: http://127\\.0\\.0\\.1:${h.bridge.httpPort}/stream/living_room/[A-Za-z0-9_-]+\\.flac`));
    expect(song).not.toMatch(/request_sig|etsp/);
    expect(status.songid).toBeDefined();
    expect(h.api.requests.some((r) => r.path === 'track/getFileUrl' && r.status === 200)).toBe(true);
  });

  it('pauses, resumes and seeks within 250 ms of the requested position', async () => {
    await playing(0);
    sim.pause();
    await h.mpd.waitForStatus((s) => s.state === 'pause');
    sim.seek(2000);
    const s = await h.mpd.waitForStatus((st) => Math.abs(Number(st.elapsed) - 2) < 0.25);
    expect(Math.abs(Number(s.elapsed) * 1000 - 2000)).toBeLessThan(250);
    sim.play();
    await h.mpd.waitForStatus((st) => st.state === 'play' && Number(st.elapsed) > 2);
  });

  it('maps the app volume onto MPD and reports a volume change made at MPD', async () => {
    await playing(0);
    sim.setVolume(40);
    await h.mpd.waitForStatus((s) => s.volume === '40');
    const before = sim.sent(rid).length;
    await h.mpd.command('setvol 20');
    await sim.waitForMessage(rid, 25, { after: before - 1, where: (b: qconnect.RndrSrvrVolumeChanged) => b.volume === 20 });
  });

  it('reports a pause made by another MPD client', async () => {
    await playing(0);
    await h.mpd.command('pause 1');
    await sim.waitFor(() => (lastReport()?.playing_state === qconnect.PlayingState.PAUSED ? true : undefined), { what: 'PAUSED report' });
    await h.mpd.command('pause 0');
    await sim.waitFor(() => (lastReport()?.playing_state === qconnect.PlayingState.PLAYING ? true : undefined), { what: 'PLAYING report' });
  });

  it('changes track at the end with no stop between and tells Qobuz the new current item', async () => {
    await playing(0, 4500);
    const states: string[] = [];
    const deadline = Date.now() + 15_000;
    let changed = false;
    while (Date.now() < deadline && !changed) {
      const s = await h.mpd.status();
      states.push(s.state ?? '?');
      const song = await h.mpd.command('currentsong');
      // Item 1 plays at position 1: the finished item 0 stays before it as its previous (issue #23).
      changed = /Pos: 1/.test(song) && sim.sent(rid).some((m) => m.type === 23 && (m.body as { state?: { current_queue_item_id?: number } }).state?.current_queue_item_id === 1);
    }
    expect(changed).toBe(true);
    expect(states).not.toContain('stop');
  }, 30_000);
});
