import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import { mpdHolds } from './support/mpd-window.js';
import { waitForPlayingTitle } from './support/mpd-title.js';
import type { SimSession } from './support/qconnect-service.js';

/**
 * Issue #23 "Previous like any player" (docs/protocol.md §9.4): MPD's queue holds the previous
 * Qobuz item before the current one, so an MPD client's `previous` (the real `mpc`, as Home
 * Assistant's MPD media player sends it) lands on a song we recognise, at any position, and becomes
 * one Qobuz PREVIOUS (24); the service's answer is taken as MPD already plays it.
 */
const run = promisify(execFile);
type Report = qconnect.QueueRendererState.$Properties;
const PREVIOUS = qconnect.RndrSrvrRendererAction.ActionType.PREVIOUS;
const PLAYING = qconnect.PlayingState.PLAYING;
const OK = qconnect.BufferState.OK;

let h: BridgeHarness;
let sim: SimSession;
let rid: number;

beforeAll(async () => {
  h = await startBridgeHarness({ trackSeconds: [40, 40, 40] });
  ({ sim, rendererId: rid } = await h.connectApp({ loadQueue: true }));
}, 60_000);
afterAll(async () => h?.close());

const mpc = async (...args: string[]) =>
  (await run('mpc', ['-h', h.mpd.host, '-p', String(h.mpd.port), ...args], { timeout: 10_000 })).stdout;
const item = (s: Report) => s.current_queue_item_id ?? 0;
const reportAfter = (index: number, pred: (s: Report) => boolean) =>
  sim.waitForMessage(rid, 23, { after: index, where: (b: { state?: Report }) => !!b.state && pred(b.state), timeoutMs: 10_000 });
const previousesAfter = (index: number) =>
  sim.sentOfType(rid, 24).filter((m) => m.index > index && m.body.action === PREVIOUS);
const tagsOf = (n: number) => ({ Title: [`Track ${n}`], Artist: ['Test Artist'], Album: ['Test Album'], Name: ['Qobuz'] });

/** Item `n` playing from the app, MPD past its start. */
async function playing(n: number): Promise<void> {
  const before = sim.sent(rid).length;
  const version = (await h.mpd.status()).playlist;
  sim.jump(n, { playing: true });
  await reportAfter(before - 1, (s) => s.buffer_state === OK && item(s) === n && s.playing_state === PLAYING);
  await h.mpd.waitForStatus((s) => s.playlist !== version && s.state === 'play' && Number(s.elapsed ?? 0) > 0.3, 10_000);
}

/** The MPD song id of the song before the current one: where MPD's `previous` goes. */
async function previousSongId(): Promise<string | undefined> {
  const st = await h.mpd.status();
  return (await h.mpd.songs()).find((s) => Number(s.Pos?.[0]) === Number(st.song) - 1)?.Id?.[0];
}

/**
 * After `mpc prev`: MPD plays on the very song `previous` went to (song id `id`) and never goes back
 * in it until `elapsed` passes `untilSec`: the service's answer to our PREVIOUS loads nothing again
 * (a load would give the song a new id, or restart it).
 */
async function playsOnWithoutReload(id: string | undefined, untilSec: number): Promise<void> {
  expect(id).toBeDefined();
  const seen: Array<{ id: string | undefined; elapsed: number }> = [];
  await h.mpd.waitForStatus((s) => {
    seen.push({ id: s.songid, elapsed: Number(s.elapsed ?? 0) });
    return s.state === 'play' && Number(s.elapsed ?? 0) > untilSec;
  }, 15_000);
  expect(new Set(seen.map((s) => s.id))).toEqual(new Set([id]));
  seen.forEach((s, i) => expect(s.elapsed).toBeGreaterThanOrEqual((seen[i - 1]?.elapsed ?? 0) - 0.05));
}

/** Once the service's cursor and our last report agree on `n`, and MPD plays its title. */
async function settledOn(n: number): Promise<void> {
  await sim.waitFor(() => sim.queue().currentQueueItemId === n, { what: `service on item ${n}`, timeoutMs: 10_000 });
  await waitForPlayingTitle(h.mpd, `Track ${n + 1}`);
  expect(sim.renderers().find((r) => r.rendererId === rid)?.lastState?.currentQueueItemId).toBe(n);
}

