import { describe, expect, it } from 'vitest';
import type { ItemTags, PlayableItem } from '../src/core/player.js';
import type { MpdPlayer } from '../src/mpd/mpd-player.js';
import { makeFlac } from './support/audio-fixtures.js';
import type { AudioHttpServer } from './support/audio-http-server.js';
import { pollUntil } from './support/fault-helpers.js';
import type { MpdServer } from './support/mpd-server.js';
import { useMpdPlayerRig } from './support/mpd-player-rig.js';
import { nextEvent } from './support/next-event.js';

// Issue #23, docs/protocol.md §9.4: MPD's queue holds [previous, current, next], each song with
// Qobuz's tags, so that another client's `previous` lands on a song we recognise.

const A: PlayableItem = { queueItemId: 1, trackId: 1 };
const B: PlayableItem = { queueItemId: 2, trackId: 2 };
const C: PlayableItem = { queueItemId: 3, trackId: 3 };
const D: PlayableItem = { queueItemId: 4, trackId: 4 };
const SHORT: PlayableItem = { queueItemId: 5, trackId: 5 };
const title = (item: PlayableItem) => `Track ${item.trackId}`;
const tagsOf = (item: PlayableItem): ItemTags => ({ title: title(item), artist: 'Artist', album: 'Album' });

let mpd: MpdServer;
let cdn: AudioHttpServer;
const path = (item: PlayableItem) => `/stream/${item.trackId}.flac`;

const rig = useMpdPlayerRig('previous', async (parts) => {
  ({ mpd, cdn } = parts);
  for (const [i, item] of [A, B, C, D].entries())
    cdn.add(path(item), await makeFlac({ dir: parts.dir, name: `t${item.trackId}.flac`, seconds: 12, frequencyHz: 440 + 110 * i }));
  cdn.add(path(SHORT), await makeFlac({ dir: parts.dir, name: 'short.flac', seconds: 2, frequencyHz: 990 }));
});

async function startPlayer(): Promise<MpdPlayer> {
  return rig.start({ urlFor: (item) => cdn.url(path(item)), tagsFor: async (item) => tagsOf(item) });
}

/** MPD's queue as our items, with the Title each song shows. */
async function mpdQueue(): Promise<Array<{ item: number | undefined; title: string | undefined }>> {
  const byUrl = new Map([A, B, C, D, SHORT].map((item) => [cdn.url(path(item)), item.queueItemId]));
  return (await mpd.songs()).map((s) => ({ item: byUrl.get(s.file?.[0] ?? ''), title: s.Title?.join(' / ') }));
}

const holds = (items: PlayableItem[]) =>
  pollUntil(`MPD holds ${items.map((i) => i.queueItemId).join(',')} with their tags`, async () => {
    const q = await mpdQueue();
    const want = items.map((item) => ({ item: item.queueItemId, title: title(item) }));
    return JSON.stringify(q) === JSON.stringify(want) ? q : null;
  });

describe('the previous Qobuz item in MPD (issue #23)', () => {
  it("holds previous, current and next with their tags, swaps the previous while playing without touching the current song, and reads another client's previous as previousStarted", async () => {
    const p = await startPlayer();
    await p.load(B, { positionMs: 0, play: true, next: C, previous: A });
    await holds([A, B, C]);
    expect((await mpd.status()).song).toBe('1');
    await mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed ?? 0) > 1, 10_000);

    // Our own edit before the current song: MPD plays on, the current stream is not opened again.
    const opened = cdn.requestsFor(path(B)).length;
    const states: string[] = [];
    const edit = p.setPrevious(D);
    const during = mpd.waitForStatus((s) => {
      states.push(`${s.state}:${s.songid}`);
      return states.length >= 10;
    }, 10_000);
    await edit;
    await during;
    await holds([D, B, C]);
    const st = await mpd.waitForStatus((s) => Number(s.elapsed ?? 0) > 1.5, 10_000);
    expect(st.state).toBe('play');
    expect(new Set(states).size).toBe(1);
    expect(cdn.requestsFor(path(B)).length).toBe(opened);
    expect(p.snapshot().current).toEqual(B);

    // Another client's `previous`: MPD plays our previous song; the window slides back around it.
    const back = nextEvent(p, 'previousStarted');
    await mpd.command('previous');
    expect(await back).toEqual([D]);
    expect(p.snapshot().current).toEqual(D);
    await holds([D, B]);
    await mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed ?? 0) > 0.3, 10_000);
    // What plays now carries our tags, over the stream's own (docs/protocol.md §9.4).
    await pollUntil('the previous song shows our tags while it plays', async () => {
      const [cur] = await mpd.songs('currentsong');
      return cur?.Title?.join(' / ') === title(D) && cur.Name?.[0] === 'Qobuz' ? cur : null;
    });
    // Nothing before it until the session says; then it goes in before the current song.
    await p.setPrevious(C);
    await holds([C, D, B]);
    expect((await mpd.status()).state).toBe('play');
  });

  it('keeps the finished song as the previous one after a gapless change, and another client moves back to it', async () => {
    const p = await startPlayer();
    const started = nextEvent(p, 'trackStarted');
    await p.load(SHORT, { positionMs: 0, play: true, next: A });
    expect(await started).toEqual([A]);
    await holds([SHORT, A]);
    const back = nextEvent(p, 'previousStarted');
    await mpd.command('previous');
    expect(await back).toEqual([SHORT]);
    await holds([SHORT, A]);
    expect(p.snapshot().current).toEqual(SHORT);
    const [cur] = await mpd.songs('currentsong');
    expect(cur?.file?.[0]).toBe(cdn.url(path(SHORT)));
  });
});
