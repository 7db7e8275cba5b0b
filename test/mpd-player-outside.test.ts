import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { PlayableItem } from '../src/core/player.js';
import { MpdPlayer } from '../src/mpd/mpd-player.js';
import { makeFlac } from './support/audio-fixtures.js';
import type { AudioHttpServer } from './support/audio-http-server.js';
import type { MpdServer } from './support/mpd-server.js';
import { useMpdPlayerRig } from './support/mpd-player-rig.js';
import { nextEvent } from './support/next-event.js';

// Issue #5: changes from other MPD clients, failing URLs and a crashing MPD.

const TRACK: PlayableItem = { queueItemId: 1, trackId: 1 }; // 8 s
const OTHER: PlayableItem = { queueItemId: 2, trackId: 2 }; // 3 s
const MISSING: PlayableItem = { queueItemId: 3, trackId: 404 };
const SIGNED: PlayableItem = { queueItemId: 4, trackId: 403 };
const SEEKY: PlayableItem = { queueItemId: 5, trackId: 7 }; // 8 s, refuses ranges on demand

let mpd: MpdServer;
let cdn: AudioHttpServer;
let dir: string;
let logLines: string[] = [];
const path = (item: PlayableItem) => `/stream/${item.trackId}.flac`;

const rig = useMpdPlayerRig('outside', async (parts) => {
  ({ mpd, cdn, dir } = parts);
  cdn.add(path(TRACK), await makeFlac({ dir, name: 'track.flac', seconds: 8 }));
  cdn.add(path(SEEKY), await makeFlac({ dir, name: 'seeky.flac', seconds: 8 }));
  cdn.add(path(OTHER), await makeFlac({ dir, name: 'other.flac', seconds: 3, frequencyHz: 660 }));
  cdn.fail(path(MISSING), 404);
  // Like the stream route: a stable URL that redirects to a signed CDN URL, here refused.
  cdn.fail('/cdn/x.flac', 403);
  cdn.redirect(path(SIGNED), cdn.url('/cdn/x.flac?request_sig=SECRET123&etsp=1'));
});

async function startPlayer(
  volume = { min: 0, max: 100 },
  opts: { waitUp?: boolean } = {},
  isOurs?: (uri: string) => boolean,
): Promise<MpdPlayer> {
  logLines = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  const options = { volume, urlFor: (item: PlayableItem) => cdn.url(path(item)), logger: pino({ level: 'debug' }, sink), reconnect: { stepsMs: [100, 250, 500] }, ...(isOurs ? { isOurs } : {}) };
  return rig.start(options, opts);
}

const elapsed = (st: Record<string, string>) => Number(st.elapsed ?? 'NaN');

