import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { makeFlac } from './support/audio-fixtures.js';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import { connectProbe, type MqttProbe } from './support/mosquitto-server.js';
import type { SimSession } from './support/qconnect-service.js';

/**
 * Issue #16: every MPD client shows and controls what Qobuz plays. The other client is the real
 * `mpc`; each of its commands must reach Qobuz and MQTT as if the app had sent it.
 */
const run = promisify(execFile);
const B = 'qobuz-connect/living_room';
type Report = qconnect.QueueRendererState.$Properties;

let h: BridgeHarness;
let probe: MqttProbe;
let sim: SimSession;
let rid: number;
/** Album images, one per track: large enough that MPD hands them out in several `albumart` chunks. */
const covers: Buffer[] = [0, 1, 2].map((i) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0 + i]), randomBytes(40_000)]));
const coverPath = (i: number) => `/img/cover-${i}.jpg`;

beforeAll(async () => {
  h = await startBridgeHarness({
    trackSeconds: [12, 12, 12],
    trackExtras: (i, cdn) => ({
      albumArtist: 'Album Artist',
      trackNumber: i + 1,
      releaseDate: '2021-05-07',
      coverUrl: cdn.url(coverPath(i)),
    }),
  });
  const dir = mkdtempSync(join(tmpdir(), 'qcb-covers-'));
  covers.forEach((bytes, i) => {
    writeFileSync(join(dir, `cover-${i}.jpg`), bytes);
    h.cdn.add(coverPath(i), join(dir, `cover-${i}.jpg`));
  });
  // The user's own music, for the other client to play instead of ours.
  await makeFlac({ dir: join(h.mpd.dir, 'music'), name: 'mine.flac', seconds: 30, frequencyHz: 550 });
  await mpc('update', '--wait');
  probe = await connectProbe(h.mosquitto!.url);
  await probe.subscribe(`${B}/#`);
  ({ sim, rendererId: rid } = await h.connectApp({ loadQueue: true }));
}, 60_000);
afterAll(async () => {
  await probe?.end();
  await h?.close();
});

const mpc = async (...args: string[]) =>
  (await run('mpc', ['-h', h.mpd.host, '-p', String(h.mpd.port), ...args], { timeout: 10_000 })).stdout;

const songs = (command?: 'playlistinfo' | 'currentsong') => h.mpd.songs(command);

const tagsOf = (n: number) => ({
  Title: [`Track ${n}`],
  Artist: ['Test Artist'],
  Album: ['Test Album'],
  AlbumArtist: ['Album Artist'],
  Track: [String(n)],
  Date: ['2021-05-07'],
  Name: ['Qobuz'],
});

function reportAfter(index: number, pred: (s: Report) => boolean) {
  return sim.waitForMessage(rid, 23, { after: index, where: (b: { state?: Report }) => !!b.state && pred(b.state) });
}

function stateAfter(from: number, pred: (s: Record<string, unknown>) => boolean) {
  return probe.waitFor((m) => m.topic === `${B}/state` && pred(JSON.parse(m.payload) as Record<string, unknown>), {
    from,
    timeoutMs: 10_000,
  });
}

const item = (s: Report) => s.current_queue_item_id ?? 0;

/** Item `n` playing from the app, MPD past its start. */
async function playing(n: number): Promise<void> {
  const before = sim.sent(rid).length;
  // A jump always rewrites MPD's queue: a new playlist version tells its load from the previous play.
  const version = (await h.mpd.status()).playlist;
  sim.jump(n, { playing: true });
  await reportAfter(before - 1, (s) => s.buffer_state === qconnect.BufferState.OK && item(s) === n && s.playing_state === qconnect.PlayingState.PLAYING);
  await h.mpd.waitForStatus((s) => s.playlist !== version && s.state === 'play' && Number(s.elapsed ?? 0) > 0.3, 10_000);
}

