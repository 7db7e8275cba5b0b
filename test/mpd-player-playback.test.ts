import { describe, expect, it } from 'vitest';
import type { PlayableItem } from '../src/core/player.js';
import { MpdPlayer } from '../src/mpd/mpd-player.js';
import { makeFlac } from './support/audio-fixtures.js';
import type { AudioHttpServer } from './support/audio-http-server.js';
import type { MpdServer } from './support/mpd-server.js';
import { useMpdPlayerRig } from './support/mpd-player-rig.js';
import { nextEvent } from './support/next-event.js';

// Issue #5: real audio through MPD. Real MPD, real FLAC over HTTP with Range support.

const SHORT_A: PlayableItem = { queueItemId: 10, trackId: 1 }; // 2 s
const SHORT_B: PlayableItem = { queueItemId: 11, trackId: 2 }; // 2 s
const SHORT_C: PlayableItem = { queueItemId: 12, trackId: 3 }; // 2 s
const LONG: PlayableItem = { queueItemId: 20, trackId: 8 }; // 8 s

let mpd: MpdServer;
let cdn: AudioHttpServer;
let dir: string;
const path = (item: PlayableItem) => `/stream/${item.trackId}.flac`;

const rig = useMpdPlayerRig('play', async (parts) => {
  ({ mpd, cdn, dir } = parts);
  cdn.add(path(SHORT_A), await makeFlac({ dir, name: 'a.flac', seconds: 2 }));
  cdn.add(path(SHORT_B), await makeFlac({ dir, name: 'b.flac', seconds: 2, frequencyHz: 660 }));
  cdn.add(path(SHORT_C), await makeFlac({ dir, name: 'c.flac', seconds: 2, frequencyHz: 880 }));
  cdn.add(
    path(LONG),
    await makeFlac({ dir, name: 'long.flac', seconds: 8, sampleRate: 48_000, bitDepth: 24 }),
  );
});

async function startPlayer(): Promise<MpdPlayer> {
  const player = await rig.start({ urlFor: (item) => cdn.url(path(item)) });
  expect(player.snapshot().available).toBe(true);
  return player;
}

const elapsed = (st: Record<string, string>) => Number(st.elapsed ?? 'NaN');

