import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { PlayableItem } from '../src/core/player.js';
import { MpdPlayer } from '../src/mpd/mpd-player.js';
import { makeFlac } from './support/audio-fixtures.js';
import type { AudioHttpServer } from './support/audio-http-server.js';
import type { MpdServer } from './support/mpd-server.js';
import { useMpdPlayerRig } from './support/mpd-player-rig.js';
import { nextEvent } from './support/next-event.js';

// Issue #16, docs/protocol.md §9.4: another MPD client plays its own songs; the player steps aside.

const run = promisify(execFile);
const A: PlayableItem = { queueItemId: 1, trackId: 1 }; // 20 s
const B: PlayableItem = { queueItemId: 2, trackId: 2 }; // 20 s

let mpd: MpdServer;
let cdn: AudioHttpServer;
let dir: string;
const path = (item: PlayableItem) => `/stream/test/${item.trackId}.flac`;

const rig = useMpdPlayerRig('aside', async (parts) => {
  ({ mpd, cdn, dir } = parts);
  cdn.add(path(A), await makeFlac({ dir, name: 'a.flac', seconds: 20 }));
  cdn.add(path(B), await makeFlac({ dir, name: 'b.flac', seconds: 20, frequencyHz: 660 }));
  await makeFlac({ dir: join(mpd.dir, 'music'), name: 'mine.flac', seconds: 30, frequencyHz: 550 });
  await run('mpc', ['-h', mpd.host, '-p', String(mpd.port), 'update', '--wait'], { timeout: 10_000 });
});

async function startPlayer(): Promise<MpdPlayer> {
  return rig.start({ urlFor: (item) => cdn.url(path(item)), isOurs: (uri) => uri.includes('/stream/test/') });
}

const files = async () => (await mpd.command('playlistinfo')).match(/^file: .*$/gm)?.map((l) => l.slice(6)) ?? [];

describe('MpdPlayer steps aside for another MPD client (issue #16)', () => {
  it('reports stopped with source other, leaves the other songs alone on pause and stop, and takes MPD back on play', async () => {
    const p = await startPlayer();
    await p.load(A, { positionMs: 0, play: true, next: B });
    await mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.2, 10_000);

    const aside = nextEvent(p, 'stateChanged', (s) => s.source === 'other', 10_000);
    await mpd.command('clear');
    await mpd.command('add "mine.flac"');
    await mpd.command('play');
    const [snap] = await aside;
    expect(snap).toMatchObject({ status: 'stopped', current: null, source: 'other' });

    // The session's pause (deactivation) and stop must not touch the other client's music.
    await p.pause();
    await p.stopPlayback();
    await p.seek(5000);
    const st = await mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.5);
    expect(st.state).toBe('play');
    expect(await files()).toEqual(['mine.flac']);

    // Qobuz plays again: our songs are appended after the user's, which stays.
    const back = nextEvent(p, 'stateChanged', (s) => s.source !== 'other' && s.current?.queueItemId === A.queueItemId, 10_000);
    await p.play();
    await back;
    const playing = await mpd.waitForStatus((s) => s.state === 'play' && s.song === '1', 10_000);
    expect(playing.state).toBe('play');
    expect(await files()).toEqual(['mine.flac', cdn.url(path(A)), cdn.url(path(B))]);
    expect(p.snapshot().source).toBeUndefined();
  });

  it('keeps MPD when the other client only adds a song after ours', async () => {
    const p = await startPlayer();
    await mpd.command('clear');
    await p.load(A, { positionMs: 0, play: true, next: null });
    await mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.2, 10_000);
    await mpd.command('add "mine.flac"');
    // A status round trip through the player: it saw the queue change and still plays ours.
    const seen = nextEvent(p, 'volumeChanged', (v) => v === 55, 15_000);
    await mpd.command('setvol 55');
    await seen;
    expect(p.snapshot()).toMatchObject({ status: 'playing', current: A });
    expect(p.snapshot().source).toBeUndefined();
  });
});
