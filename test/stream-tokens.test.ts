import { describe, expect, it } from 'vitest';
import { parseStreamFile, streamPath, stripStreamTokens, StreamTokens } from '../src/core/stream-tokens.js';

const item = (queueItemId: number, trackId = 1000 + queueItemId) => ({ queueItemId, trackId });

describe('StreamTokens (README.md "HTTP endpoints": only the current queue, unguessable tokens)', () => {
  it('issues url-safe tokens of at least 128 bits that never repeat', () => {
    const tokens = new StreamTokens();
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(tokens.tokenFor('kitchen', item(i)));
    expect(seen.size).toBe(2000);
    for (const token of seen) {
      expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(token, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    }
  });

  it('keeps the same token for the same item while it stays in the queue', () => {
    const tokens = new StreamTokens();
    const first = tokens.tokenFor('kitchen', item(7));
    expect(tokens.tokenFor('kitchen', item(7))).toBe(first);
    tokens.retain('kitchen', new Set([7, 8]));
    expect(tokens.tokenFor('kitchen', item(7))).toBe(first);
    expect(tokens.lookup('kitchen', first)).toEqual(item(7));
  });

  it('kills the tokens of items that left the queue', () => {
    const tokens = new StreamTokens();
    const kept = tokens.tokenFor('kitchen', item(1));
    const gone = tokens.tokenFor('kitchen', item(2));
    tokens.retain('kitchen', new Set([1]));
    expect(tokens.lookup('kitchen', gone)).toBeNull();
    expect(tokens.lookup('kitchen', kept)).toEqual(item(1));
    expect(tokens.size('kitchen')).toBe(1);
    // Back in the queue later: a new token, the old one stays dead.
    expect(tokens.tokenFor('kitchen', item(2))).not.toBe(gone);
  });

  it('does not let an old token play another track under a reused queue item id', () => {
    const tokens = new StreamTokens();
    const old = tokens.tokenFor('kitchen', item(3, 111));
    const fresh = tokens.tokenFor('kitchen', item(3, 222));
    expect(fresh).not.toBe(old);
    expect(tokens.lookup('kitchen', old)).toBeNull();
    expect(tokens.lookup('kitchen', fresh)).toEqual(item(3, 222));
  });

  it("refuses another player's token and forgets everything on clear", () => {
    const tokens = new StreamTokens();
    const token = tokens.tokenFor('kitchen', item(1));
    expect(tokens.lookup('living_room', token)).toBeNull();
    tokens.tokenFor('living_room', item(1));
    tokens.clear('kitchen');
    expect(tokens.lookup('kitchen', token)).toBeNull();
    expect(tokens.size('living_room')).toBe(1);
  });
});

describe('stream paths (docs/protocol.md §9.2: MPD picks its decoder by suffix)', () => {
  const token = new StreamTokens().tokenFor('kitchen', item(1));

  it('builds /stream/<player>/<token>.flac, and the route reads the token back with or without its suffix', () => {
    const path = streamPath('kitchen', token);
    expect(path).toBe(`/stream/kitchen/${token}.flac`);
    expect(parseStreamFile(path.split('/').at(-1) ?? '')).toBe(token);
    expect(parseStreamFile(`${token}.mp3`)).toBe(token);
    expect(parseStreamFile(token)).toBe(token);
  });

  it.each([
    ['a parent segment', '..'],
    ['a traversal token', '..%2f..%2fetc%2fpasswd.flac'],
    ['encoded dots in the token', `%2e%2e${token}.flac`],
    ['another suffix', `${token}.wav`],
    ['a query string', `${token}.flac?x=1`],
    ['a trailing slash', `${token}.flac/`],
    ['a short token', 'abc.flac'],
    ['a token with dots', `${token.slice(0, 20)}.${token.slice(21)}.flac`],
    ['a slash', `x/${token}.flac`],
  ])('refuses %s', (_name, file) => {
    expect(parseStreamFile(file)).toBeNull();
  });
});

describe('stream tokens in texts (issue #13: MPD error texts quote the URL)', () => {
  const tokens = new StreamTokens();
  const a = tokens.tokenFor('living_room', item(1));
  const b = tokens.tokenFor('living_room', item(2));

  it('strips every token from an MPD error text and keeps the rest readable', () => {
    const text = `Failed to decode http://192.168.1.5:8689/stream/living_room/${a}.flac; CURL failed: The requested URL returned error: 404 (next http://h/stream/living_room/${b}.mp3)`;
    const out = stripStreamTokens(text);
    expect(out).not.toContain(a);
    expect(out).not.toContain(b);
    expect(out).toBe(
      'Failed to decode http://192.168.1.5:8689/stream/living_room/[token].flac; CURL failed: The requested URL returned error: 404 (next http://h/stream/living_room/[token].mp3)',
    );
  });

  it('leaves texts without stream tokens as they are (cover route, other paths)', () => {
    for (const text of ['Decoder failed to seek', 'http://h/stream/living_room/cover.jpg', '/stream/', 'no /stream/x here']) {
      expect(stripStreamTokens(text)).toBe(text);
    }
  });
});
