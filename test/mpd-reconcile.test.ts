import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { MpdClient } from '../src/mpd/mpd-client.js';
import { MpdPlayerState } from '../src/mpd/mpd-player-state.js';
import { MpdQueueWindow } from '../src/mpd/mpd-queue-window.js';
import { reconcile } from '../src/mpd/mpd-reconcile.js';
import { parseStatus } from '../src/mpd/mpd-status.js';
import { VolumeMapping } from '../src/mpd/volume-mapping.js';

/**
 * Issue #11: the race behind the flaky "URL answering 404" test, replayed in order. MPD's error
 * for the current URL is read first; on the next status MPD has skipped to our next song by itself.
 * That skip is no gapless change: the player stops MPD and stays on the failed item for the
 * session to decide. A scripted client plays MPD, so the order is the same on every run.
 */
const MISSING = { queueItemId: 3, trackId: 404 };
const OTHER = { queueItemId: 2, trackId: 2 };

function scriptedClient(statuses: string[], songIds: number[] = []): { client: MpdClient; calls: string[] } {
  const calls: string[] = [];
  const client = {
    status: async () => {
      calls.push('status');
      return parseStatus(statuses.shift() ?? 'state: stop\n');
    },
    clearError: async () => void calls.push('clearerror'),
    stop: async () => void calls.push('stop'),
    deleteId: async (id: number) => void calls.push(`deleteid ${id}`),
    playlistInfo: async () => songIds.map((id, pos) => ({ id, pos, file: `song-${id}` })),
  };
  return { client: client as unknown as MpdClient, calls };
}

describe('reconcile: a failed current item MPD skipped past (issue #11)', () => {
  it('reports the failure once and stops MPD on the skip instead of taking it for a track change', async () => {
    const window = new MpdQueueWindow((item) => `http://127.0.0.1:1/stream/test/${item.trackId}.flac`);
    window.set(MISSING, OTHER);
    window.current!.songId = 10;
    window.next!.songId = 11;
    const state = new MpdPlayerState(new VolumeMapping({ min: 0, max: 100 }));
    state.status = 'playing';
    state.startBuffering(0);
    const { client, calls } = scriptedClient([
      'state: play\nsong: 0\nsongid: 10\nelapsed: 0.000\nerror: Failed to decode http://127.0.0.1:1/stream/test/404.flac; CURL failed: 404\n',
      'state: play\nsong: 1\nsongid: 11\nelapsed: 0.100\n',
      'state: stop\nsong: 1\nsongid: 11\n',
    ]);
    const logger = pino({ level: 'silent' });
    const first = await reconcile({ client, window, state, logger });
    expect(first.filter((f) => f.type === 'itemFailed')).toEqual([{ type: 'itemFailed', item: MISSING, reason: expect.stringContaining('404') }]);
    const second = await reconcile({ client, window, state, logger });
    expect(second.map((f) => f.type)).not.toContain('trackStarted');
    expect(second.map((f) => f.type)).not.toContain('itemFailed');
    expect(calls).toContain('stop');
    expect(window.current?.item).toEqual(MISSING);
    expect(state.status).toBe('stopped');
  });
});

/**
 * Issue #21 part 4 (chaos soak): MPD moved onto our next entry (at the change, or another client's
 * `next`), could not open it and stopped with no current song, the window having nothing after it.
 * Its error was read before (MPD opens the next URL early), so only the next song still in MPD's
 * queue tells this from the end of the window (docs/protocol.md §9.2).
 */
describe('reconcile: MPD ran past a next entry it could not open (issue #21)', () => {
  const setup = (): { window: MpdQueueWindow; state: MpdPlayerState } => {
    const window = new MpdQueueWindow((item) => `http://127.0.0.1:1/stream/test/${item.trackId}.flac`);
    window.set(OTHER, MISSING);
    window.current!.songId = 10;
    window.next!.songId = 11;
    const state = new MpdPlayerState(new VolumeMapping({ min: 0, max: 100 }));
    state.status = 'playing';
    state.currentStarted = true;
    return { window, state };
  };
  const logger = pino({ level: 'silent' });

  it('moves on to that item and reports it failed, not the queue ended', async () => {
    const { window, state } = setup();
    const { client } = scriptedClient(['state: stop\nplaylistlength: 2\n'], [10, 11]);
    const facts = await reconcile({ client, window, state, logger, outside: true });
    expect(facts.filter((f) => f.type !== 'volumeChanged' && f.type !== 'formatChanged')).toEqual([
      { type: 'trackStarted', item: MISSING },
      { type: 'itemFailed', item: MISSING, reason: expect.any(String) },
    ]);
    expect(window.current?.item).toEqual(MISSING);
  });

  it('still reads the end of the window as the queue ended when the next song is gone from MPD', async () => {
    const { window, state } = setup();
    const { client } = scriptedClient(['state: stop\nplaylistlength: 1\n'], [10]);
    const facts = await reconcile({ client, window, state, logger, outside: true });
    expect(facts.map((f) => f.type)).toContain('queueEnded');
    expect(facts.map((f) => f.type)).not.toContain('itemFailed');
  });
});