describe('MpdPlayer and other MPD clients (issue #5)', () => {
  it('maps the Qobuz volume onto 20..80 both ways, including setvol from outside', async () => {
    const p = await startPlayer({ min: 20, max: 80 });
    await p.setVolume(50);
    expect((await mpd.status()).volume).toBe('50');
    await p.setVolume(100);
    expect((await mpd.status()).volume).toBe('80');
    await p.setVolume(0);
    expect((await mpd.status()).volume).toBe('20');
    await p.setVolume(37);
    expect(p.snapshot().volumePercent).toBe(37);

    const fromOutside = nextEvent(p, 'volumeChanged');
    await mpd.command('setvol 50');
    expect(await fromOutside).toEqual([50, false]);
    const knob = nextEvent(p, 'volumeChanged');
    await mpd.command('setvol 80');
    expect(await knob).toEqual([100, false]);
    expect(p.snapshot().volumePercent).toBe(100);
  });

  it('reports a pause and a resume made by another client as state changes', async () => {
    const p = await startPlayer();
    await p.load(TRACK, { positionMs: 0, play: true, next: null });
    await mpd.waitForStatus((s) => s.state === 'play' && elapsed(s) > 0.1);
    const paused = nextEvent(p, 'stateChanged', (s) => s.status === 'paused');
    await mpd.command('pause 1');
    const [snap] = await paused;
    expect(snap.current).toEqual(TRACK);
    expect(p.snapshot().status).toBe('paused');
    const resumed = nextEvent(p, 'stateChanged', (s) => s.status === 'playing');
    await mpd.command('pause 0');
    await resumed;
    const seeked = nextEvent(p, 'stateChanged', (s) => Math.abs(s.positionMs - 6000) < 250);
    await mpd.command('seekcur 6');
    await seeked;
  });

  // docs/protocol.md §9.4: with no song before ours, MPD's `previous` restarts ours. From a playing
  // song it looks exactly like `seekcur 0`, so a backward seek elsewhere must not count, nor our own seek.
  it("reads another client's previous on our first song as previousRequested, playing or paused, but not a backward seek or our own seek to 0", async () => {
    const p = await startPlayer();
    let asked = 0;
    p.events.on('previousRequested', () => (asked += 1));
    await p.load(TRACK, { positionMs: 0, play: true, next: OTHER });
    await mpd.waitForStatus((s) => s.state === 'play' && elapsed(s) > 4.5);
    const back = nextEvent(p, 'stateChanged', (s) => Math.abs(s.positionMs - 2000) < 400);
    await mpd.command('seekcur 2');
    await back;
    expect(asked).toBe(0);

    await mpd.waitForStatus((s) => elapsed(s) > 3);
    await p.seek(0);
    await mpd.waitForStatus((s) => s.state === 'play' && elapsed(s) > 1.5);
    const restarted = nextEvent(p, 'previousRequested');
    await mpd.command('previous');
    await restarted;
    expect(asked).toBe(1);
    expect(p.snapshot()).toMatchObject({ status: 'playing', current: TRACK });
    expect(p.snapshot().positionMs).toBeLessThan(1000);

    await mpd.waitForStatus((s) => elapsed(s) > 1.5);
    const paused = nextEvent(p, 'stateChanged', (s) => s.status === 'paused');
    await mpd.command('pause 1');
    await paused;
    const fromPause = nextEvent(p, 'previousRequested');
    await mpd.command('previous');
    await fromPause;
    expect(asked).toBe(2);
    expect((await mpd.status()).state).toBe('play');
  });

  it('mutes to the bottom of the range and restores the previous volume on unmute', async () => {
    const p = await startPlayer({ min: 20, max: 80 });
    await p.setVolume(70);
    expect((await mpd.status()).volume).toBe('62');
    await p.setMuted(true);
    expect((await mpd.status()).volume).toBe('20');
    expect(p.snapshot()).toMatchObject({ muted: true, volumePercent: 70 });
    await p.setMuted(false);
    expect((await mpd.status()).volume).toBe('62');
    expect(p.snapshot()).toMatchObject({ muted: false, volumePercent: 70 });
  });

  // Issue #11 listed this test as flaky since 0.1. The cause, found from the log printed below:
  // when MPD's error was read before MPD skipped on, the skip was taken for a gapless change and
  // MPD played the next item by itself (fixed in mpd-reconcile.ts). Once in ten runs it failed
  // another way: MPD answered the load's `playid` itself with `ACK … Failed to decode …404`, so
  // `load` rejected; the player now takes that for the item failing (mpd-player.ts). A failure
  // still prints the player's log.
  it('reports a URL answering 404 as itemFailed and does not skip by itself', async () => {
    const p = await startPlayer();
    const failed = nextEvent(p, 'itemFailed');
    await p.load(MISSING, { positionMs: 0, play: true, next: OTHER });
    const [item, reason] = await failed;
    expect(item).toEqual(MISSING);
    expect(reason.length).toBeGreaterThan(0);
    const st = await mpd.waitForStatus((s) => s.state === 'stop');
    expect(st.state).toBe('stop');
    // MPD says stop on the test's connection first; the player's picture follows with its next sync.
    try {
      await expect.poll(() => p.snapshot(), { timeout: 10_000 }).toMatchObject({ status: 'stopped', current: MISSING });
    } catch (err) {
      console.log(`[404 race] player log:\n${logLines.join('')}\nMPD playlist:\n${await mpd.command('playlistinfo')}`);
      throw err;
    }
  });

  it('gives a failure reason without the URL signature, and never logs it', async () => {
    const p = await startPlayer();
    const failed = nextEvent(p, 'itemFailed');
    await p.load(SIGNED, { positionMs: 0, play: true, next: null });
    const [item, reason] = await failed;
    expect(item).toEqual(SIGNED);
    expect(reason).toMatch(/403/);
    expect(reason).not.toContain('SECRET123');
    expect(logLines.join('')).toContain('could not play');
    expect(logLines.join('')).not.toContain('SECRET123');
  });

  it('reports an item whose seek the server refuses as failed', async () => {
    const p = await startPlayer();
    await p.load(SEEKY, { positionMs: 0, play: true, next: null });
    await mpd.waitForStatus((s) => s.state === 'play' && elapsed(s) > 0.1);
    cdn.fail(path(SEEKY), 403);
    try {
      const failed = nextEvent(p, 'itemFailed');
      // MPD answers the seek itself with an error, and stops.
      await expect(p.seek(6000)).rejects.toMatchObject({ code: 'ERR_MPD_COMMAND' });
      const [item, reason] = await failed;
      expect(item).toEqual(SEEKY);
      expect(reason).toMatch(/403/);
      expect(p.snapshot().status).toBe('stopped');
    } finally {
      cdn.fail(path(SEEKY), null);
    }
  });
});

