import { describe, expect, it } from 'vitest';
import { MpdPlayerState, snapshotChanged } from '../src/mpd/mpd-player-state.js';
import { parseAddId, parseAudioFormat, parseSongs, parseStatus, redactUrls } from '../src/mpd/mpd-status.js';
import { VolumeMapping } from '../src/mpd/volume-mapping.js';

// Replies captured from MPD 0.23.12 (docs/protocol.md §9).
const PLAYING = [
  'volume: 55',
  'repeat: 0',
  'random: 0',
  'single: 0',
  'consume: 0',
  'partition: default',
  'playlist: 3',
  'playlistlength: 2',
  'mixrampdb: 0',
  'state: play',
  'song: 0',
  'songid: 1',
  'time: 1:2',
  'elapsed: 1.391',
  'bitrate: 322',
  'duration: 2.000',
  'audio: 96000:24:2',
  'nextsong: 1',
  'nextsongid: 2',
].join('\n');

describe('MPD status parsing', () => {
  it('reads numbers, the audio format and a string bitrate from a playing status', () => {
    const st = parseStatus(PLAYING);
    expect(st).toMatchObject({
      state: 'play',
      volume: 55,
      consume: false,
      playlistLength: 2,
      song: 0,
      songId: 1,
      nextSongId: 2,
      elapsedSec: 1.391,
      durationSec: 2,
      bitrateKbps: 322,
      audio: { sampleRateHz: 96000, bitDepth: 24, channels: 2 },
      error: null,
    });
  });

  it('treats a missing volume line (no mixer) as null and keeps the error line', () => {
    const st = parseStatus(
      'repeat: 0\nstate: stop\nsong: 0\nsongid: 5\nerror: Failed to decode http://h/x.flac; CURL failed: The requested URL returned error: 404',
    );
    expect(st.volume).toBeNull();
    expect(st.state).toBe('stop');
    expect(st.elapsedSec).toBeNull();
    expect(st.error).toContain('404');
  });

  it('parses audio formats, counting float as 32 bits and DSD as unknown', () => {
    expect(parseAudioFormat('44100:16:2')).toEqual({ sampleRateHz: 44100, bitDepth: 16, channels: 2 });
    expect(parseAudioFormat('48000:f:2')).toEqual({ sampleRateHz: 48000, bitDepth: 32, channels: 2 });
    expect(parseAudioFormat('dsd64:2')).toBeNull();
    expect(parseAudioFormat(undefined)).toBeNull();
  });

  it('splits playlistinfo into songs and reads the addid reply', () => {
    const songs = parseSongs(
      'file: http://a/1.flac\nPos: 0\nId: 7\nduration: 2.000\nfile: http://a/2.flac\nPos: 1\nId: 8',
    );
    expect(songs).toEqual([
      { file: 'http://a/1.flac', id: 7, pos: 0, durationSec: 2 },
      { file: 'http://a/2.flac', id: 8, pos: 1, durationSec: null },
    ]);
    expect(parseAddId('Id: 17')).toBe(17);
    expect(() => parseAddId('')).toThrow();
  });

  it('cuts query strings (signatures) out of URLs in error text', () => {
    const text = 'Failed to decode https://cdn.example/f/1.flac?sig=SECRET&e=1; CURL failed: 403';
    expect(redactUrls(text)).toBe('Failed to decode https://cdn.example/f/1.flac; CURL failed: 403');
    expect(redactUrls(text)).not.toContain('SECRET');
  });
});

describe('Volume mapping (README.md "Configuration reference": players[].volume)', () => {
  it('maps Qobuz 0-100 linearly onto 20..80 and back', () => {
    const m = new VolumeMapping({ min: 20, max: 80 });
    expect(m.toMpd(0)).toBe(20);
    expect(m.toMpd(50)).toBe(50);
    expect(m.toMpd(100)).toBe(80);
    expect(new VolumeMapping({ min: 20, max: 80 }).toPercent(50)).toBe(50);
    expect(m.toPercent(80)).toBe(100);
    expect(m.toPercent(5)).toBe(0);
    expect(m.toPercent(95)).toBe(100);
  });

  it('gives back exactly the percentage that was set, for every value of a narrow range', () => {
    const m = new VolumeMapping({ min: 20, max: 80 });
    for (let p = 0; p <= 100; p++) expect(m.toPercent(m.toMpd(p))).toBe(p);
  });

  it('refuses an empty or inverted range', () => {
    expect(() => new VolumeMapping({ min: 50, max: 50 })).toThrow(RangeError);
    expect(() => new VolumeMapping({ min: 0, max: 101 })).toThrow(RangeError);
  });
});

describe('Player state rules', () => {
  const status = (over: Partial<ReturnType<typeof parseStatus>>) => ({ ...parseStatus(PLAYING), ...over });

  it('reports buffering from start until elapsed moves, then counts the item as started', () => {
    const s = new MpdPlayerState(new VolumeMapping({ min: 0, max: 100 }));
    s.startBuffering(0);
    s.apply(status({ elapsedSec: 0 }), 1000);
    expect(s.buffering).toBe(true);
    expect(s.currentStarted).toBe(false);
    s.apply(status({ elapsedSec: 0.2 }), 1200);
    expect(s.buffering).toBe(false);
    expect(s.currentStarted).toBe(true);
  });

  it('turns a play state whose elapsed stands still into buffering (a stalled stream)', () => {
    const s = new MpdPlayerState(new VolumeMapping({ min: 0, max: 100 }));
    s.apply(status({ elapsedSec: 3 }), 1000);
    s.apply(status({ elapsedSec: 3 }), 2000);
    expect(s.buffering).toBe(false);
    s.apply(status({ elapsedSec: 3 }), 2600);
    expect(s.buffering).toBe(true);
  });

  it('reports a volume from outside once, mapped, and ignores the echo of its own', () => {
    const s = new MpdPlayerState(new VolumeMapping({ min: 20, max: 80 }));
    expect(s.apply(status({ volume: 50 }), 1).volume).toEqual({ percent: 50, muted: false });
    expect(s.apply(status({ volume: 50 }), 2).volume).toBeNull();
  });

  it('shows a loaded but unstarted item as paused at its start position', () => {
    const s = new MpdPlayerState(new VolumeMapping({ min: 0, max: 100 }));
    s.pendingStartMs = 4200;
    s.apply(status({ state: 'stop', elapsedSec: null, songId: null }), 10);
    expect(s.status).toBe('paused');
    expect(s.positionMs).toBe(4200);
  });

  it('reports a position jump (a seek from outside) but not the clock running on', () => {
    const s = new MpdPlayerState(new VolumeMapping({ min: 0, max: 100 }));
    s.apply(status({ elapsedSec: 1 }), 1000);
    const a = s.snapshot(null, true, true);
    s.apply(status({ elapsedSec: 2 }), 2000);
    expect(snapshotChanged(a, s.snapshot(null, true, true))).toBe(false);
    s.apply(status({ elapsedSec: 30 }), 2000);
    expect(snapshotChanged(a, s.snapshot(null, true, true))).toBe(true);
  });
});