describe('MpdPlayer playback on a real MPD (issue #5)', () => {
  it('load and play fetches the right URL within 1 s and elapsed advances', async () => {
    const p = await startPlayer();
    const snaps: boolean[] = [];
    p.events.on('stateChanged', (snap) => snap.status === 'playing' && snaps.push(snap.buffering));
    const format = nextEvent(p, 'formatChanged');
    const started = Date.now();
    await p.load(LONG, { positionMs: 0, play: true, next: null });
    const st = await mpd.waitForStatus((s) => s.state === 'play' && elapsed(s) > 0.2, 10_000);
    const first = cdn.requestsFor(path(LONG)).find((r) => r.at >= started);
    expect(first?.status).toBe(200);
    expect((first?.at ?? Infinity) - started).toBeLessThan(5000);
    expect(await mpd.command('currentsong')).toContain(`file: ${cdn.url(path(LONG))}`);
    expect(st.audio).toBe('48000:24:2');
    await mpd.waitForStatus((s) => elapsed(s) > elapsed(st) + 0.2);
    const snap = p.snapshot();
    expect(snap).toMatchObject({ status: 'playing', current: LONG, buffering: false, durationMs: 8000 });
    // Without MPD's config the output is taken to be the stream and bit-perfectness is unknown (issue #23).
    const played = { sampleRateHz: 48_000, bitDepth: 24, channels: 2 };
    expect(snap.format).toEqual({ ...played, stream: played, bitPerfect: null });
    expect(await format).toEqual([{ ...played, stream: played, bitPerfect: null }]);
    // Buffering from load until elapsed advanced, then not.
    expect(snaps[0]).toBe(true);
    expect(snaps.at(-1)).toBe(false);
  });

  it('pause, resume and seek land within 250 ms of the requested position', async () => {
    const p = await startPlayer();
    // MPD's elapsed right after our command resolved; while playing, the time the status
    // read itself took is allowed on top (a busy CI machine must not fail the bound).
    const landed = async (run: () => Promise<void>) => {
      await run();
      const done = Date.now();
      const st = await mpd.status();
      return { st, sec: elapsed(st), slackSec: st.state === 'play' ? (Date.now() - done) / 1000 : 0 };
    };

    let r = await landed(() => p.load(LONG, { positionMs: 1500, play: true, next: null }));
    expect(r.st.state).toBe('play');
    expect(r.sec).toBeGreaterThanOrEqual(1.5);
    expect(r.sec).toBeLessThan(1.75 + r.slackSec);
    await mpd.waitForStatus((s) => elapsed(s) > 1.8);

    r = await landed(() => p.pause());
    expect(r.st.state).toBe('pause');
    expect(Math.abs(p.snapshot().positionMs - r.sec * 1000)).toBeLessThan(1000);
    const pausedAt = r.sec;

    r = await landed(() => p.play());
    expect(r.st.state).toBe('play');
    expect(r.sec).toBeGreaterThanOrEqual(pausedAt);
    expect(r.sec - pausedAt).toBeLessThan(0.25 + r.slackSec);

    const seekStarted = Date.now();
    r = await landed(() => p.seek(5000));
    expect(r.sec).toBeGreaterThanOrEqual(5);
    expect(r.sec).toBeLessThan(5.25 + r.slackSec);
    expect(Math.abs(p.snapshot().positionMs - 5000)).toBeLessThan(1000);
    await mpd.waitForStatus((s) => s.state === 'play' && elapsed(s) > 5.1);
    // Whether MPD re-opens the stream with a Range request for this seek depends on how much of
    // the file it had already buffered (docs/protocol.md §9.2): every request it made was answered.
    expect(cdn.requestsFor(path(LONG)).filter((r) => r.at >= seekStarted).every((r) => r.status === 200 || r.status === 206)).toBe(true);
  });

  it('load without play shows paused at the position and starts there on play', async () => {
    const p = await startPlayer();
    await p.load(LONG, { positionMs: 3000, play: false, next: null });
    expect(p.snapshot()).toMatchObject({ status: 'paused', positionMs: 3000, current: LONG });
    expect((await mpd.status()).state).toBe('stop');
    await p.play();
    const st = await mpd.waitForStatus((s) => s.state === 'play');
    expect(elapsed(st)).toBeGreaterThanOrEqual(3);
    expect(elapsed(st)).toBeLessThan(3.25);
  });

  it('moves on to the next item at the end without MPD ever stopping, keeps the finished one as previous (issue #23), then reports the queue end', async () => {
    const p = await startPlayer();
    const started = nextEvent(p, 'trackStarted');
    const ended = nextEvent(p, 'queueEnded', () => true, 15_000);
    await p.load(SHORT_A, { positionMs: 0, play: true, next: SHORT_B });
    const aId = (await mpd.status()).songid;
    const states: string[] = [];
    const bUrl = cdn.url(path(SHORT_B));
    // Poll MPD quickly across the change: it must never report `stop` in between.
    const st = await mpd.waitForStatus((s) => {
      states.push(s.state ?? '?');
      return s.songid !== undefined && s.songid !== aId;
    }, 15_000);
    expect(states).not.toContain('stop');
    expect(st.state).toBe('play');
    expect(await mpd.command('currentsong')).toContain(`file: ${bUrl}`);
    expect(await started).toEqual([SHORT_B]);
    // The finished entry stays before the current one as its previous (issue #23), and nothing else.
    const queue = await mpd.command('playlistinfo');
    expect([...queue.matchAll(/^file: (.*)$/gm)].map((m) => m[1])).toEqual([cdn.url(path(SHORT_A)), bUrl]);
    expect(p.snapshot().current).toEqual(SHORT_B);
    await ended;
    expect(p.snapshot()).toMatchObject({ status: 'stopped', current: null });
    // At the queue's end our songs leave MPD's queue.
    await mpd.waitForStatus((s) => s.playlistlength === '0');
  });

  it('setNext swaps only the following entry and MPD moves on to the new one', async () => {
    const p = await startPlayer();
    await p.load(SHORT_A, { positionMs: 0, play: true, next: SHORT_B });
    const before = await mpd.command('playlistinfo');
    const currentId = /Id: (\d+)/.exec(before)?.[1];
    // Listened for before the swap: the current song is 2 s long, and on a loaded machine the
    // reads below can outlast it (the change to C would then come before a later listener).
    const started = nextEvent(p, 'trackStarted', () => true, 15_000);
    await p.setNext(SHORT_C);
    const after = await mpd.command('playlistinfo');
    expect(after).not.toContain(cdn.url(path(SHORT_B)));
    expect(after.match(/^file: .*$/gm)).toEqual([
      `file: ${cdn.url(path(SHORT_A))}`,
      `file: ${cdn.url(path(SHORT_C))}`,
    ]);
    expect(/Id: (\d+)/.exec(after)?.[1]).toBe(currentId);
    expect((await mpd.status()).state).toBe('play');
    expect(await started).toEqual([SHORT_C]);
    expect(await mpd.command('currentsong')).toContain(`file: ${cdn.url(path(SHORT_C))}`);
  });

  it('stop() leaves MPD paused with its queue intact', async () => {
    const p = await startPlayer();
    await p.load(LONG, { positionMs: 0, play: true, next: SHORT_B });
    await mpd.waitForStatus((s) => s.state === 'play' && elapsed(s) > 0.1);
    await p.stop();
    const st = await mpd.status();
    expect(st.state).toBe('pause');
    expect(st.playlistlength).toBe('2');
    expect(await mpd.command('playlistinfo')).toContain(cdn.url(path(LONG)));
  });

  it('stopPlayback stops MPD and forgets the current item', async () => {
    const p = await startPlayer();
    await p.load(LONG, { positionMs: 0, play: true, next: null });
    await p.stopPlayback();
    const st = await mpd.status();
    expect(st.state).toBe('stop');
    expect(st.playlistlength).toBe('0');
    expect(p.snapshot()).toMatchObject({ status: 'stopped', current: null });
  });
});
