import { describe, expect, it } from 'vitest';
import { signRequest } from '../src/qobuz/request-signer.js';
import { fallbackChain, levelForQuality, clampLevel } from '../src/qobuz/quality-levels.js';

// Vectors computed by hand with coreutils, independently of the code under test:
//   printf '%s' 'trackgetFileUrlformat_id27intentstreamtrack_id123456781700000000s3cr3t' | md5sum
//   printf '%s' 'sessionstartprofileqbz-11700000000s3cr3t' | md5sum
describe('signRequest (docs/protocol.md §7 "Signing")', () => {
  it('signs getFileUrl as md5 of object+method, sorted key+value pairs, request_ts and the secret', () => {
    const sig = signRequest(
      'track',
      'getFileUrl',
      { track_id: 12345678, intent: 'stream', format_id: 27 },
      1700000000,
      's3cr3t',
    );
    expect(sig).toBe('b300fda5f7233b1f4f395264844aa41b');
  });

  it('signs session/start over profile qbz-1', () => {
    expect(signRequest('session', 'start', { profile: 'qbz-1' }, 1700000000, 's3cr3t')).toBe(
      '24eef15a1c7cadab6a4f916a86e09ecf',
    );
  });

  it('drops slashes from object and method and does not depend on parameter insertion order', () => {
    const a = signRequest(
      'track/',
      '/getFileUrl',
      { format_id: '27', intent: 'stream', track_id: '12345678' },
      1700000000,
      's3cr3t',
    );
    expect(a).toBe('b300fda5f7233b1f4f395264844aa41b');
  });

  it('changes with the timestamp and the secret', () => {
    const base = signRequest('session', 'start', { profile: 'qbz-1' }, 1700000000, 's3cr3t');
    expect(signRequest('session', 'start', { profile: 'qbz-1' }, 1700000001, 's3cr3t')).not.toBe(base);
    expect(signRequest('session', 'start', { profile: 'qbz-1' }, 1700000000, 'other')).not.toBe(base);
  });
});

describe('quality levels (docs/protocol.md §7 "format_id")', () => {
  it('maps QConnect levels 1-4 onto formats 5, 6, 7, 27 and clamps the rest', () => {
    // The level's own format heads its fallback chain.
    const first = (level: number) => fallbackChain(level)[0];
    expect([1, 2, 3, 4].map(first)).toEqual([5, 6, 7, 27]);
    expect(first(5)).toBe(27);
    expect(first(0)).toBe(5);
    expect(clampLevel(Number.NaN)).toBe(1);
  });

  it('maps max_quality mp3|cd|hires_96|hires_192 onto levels 1..4', () => {
    expect((['mp3', 'cd', 'hires_96', 'hires_192'] as const).map(levelForQuality)).toEqual([1, 2, 3, 4]);
  });

  it('falls back one step at a time from the level asked', () => {
    expect(fallbackChain(4)).toEqual([27, 7, 6, 5]);
    expect(fallbackChain(3)).toEqual([7, 6, 5]);
    expect(fallbackChain(1)).toEqual([5]);
  });
});