describe('MpdPlayer beside another client while nothing of ours is loaded (issue #16)', () => {
  it("leaves another client's music alone: reported as other, its modes kept, not paused, stopped or cleared", async () => {
    // Another client plays its own song, looping, before the bridge connects.
    await mpd.command('clear');
    await mpd.command(`add "${cdn.url(path(OTHER))}"`);
    await mpd.command('repeat 1');
    await mpd.command('random 1');
    await mpd.command('play');
    try {
      await mpd.waitForStatus((s) => s.state === 'play' && elapsed(s) > 0.1);
      // Like the bridge's stream route: only our own URLs are ours.
      const p = await startPlayer(undefined, {}, (uri) => uri.includes('/stream/qobuz-'));
      const snap = p.snapshot();
      expect(snap.source).toBe('other');
      expect(snap.status).toBe('stopped');
      expect(snap.current).toBeNull();
      // Connecting turned none of its modes off.
      let st = await mpd.status();
      expect([st.repeat, st.random, st.state]).toEqual(['1', '1', 'play']);
      // A pause or a stop of the (empty) Qobuz side, and the bridge stopping, never touch it.
      await p.pause();
      await p.stopPlayback();
      await p.stop();
      st = await mpd.status();
      expect([st.repeat, st.random, st.state, st.playlistlength]).toEqual(['1', '1', 'play', '1']);
    } finally {
      await mpd.command('repeat 0');
      await mpd.command('random 0');
      await mpd.command('clear');
    }
  });
});

describe('MpdPlayer when MPD crashes (issue #5)', () => {
  it('reports MPD unavailable, then available, and resumes near the position it had', async () => {
    const p = await startPlayer();
    await p.setVolume(40);
    await p.load(TRACK, { positionMs: 2000, play: true, next: OTHER });
    await mpd.waitForStatus((s) => s.state === 'play' && elapsed(s) > 3);
    const gone = nextEvent(p, 'availabilityChanged', (a) => !a);
    await mpd.kill();
    await gone;
    const lostAt = p.snapshot().positionMs;
    expect(lostAt).toBeGreaterThan(2900);
    expect(p.snapshot().available).toBe(false);

    const back = nextEvent(p, 'availabilityChanged', (a) => a);
    await mpd.restart();
    const returned = Date.now();
    await back;
    const st = await mpd.waitForStatus((s) => s.state === 'play' && elapsed(s) > lostAt / 1000, 10_000);
    expect(Date.now() - returned).toBeLessThan(10_000);
    expect(Math.abs(elapsed(st) * 1000 - lostAt)).toBeLessThan(2000);
    expect(st.volume).toBe('40');
    const queue = await mpd.command('playlistinfo');
    expect(queue.match(/^file: .*$/gm)).toEqual([
      `file: ${cdn.url(path(TRACK))}`,
      `file: ${cdn.url(path(OTHER))}`,
    ]);
    expect(p.snapshot()).toMatchObject({ available: true, current: TRACK, status: 'playing' });
  });

  it('takes over the queue MPD restored itself after a clean restart, without restarting the track', async () => {
    const p = await startPlayer();
    await p.load(TRACK, { positionMs: 2000, play: true, next: OTHER });
    await mpd.waitForStatus((s) => s.state === 'play' && elapsed(s) > 2.5);
    const gone = nextEvent(p, 'availabilityChanged', (a) => !a);
    const back = nextEvent(p, 'availabilityChanged', (a) => a, 15_000);
    await mpd.restart(); // SIGTERM: MPD saves its state file and resumes from it
    await gone;
    await back;
    const st = await mpd.waitForStatus((s) => s.state === 'play' && elapsed(s) > 2.6);
    expect(elapsed(st)).toBeLessThan(5);
    expect(p.snapshot()).toMatchObject({ available: true, current: TRACK, status: 'playing' });
    const trackStarted = nextEvent(p, 'trackStarted', () => true, 15_000);
    expect(await trackStarted).toEqual([OTHER]);
  });

  it('starts without throwing while MPD is down and becomes available when it comes up', async () => {
    await mpd.kill();
    try {
      const p = await startPlayer(undefined, { waitUp: false });
      expect(p.snapshot().available).toBe(false);
      await p.setVolume(30); // kept for when MPD is back
      const up = nextEvent(p, 'availabilityChanged', (a) => a);
      await mpd.restart();
      await up;
      expect(p.snapshot().available).toBe(true);
      expect((await mpd.status()).volume).toBe('30');
      expect(p.snapshot().volumePercent).toBe(30);
    } finally {
      const alive = await mpd.command('ping').then(
        () => true,
        () => false,
      );
      if (!alive) await mpd.restart();
    }
  });
});
