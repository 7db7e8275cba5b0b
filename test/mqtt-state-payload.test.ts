import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { PlayerView } from '../src/core/player-view.js';
import { MqttAdapter } from '../src/mqtt/mqtt-adapter.js';
import { toEventPayload, toStatePayload } from '../src/mqtt/state-payload.js';
import { Topics } from '../src/mqtt/topics.js';

const playing: PlayerView = {
  state: 'playing',
  qobuzSession: 'active',
  volume: 40,
  muted: false,
  positionMs: 61_234,
  positionAtMs: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
  durationMs: 245_000,
  shuffle: false,
  repeat: 'all',
  track: {
    id: 59954869,
    title: 'So What',
    artist: 'Miles Davis',
    album: 'Kind of Blue',
    coverUrl: 'https://static.qobuz.com/images/covers/69/48/0886977974869_600.jpg',
    durationMs: 245_000,
    sampleRateHz: 96_000,
    bitDepth: 24,
  },
  // Issue #23: an output that resamples 24/96 to 24/48 (e.g. a Snapcast FIFO).
  format: {
    sampleRateHz: 48_000,
    bitDepth: 24,
    channels: 2,
    stream: { sampleRateHz: 96_000, bitDepth: 24, channels: 2 },
    bitPerfect: false,
    notBitPerfect: ['converted to 24-bit / 48 kHz by output "snapcast"'],
  },
  queue: { length: 5, index: 1 },
  available: true,
};

describe('state and event JSON (README.md "MQTT topics")', () => {
  it('maps a playing PlayerView to the exact state JSON of the spec', () => {
    expect(JSON.stringify(toStatePayload(playing))).toBe(
      JSON.stringify({
        state: 'playing',
        qobuz_session: 'active',
        volume: 40,
        muted: false,
        position_ms: 61234,
        position_at: '2026-01-02T03:04:05.678Z',
        duration_ms: 245000,
        shuffle: false,
        repeat: 'all',
        track: {
          id: 59954869,
          title: 'So What',
          artist: 'Miles Davis',
          album: 'Kind of Blue',
          cover_url: 'https://static.qobuz.com/images/covers/69/48/0886977974869_600.jpg',
          sample_rate: 96000,
          bit_depth: 24,
        },
        format: {
          sample_rate: 48000,
          bit_depth: 24,
          channels: 2,
          stream: { sample_rate: 96000, bit_depth: 24, channels: 2 },
          bit_perfect: false,
          not_bit_perfect: ['converted to 24-bit / 48 kHz by output "snapcast"'],
        },
        queue: { length: 5, index: 1 },
        source: 'qobuz',
      }),
    );
  });

  it('carries no controller key: the protocol names no controller (issue #12)', () => {
    expect(Object.keys(toStatePayload(playing))).not.toContain('controller');
  });

  it('gives track null, duration null and index null for an idle player', () => {
    const idle: PlayerView = { ...playing, state: 'idle', qobuzSession: 'disconnected', track: null, format: null, durationMs: null, queue: { length: 0, index: null } };
    expect(toStatePayload(idle)).toMatchObject({ state: 'idle', qobuz_session: 'disconnected', track: null, format: null, duration_ms: null, queue: { length: 0, index: null } });
    // Issue #16: another MPD client plays its own music.
    expect(toStatePayload({ ...idle, source: 'other' })).toMatchObject({ state: 'idle', source: 'other' });
  });

  it('maps a SessionEvent to {type, at, ...fields} in snake_case with 64-bit values made JSON-safe', () => {
    const payload = toEventPayload({
      type: 'set_state',
      atMs: Date.UTC(2026, 0, 2, 3, 4, 5, 0),
      fields: { playingState: 'PLAYING', currentPositionMs: 1200, queueVersion: { major: 2n, minor: 2n ** 60n }, type: 'spoof', at: 'spoof' },
    });
    expect(payload).toEqual({
      type: 'set_state',
      at: '2026-01-02T03:04:05.000Z',
      playing_state: 'PLAYING',
      current_position_ms: 1200,
      queue_version: { major: 2, minor: '1152921504606846976' },
    });
    expect(Object.keys(payload).slice(0, 2)).toEqual(['type', 'at']);
  });
});

describe('Topics', () => {
  const topics = new Topics('qobuz-connect', 'homeassistant');

  it('names every topic of the spec under the base topic', () => {
    expect([
      topics.bridgeState,
      topics.bridgeInfo,
      topics.availability('living_room'),
      topics.state('living_room'),
      topics.event('living_room'),
      topics.set('living_room'),
      topics.setResult('living_room'),
      topics.coverUrl('living_room'),
      topics.setWildcard,
      topics.haStatus,
      topics.discoveryConfig('abc-123'),
    ]).toEqual([
      'qobuz-connect/bridge/state',
      'qobuz-connect/bridge/info',
      'qobuz-connect/living_room/availability',
      'qobuz-connect/living_room/state',
      'qobuz-connect/living_room/event',
      'qobuz-connect/living_room/set',
      'qobuz-connect/living_room/set/result',
      'qobuz-connect/living_room/cover_url',
      'qobuz-connect/+/set',
      'homeassistant/status',
      'homeassistant/device/abc-123/config',
    ]);
  });

  it('reads the player id back from a command topic and nothing else', () => {
    expect(topics.parseSetTopic('qobuz-connect/kitchen/set')).toBe('kitchen');
    expect(topics.parseSetTopic('qobuz-connect/kitchen/set/result')).toBeNull();
    expect(topics.parseSetTopic('other/kitchen/set')).toBeNull();
    expect(topics.parseDiscoveryTopic('homeassistant/device/x1/config')).toBe('x1');
  });

  it('refuses wildcards in the base topic and in player ids', () => {
    expect(() => new Topics('qobuz/+')).toThrow(/base_topic/);
    expect(() => topics.state('a/b')).toThrow(/player id/);
  });
});

describe('MqttAdapter options', () => {
  it('are checked at construction (docs/conventions.md principle 2)', () => {
    const base = {
      link: { url: 'mqtt://127.0.0.1:1' }, baseTopic: 'qc', discovery: { enabled: true, prefix: 'homeassistant' },
      bridge: { version: '1', name: 'b' }, onCommand: async () => {}, logger: pino({ level: 'silent' }),
    };
    expect(() => new MqttAdapter({ ...base, players: [{ id: 'Living Room', name: 'x', uuid: 'u' }] })).toThrow(/\[a-z0-9_\]\+/);
    expect(() => new MqttAdapter({ ...base, players: [{ id: 'a', name: 'x', uuid: 'u' }, { id: 'a', name: 'y', uuid: 'v' }] })).toThrow(/unique/);
    expect(() => new MqttAdapter({ ...base, baseTopic: 'qc/#', players: [] })).toThrow(/base_topic/);
    expect(() => new MqttAdapter({ ...base, players: [] })).not.toThrow();
  });
});
