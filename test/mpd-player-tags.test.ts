import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ItemTags, ItemTagsFor, PlayableItem } from '../src/core/player.js';
import { MpdPlayer } from '../src/mpd/mpd-player.js';
import { makeFlac } from './support/audio-fixtures.js';
import type { AudioHttpServer } from './support/audio-http-server.js';
import { pollUntil } from './support/fault-helpers.js';
import type { MpdServer } from './support/mpd-server.js';
import { useMpdPlayerRig } from './support/mpd-player-rig.js';
import { nextEvent } from './support/next-event.js';

// Issue #16, docs/protocol.md §9.4: every song we queue carries Qobuz's tags for every MPD client.

const run = promisify(execFile);
const A: PlayableItem = { queueItemId: 1, trackId: 1 }; // 5 s, its FLAC has its own TITLE/ARTIST
const B: PlayableItem = { queueItemId: 2, trackId: 2 }; // 3 s
const TAGS: Record<number, ItemTags> = {
  1: { title: 'Qobuz "One"', artist: 'Ann \\ Band', album: 'Album One', albumArtist: 'Ann', trackNumber: 3, date: '2019-03-01' },
  2: { title: 'Two\nlines', artist: 'Bob', album: 'Album Two' },
};

let mpd: MpdServer;
let cdn: AudioHttpServer;
let dir: string;
const path = (item: PlayableItem) => `/stream/${item.trackId}.flac`;

const rig = useMpdPlayerRig('tags', async (parts) => {
  ({ mpd, cdn, dir } = parts);
  const a = await makeFlac({ dir, name: 'a.flac', seconds: 5 });
  // The stream's own tags, as a Qobuz FLAC has them: they must not replace ours.
  await run('/usr/bin/metaflac', ['--set-tag=TITLE=Stream Title', '--set-tag=ARTIST=Stream Artist', a]);
  cdn.add(path(A), a);
  cdn.add(path(B), await makeFlac({ dir, name: 'b.flac', seconds: 3, frequencyHz: 660 }));
});

async function startPlayer(tagsFor: ItemTagsFor): Promise<MpdPlayer> {
  return rig.start({ urlFor: (item) => cdn.url(path(item)), tagsFor });
}

const songs = (command?: 'playlistinfo' | 'currentsong') => mpd.songs(command);

const TAGS_A = {
  Title: ['Qobuz "One"'],
  Artist: ['Ann \\ Band'],
  Album: ['Album One'],
  AlbumArtist: ['Ann'],
  Track: ['3'],
  Date: ['2019-03-01'],
  Name: ['Qobuz'],
};
const TAGS_B = { Title: ['Two lines'], Artist: ['Bob'], Album: ['Album Two'], Name: ['Qobuz'] };

describe('MPD tags of the songs the bridge queues (issue #16)', () => {
  it('tags both queued songs before play, keeps them over the stream tags while playing, and after the change', async () => {
    const p = await startPlayer(async (item) => TAGS[item.trackId] ?? null);
    await p.load(A, { positionMs: 0, play: false, next: B });
    // The metadata resolves on its own schedule: wait until both songs carry it.
    const before = await pollUntil('both songs tagged', async () => {
      const s = await songs();
      return s.length === 2 && s[0]?.Date && s[1]?.Album ? s : null;
    });
    expect(before[0]).toMatchObject(TAGS_A);
    expect(before[1]).toMatchObject(TAGS_B);

    await p.play();
    // Well into the song: MPD has decoded the stream's own TITLE and ARTIST by now.
    await mpd.waitForStatus((st) => st.state === 'play' && Number(st.elapsed) > 0.5, 10_000);
    const [playing] = await pollUntil('our tags back over the stream tags', async () => {
      const c = await songs('currentsong');
      return c[0]?.Name && c[0]?.Title?.length === 1 ? c : null;
    });
    expect(playing).toMatchObject(TAGS_A);
    // Well past the start, where MPD applies the stream's tags: still ours.
    await mpd.waitForStatus((st) => st.state === 'play' && Number(st.elapsed) > 2, 10_000);
    const [later] = await songs('currentsong');
    expect(later).toMatchObject(TAGS_A);

    const started = nextEvent(p, 'trackStarted', () => true, 15_000);
    expect(await started).toEqual([B]);
    await mpd.waitForStatus((st) => st.state === 'play' && Number(st.elapsed) > 0.5, 10_000);
    const [second] = await songs('currentsong');
    expect(second).toMatchObject(TAGS_B);
  });

  it('adds tags that arrive after the song went into MPD, without holding up the load', async () => {
    let release: (tags: ItemTags) => void = () => {};
    const late = new Promise<ItemTags>((resolve) => (release = resolve));
    const p = await startPlayer((item) => (item.trackId === 1 ? late : Promise.resolve(null)));
    await p.load(A, { positionMs: 0, play: true, next: null });
    await mpd.waitForStatus((st) => st.state === 'play', 10_000);
    // Playing without the metadata (Name alone, or for a moment the stream's own tags).
    const [untagged] = await songs('currentsong');
    expect(untagged?.Album).toBeUndefined();
    expect(untagged?.Title).not.toEqual(['Qobuz "One"']);

    release(TAGS[1]!);
    const [tagged] = await pollUntil('the late tags', async () => {
      const s = await songs('currentsong');
      // The stream's own tags may show for a moment (replaced or merged in) before ours are back.
      return s[0]?.Date && s[0]?.Name && s[0]?.Title?.length === 1 ? s : null;
    });
    expect(tagged).toMatchObject(TAGS_A);
  });
});