describe("an MPD client's previous is the Qobuz previous (issue #23)", () => {
  it('holds the previous item before the current one with its tags, for every MPD client to see', async () => {
    await playing(1);
    await mpdHolds(h, [0, 1, 2]);
    const songs = await h.mpd.songs();
    expect(songs[0]).toMatchObject(tagsOf(1));
    expect(songs[1]).toMatchObject(tagsOf(2));
    expect(songs[2]).toMatchObject(tagsOf(3));
    expect((await h.mpd.status()).song).toBe('1');
  });

  it('plays the previous Qobuz item for mpc prev 0.3 s after mpc next, the service receiving exactly one PREVIOUS', async () => {
    await playing(0);
    await mpdHolds(h, [0, 1]);
    const n = sim.sent(rid).length - 1;
    const t0 = Date.now();
    await mpc('next');
    // The change has reached Qobuz (our report of item 1), as it does within a few ms.
    await reportAfter(n, (s) => item(s) === 1 && s.playing_state === PLAYING);
    await new Promise((r) => setTimeout(r, Math.max(0, 300 - (Date.now() - t0))));
    const m = sim.sent(rid).length - 1;
    const target = await previousSongId();
    const into = Number((await h.mpd.status()).elapsed);
    const t1 = Date.now();
    await mpc('prev');
    await sim.waitForMessage(rid, 24, { after: m, where: (b: qconnect.RndrSrvrRendererAction) => b.action === PREVIOUS });
    const previousMs = Date.now() - t1;
    await reportAfter(m, (s) => item(s) === 0 && s.playing_state === PLAYING && s.buffer_state === OK);
    console.log(`mpc prev ${t1 - t0} ms after mpc next (${into.toFixed(2)} s into the song) → PREVIOUS at the service ${previousMs} ms, item 0 reported playing ${Date.now() - t1} ms`);
    await playsOnWithoutReload(target, 2);
    await settledOn(0);
    expect(previousesAfter(n)).toHaveLength(1);
    // The window slid back: the item before it is none (the first), the next one is item 1 again.
    await mpdHolds(h, [0, 1]);
    // What Home Assistant's MPD media player reads: the song now playing carries our tags.
    expect((await h.mpd.songs('currentsong'))[0]).toMatchObject(tagsOf(1));
  });

  it('goes to the previous item for mpc prev at 20 s too, as MPD does, with one PREVIOUS (docs/protocol.md §9.4)', async () => {
    await playing(2);
    const n = sim.sent(rid).length - 1;
    await mpc('seek', '20');
    await reportAfter(n, (s) => item(s) === 2 && Number(s.current_position?.value ?? 0) >= 19_500);
    const m = sim.sent(rid).length - 1;
    const target = await previousSongId();
    await mpc('prev');
    await sim.waitForMessage(rid, 24, { after: m, where: (b: qconnect.RndrSrvrRendererAction) => b.action === PREVIOUS });
    await reportAfter(m, (s) => item(s) === 1 && s.playing_state === PLAYING && s.buffer_state === OK);
    await playsOnWithoutReload(target, 1);
    await settledOn(1);
    expect(Number((await h.mpd.status()).elapsed)).toBeLessThan(10);
    expect(previousesAfter(n)).toHaveLength(1);
    await mpdHolds(h, [0, 1, 2]);
    expect((await h.mpd.songs('currentsong'))[0]).toMatchObject(tagsOf(2));
  });

  it('restarts the first item, which has no previous, and leaves the answer to the service: one PREVIOUS', async () => {
    await playing(0);
    await mpdHolds(h, [0, 1]);
    const before = await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 2.5, 10_000);
    const n = sim.sent(rid).length - 1;
    const t0 = Date.now();
    await mpc('prev');
    await sim.waitForMessage(rid, 24, { after: n, where: (b: qconnect.RndrSrvrRendererAction) => b.action === PREVIOUS });
    // The simulated service restarts the first item (its `previousOnFirst` default, docs/protocol.md "Unknowns").
    await reportAfter(n, (s) => item(s) === 0 && s.playing_state === PLAYING && s.buffer_state === OK);
    await settledOn(0);
    // Back at the start: well behind where playing on would have taken it.
    const status = await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed ?? 0) > 0, 10_000);
    expect(Number(status.elapsed)).toBeLessThan(Number(before.elapsed) + (Date.now() - t0) / 1000 - 2);
    expect(previousesAfter(n)).toHaveLength(1);
    await mpdHolds(h, [0, 1]);
  });
});