describe('other MPD clients see and control what Qobuz plays (issue #16)', () => {
  it('shows the Qobuz tags of both queued songs in playlistinfo and currentsong, before and during play', async () => {
    sim.jump(0, { playing: false });
    const before = await h.mpd.waitForStatus(() => true);
    expect(before.state).not.toBe('play');
    const queued = await pollSongs((s) => s.length === 2 && !!s[0]?.Date && !!s[1]?.Date);
    expect(queued[0]).toMatchObject(tagsOf(1));
    expect(queued[1]).toMatchObject(tagsOf(2));

    await playing(0);
    // MPD applies the stream's own tags as its audio starts; ours are back right after, and stay.
    const [current] = await pollSongs((c) => !!c[0]?.Name && c[0]?.Title?.length === 1, 'currentsong');
    expect(current).toMatchObject(tagsOf(1));
    await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed ?? 0) > 2, 10_000);
    expect((await songs('currentsong'))[0]).toMatchObject(tagsOf(1));
    expect((await songs())[1]).toMatchObject(tagsOf(2));
  });

  it('reports mpc pause and play to Qobuz and MQTT', async () => {
    await playing(0);
    let n = sim.sent(rid).length - 1;
    let m = probe.messages.length;
    await mpc('pause');
    await reportAfter(n, (s) => s.playing_state === qconnect.PlayingState.PAUSED);
    await stateAfter(m, (s) => s.state === 'paused');
    n = sim.sent(rid).length - 1;
    m = probe.messages.length;
    await mpc('play');
    await reportAfter(n, (s) => s.playing_state === qconnect.PlayingState.PLAYING);
    await stateAfter(m, (s) => s.state === 'playing');
  });

  it('reports mpc seek as the new position, forward and back, and never as a previous', async () => {
    await playing(0);
    let n = sim.sent(rid).length - 1;
    const first = n;
    let m = probe.messages.length;
    await mpc('seek', '8');
    const r = await reportAfter(n, (s) => Math.abs(Number(s.current_position?.value ?? 0) - 8000) < 1000);
    expect(r.body).toBeDefined();
    await stateAfter(m, (s) => Math.abs(Number(s.position_ms) - 8000) < 1000);
    n = sim.sent(rid).length - 1;
    m = probe.messages.length;
    await mpc('seek', '2');
    await reportAfter(n, (s) => Math.abs(Number(s.current_position?.value ?? 0) - 2000) < 1000 && item(s) === 0);
    await stateAfter(m, (s) => Math.abs(Number(s.position_ms) - 2000) < 1000);
    expect(sim.sentTypes(rid, first + 1)).not.toContain(24);
  });

  it('reports mpc volume as a volume change', async () => {
    await playing(0);
    const n = sim.sent(rid).length - 1;
    const m = probe.messages.length;
    await mpc('volume', '35');
    await sim.waitForMessage(rid, 25, { after: n, where: (b: qconnect.RndrSrvrVolumeChanged) => b.volume === 35 });
    await stateAfter(m, (s) => s.volume === 35);
  });

  it('reports mpc next as a track change to the queued next item, which then carries its tags', async () => {
    await playing(0);
    const n = sim.sent(rid).length - 1;
    const m = probe.messages.length;
    await mpc('next');
    await reportAfter(n, (s) => item(s) === 1 && s.playing_state === qconnect.PlayingState.PLAYING);
    await stateAfter(m, (s) => (s.queue as { index: number | null }).index === 1);
    const [current] = await pollSongs((s) => !!s[0]?.Name && s[0]?.Title?.length === 1, 'currentsong');
    expect(current).toMatchObject(tagsOf(2));
  });

  it('turns mpc prev into the Qobuz previous (24), and plays the item the service answers with', async () => {
    await playing(1);
    await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed ?? 0) > 2.5, 10_000);
    const n = sim.sent(rid).length - 1;
    const m = probe.messages.length;
    // MPD holds nothing before our current song: its `previous` restarts it (docs/protocol.md §9.4).
    await mpc('prev');
    await sim.waitForMessage(rid, 24, { after: n, where: (b: qconnect.RndrSrvrRendererAction) => b.action === qconnect.RndrSrvrRendererAction.ActionType.PREVIOUS });
    // The simulated service answers PREVIOUS with a 41 playing the item before (queue item 0).
    await reportAfter(n, (s) => item(s) === 0 && s.playing_state === qconnect.PlayingState.PLAYING && s.buffer_state === qconnect.BufferState.OK);
    await stateAfter(m, (s) => (s.queue as { index: number | null }).index === 0 && (s.track as { title?: string } | null)?.title === 'Track 1');
    await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed ?? 0) > 0.2, 10_000);
    const [current] = await pollSongs((c) => !!c[0]?.Name && c[0]?.Title?.length === 1, 'currentsong');
    expect(current).toMatchObject(tagsOf(1));
    expect(sim.queue().currentQueueItemId).toBe(0);
    expect(sim.renderers().find((r) => r.rendererId === rid)?.lastState?.currentQueueItemId).toBe(0);
    // Exactly one PREVIOUS: the load of item 0 that followed is ours, not another restart.
    expect(sim.sentOfType(rid, 24).filter((x) => x.index > n)).toHaveLength(1);
  });

  it("hands MPD clients the album image of what plays through MPD's albumart, fetched once", async () => {
    await playing(2);
    const [song] = await songs('currentsong');
    const uri = song?.file?.[0] ?? '';
    expect(uri).toMatch(/\/stream\/living_room\/[A-Za-z0-9_-]+\.flac$/);
    const art = async () =>
      (await run('mpc', ['-h', h.mpd.host, '-p', String(h.mpd.port), 'albumart', uri], { encoding: 'buffer', timeout: 10_000 })).stdout;
    const first = await art();
    expect(first.equals(covers[2]!)).toBe(true);
    const again = await art();
    expect(again.equals(covers[2]!)).toBe(true);
    // Every client's albumart opens cover.* again (MPD asks for cover.png first): Qobuz was asked once.
    expect(h.cdn.requests.filter((r) => r.path === coverPath(2)).length).toBe(1);
  });

  it('steps aside when another client plays its own song, tells Qobuz it stopped, leaves the song playing, and takes MPD back on a jump from the app', async () => {
    await playing(0);
    let n = sim.sent(rid).length - 1;
    let m = probe.messages.length;
    await mpc('clear');
    await mpc('add', 'mine.flac');
    await mpc('play');
    const stopped = await reportAfter(n, (s) => s.playing_state === qconnect.PlayingState.STOPPED);
    await stateAfter(m, (s) => s.state === 'idle' && s.source === 'other' && s.qobuz_session === 'connected');
    // Qobuz was told we stopped, and we keep the link: the app shows the speaker, available.
    const record = sim.renderers().find((r) => r.rendererId === rid);
    expect(record?.lastState?.playingState).toBe(qconnect.PlayingState.STOPPED);
    expect(record?.connected).toBe(true);

    // Five seconds of the user's song, every status read on the way: never stopped, paused or replaced.
    const start = await h.mpd.waitForStatus((s) => s.state === 'play' && s.songid !== undefined, 10_000);
    const seen: Array<Record<string, string>> = [];
    await mpc('volume', '27'); // the user's volume is theirs: not reported to Qobuz while aside
    await h.mpd.waitForStatus((s) => {
      seen.push(s);
      return s.state !== 'play' || s.songid !== start.songid || Number(s.elapsed ?? 0) >= Number(start.elapsed ?? 0) + 5;
    }, 20_000);
    expect(seen.filter((s) => s.state !== 'play' || s.songid !== start.songid)).toEqual([]);
    expect((await songs()).map((x) => x.file?.[0])).toEqual(['mine.flac']);
    // After the STOPPED report, nothing more: no state, no volume (no longer the active renderer as far as we report).
    expect(sim.sentTypes(rid, stopped.index + 1).filter((t) => t === 23 || t === 25)).toEqual([]);

    n = sim.sent(rid).length - 1;
    m = probe.messages.length;
    sim.jump(1, { playing: true });
    await reportAfter(n, (s) => item(s) === 1 && s.playing_state === qconnect.PlayingState.PLAYING && s.buffer_state === qconnect.BufferState.OK);
    await stateAfter(m, (s) => s.state === 'playing' && s.source === 'qobuz' && s.qobuz_session === 'active');
    await ourSongPlaysAfterMine();
  });

  it('takes MPD back on a bare play from the app after stepping aside, from the item it stopped on', async () => {
    await playing(2);
    let n = sim.sent(rid).length - 1;
    let m = probe.messages.length;
    await mpc('clear');
    await mpc('add', 'mine.flac');
    await mpc('play');
    await reportAfter(n, (s) => s.playing_state === qconnect.PlayingState.STOPPED && item(s) === 2);
    await stateAfter(m, (s) => s.state === 'idle' && s.source === 'other');

    n = sim.sent(rid).length - 1;
    m = probe.messages.length;
    sim.play();
    await reportAfter(n, (s) => item(s) === 2 && s.playing_state === qconnect.PlayingState.PLAYING);
    await stateAfter(m, (s) => s.state === 'playing' && s.source === 'qobuz' && (s.queue as { index: number | null }).index === 2);
    await ourSongPlaysAfterMine();
    const [current] = await pollSongs((c) => !!c[0]?.Name && c[0]?.Title?.length === 1, 'currentsong');
    expect(current).toMatchObject(tagsOf(3));
  });

  it('reports mpc stop as stopped', async () => {
    await playing(0);
    const n = sim.sent(rid).length - 1;
    const m = probe.messages.length;
    await mpc('stop');
    await reportAfter(n, (s) => s.playing_state === qconnect.PlayingState.STOPPED);
    await stateAfter(m, (s) => s.state === 'stopped');
  });
});

/** Our song plays again, after the user's, which stays in its place; then the user removes theirs. */
async function ourSongPlaysAfterMine(): Promise<void> {
  const st = await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed ?? 0) > 0.2, 10_000);
  const [current] = await songs('currentsong');
  expect(current?.file?.[0]).toMatch(/\/stream\/living_room\/[A-Za-z0-9_-]+\.flac$/);
  expect(current?.Id).toEqual([st.songid]);
  const files = (await songs()).map((x) => x.file?.[0] ?? '');
  expect(files[0]).toBe('mine.flac');
  expect(files.slice(1).every((f) => f.includes('/stream/living_room/'))).toBe(true);
  // The user tidies up (MPD positions count from 1 in mpc), so no other test finds their song first.
  await mpc('del', '1');
}

async function pollSongs(pred: (s: Array<Record<string, string[]>>) => boolean, command: 'playlistinfo' | 'currentsong' = 'playlistinfo') {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const s = await songs(command);
    if (pred(s)) return s;
    if (Date.now() > deadline) throw new Error(`MPD songs never matched: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
