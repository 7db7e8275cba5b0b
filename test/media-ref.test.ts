import { describe, expect, it } from 'vitest';
import { parseMediaRef } from '../src/core/media-ref.js';
import { parseCommand } from '../src/mqtt/command-parser.js';

/** Issue #15: what `play_media` and Home Assistant's "Play Qobuz" text entity accept (README "Own Qobuz identity"). */
describe('parseMediaRef: Qobuz links and ids, read in one place', () => {
  it.each([
    ['album:0060254735180', { type: 'album', id: '0060254735180' }],
    ['playlist:1141084', { type: 'playlist', id: '1141084' }],
    ['track:64868955', { type: 'track', id: '64868955' }],
    ['qobuz:album:bc0j5ycnyj7xb', { type: 'album', id: 'bc0j5ycnyj7xb' }],
    ['  Album:abc  ', { type: 'album', id: 'abc' }],
    ['https://play.qobuz.com/album/0060254735180', { type: 'album', id: '0060254735180' }],
    ['https://play.qobuz.com/playlist/1141084?ref=share', { type: 'playlist', id: '1141084' }],
    ['https://open.qobuz.com/track/64868955', { type: 'track', id: '64868955' }],
    ['open.qobuz.com/playlist/123', { type: 'playlist', id: '123' }],
    [
      'https://www.qobuz.com/gb-en/album/kind-of-blue-miles-davis/0886443927087',
      { type: 'album', id: '0886443927087' },
    ],
    ['https://www.qobuz.com/fr-fr/playlists/jazz/1141084', { type: 'playlist', id: '1141084' }],
    ['https://widget.qobuz.com/album/abc123/', { type: 'album', id: 'abc123' }],
  ])('reads %s', (text, ref) => {
    expect(parseMediaRef(text)).toEqual(ref);
  });

  it.each([
    'https://open.spotify.com/album/4aawyAB9vmqN3uQ7FjRGTy',
    'https://evil.example/qobuz.com/album/abc',
    'https://qobuz.com.evil.example/album/abc',
    'https://play.qobuz.com/album/',
    'https://play.qobuz.com/artist/123',
    'playlist:abc',
    'track:12a',
    'album:a/b',
    'artist:42',
    'hello world',
    '',
  ])('refuses %j', (text) => {
    expect(parseMediaRef(text)).toBeNull();
  });
});

describe('parseCommand: play_media and transfer (issue #15)', () => {
  it.each([
    [
      '{"play_media":{"type":"album","id":"0060254735180"}}',
      { playMedia: { type: 'album', id: '0060254735180', shuffle: false } },
    ],
    [
      '{"play_media":{"type":"playlist","id":1141084,"shuffle":true}}',
      { playMedia: { type: 'playlist', id: '1141084', shuffle: true } },
    ],
    [
      '{"play_media":"https://play.qobuz.com/track/64868955"}',
      { playMedia: { type: 'track', id: '64868955', shuffle: false } },
    ],
    ['{"play_media":"album:abc"}', { playMedia: { type: 'album', id: 'abc', shuffle: false } }],
    ['{"transfer":true}', { transfer: true }],
  ])('accepts %s', (payload, command) => {
    expect(parseCommand(payload)).toEqual({ ok: true, command });
  });

  it('echoes the id of a media command, accepted or refused', () => {
    expect(parseCommand('{"transfer":true,"id":"ha-1"}')).toEqual({
      ok: true,
      command: { transfer: true },
      id: 'ha-1',
    });
    expect(parseCommand('{"play_media":"nonsense","id":"ha-2"}')).toMatchObject({ ok: false, id: 'ha-2' });
  });

  it.each([
    [
      '{"play_media":{"type":"artist","id":"1"}}',
      /^play_media\.type: must be one of album, playlist, track$/,
    ],
    ['{"play_media":{"type":"playlist","id":"abc"}}', /^play_media\.id: not a Qobuz id of that type$/],
    ['{"play_media":{"type":"album"}}', /^play_media\.id: must be a Qobuz id$/],
    [
      '{"play_media":{"type":"album","id":"a","shuffle":"yes"}}',
      /^play_media\.shuffle: must be true or false$/,
    ],
    ['{"play_media":{"type":"album","id":"a","next":true}}', /^play_media: unknown key \(by position: #3\); known keys: type, id, shuffle$/],
    [
      '{"play_media":"https://open.spotify.com/album/x"}',
      /^play_media: expected a Qobuz album, playlist or track link/,
    ],
    [
      '{"play_media":42}',
      /^play_media: must be \{"type": "album"\|"playlist"\|"track", "id": "…"\} or a Qobuz link$/,
    ],
    ['{"play_media":null}', /^play_media: must be/],
    ['{"transfer":false}', /^transfer: must be true$/],
    ['{"transfer":true,"volume":20}', /^transfer goes alone/],
    ['{"play_media":"album:a","action":"play"}', /^play_media goes alone/],
  ])('refuses %s with a readable error', (payload, error) => {
    const result = parseCommand(payload);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(error);
  });
});
