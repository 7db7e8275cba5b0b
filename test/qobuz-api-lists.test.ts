import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QobuzApi } from '../src/qobuz/qobuz-api.js';
import { UserAuthToken } from '../src/qobuz/token-provider.js';
import { QobuzApiStub } from './support/qobuz-api-stub.js';

/** album/get and playlist/get for a controller's queue load (issues #14, #15; docs/protocol.md §8). */

let stub: QobuzApiStub;
let api: QobuzApi;

beforeEach(async () => {
  stub = new QobuzApiStub({ cdn: 'http://127.0.0.1:9/cdn' });
  await stub.start();
  stub.addTrack({
    id: 11,
    title: 'One',
    artist: 'A',
    album: 'Al',
    durationMs: 1000,
    formats: { 6: { bitDepth: 16, samplingRateKhz: 44.1 } },
  });
  api = new QobuzApi({
    baseUrl: stub.baseUrl,
    appId: stub.appId,
    appSecret: stub.appSecret,
    logger: pino({ level: 'silent' }),
    auth: new UserAuthToken(stub.issueUserAuthToken()),
    retryDelayMs: 5,
  });
});
afterEach(() => stub.stop());

describe('track ids of an album, a playlist or a track', () => {
  it('lists an album in order, with its title', async () => {
    stub.addAlbum({ id: 'abc123', title: 'Kind of Blue', trackIds: [11, 12, 13] });
    await expect(api.trackIdsOf('album', 'abc123')).resolves.toEqual({
      title: 'Kind of Blue',
      trackIds: [11, 12, 13],
    });
  });

  it('reads a long playlist page by page (50 a page), bounded by maxTracks', async () => {
    const ids = Array.from({ length: 130 }, (_, i) => 1000 + i);
    stub.addPlaylist({ id: '42', title: 'Morning Jazz', trackIds: ids });
    const all = await api.trackIdsOf('playlist', '42');
    expect(all.trackIds).toEqual(ids);
    const pages = stub.requestsTo('playlist/get');
    expect(pages.map((r) => r.params['offset'])).toEqual(['0', '50', '100']);
    expect(pages.every((r) => r.params['extra'] === 'tracks')).toBe(true);
    const capped = await api.trackIdsOf('playlist', '42', 60);
    expect(capped.trackIds).toEqual(ids.slice(0, 60));
  });

  it('takes a known track id as a queue of one', async () => {
    await expect(api.trackIdsOf('track', '11')).resolves.toEqual({ title: 'One', trackIds: [11] });
  });

  it('refuses unknown ids, empty playlists and malformed track ids with ERR_NOT_FOUND', async () => {
    stub.addPlaylist({ id: 'empty', title: 'Nothing', trackIds: [] });
    await expect(api.trackIdsOf('album', 'nope')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    await expect(api.trackIdsOf('playlist', 'empty')).rejects.toMatchObject({
      code: 'ERR_NOT_FOUND',
      message: expect.stringContaining('no tracks'),
    });
    await expect(api.trackIdsOf('track', '999')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    await expect(api.trackIdsOf('track', 'x1')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });
});
