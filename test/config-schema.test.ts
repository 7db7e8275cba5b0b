import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ConfigSchema, deviceTypeName, playerUuid } from '../src/config/config-schema.js';
import { DEFAULTS } from '../src/config/defaults.js';
import { derivePlayerUuid } from '../src/config/player-uuid.js';

/** What a user may write (every default optional). */
type ConfigInput = z.input<typeof ConfigSchema>;
const minimal: ConfigInput = { players: [{ id: 'living_room', name: 'Living Room' }] };

describe('the config schema (README.md "Configuration")', () => {
  it('fills every default from the one defaults object', () => {
    const c = ConfigSchema.parse(minimal);
    expect(c.qobuz).toEqual({
      app_id: null,
      app_secret: null,
      max_quality: 'hires_192',
      user_auth_token: null,
      cloud: true,
      join: 'controller',
      api_base_url: 'https://www.qobuz.com/api.json/0.2',
      allowed_endpoint_hosts: ['*.qobuz.com'],
    });
    expect(c.http).toEqual({ port: 8689, bind: '0.0.0.0', advertise_address: 'auto' });
    expect(c.mdns).toEqual({ interfaces: null });
    expect(c.mqtt).toEqual({
      url: null,
      embedded_port: 1883,
      embedded_bind: '127.0.0.1',
      username: null,
      password: null,
      base_topic: 'qobuz-connect',
      discovery: true,
      discovery_prefix: 'homeassistant',
      tls: null,
    });
    expect(c.players).toEqual([
      {
        id: 'living_room',
        name: 'Living Room',
        device_type: 'speaker',
        uuid: derivePlayerUuid('living_room'),
        mpd: { host: '127.0.0.1', port: 6600, password: null, config_file: null },
        max_quality: null,
        volume: { mode: 'mpd', min: 0, max: 100, report_timeout_ms: 5000, snapcast: null },
      },
    ]);
    // The defaults object is what the schema used, not a second copy of the values.
    expect(c.http.port).toBe(DEFAULTS.http.port);
    expect(c.mqtt.base_topic).toBe(DEFAULTS.mqtt.base_topic);
  });

  it('fills the defaults of a partly written section and of the TLS block', () => {
    const c = ConfigSchema.parse({
      ...minimal,
      mqtt: { url: 'mqtts://broker:8883', tls: { ca: '/ca.pem' } },
      players: [{ id: 'a', name: 'A', mpd: { port: 6601 }, volume: { max: 60 } }],
    });
    expect(c.mqtt.tls).toEqual({ ca: '/ca.pem', cert: null, key: null, reject_unauthorized: true });
    expect(c.mqtt.embedded_port).toBe(1883);
    expect(c.players[0]?.mpd).toEqual({ host: '127.0.0.1', port: 6601, password: null, config_file: null });
    expect(c.players[0]?.volume).toEqual({ mode: 'mpd', min: 0, max: 60, report_timeout_ms: 5000, snapcast: null });
  });

  it('treats empty credentials as not set, so the example placeholders mean "none"', () => {
    const c = ConfigSchema.parse({
      ...minimal,
      qobuz: { app_id: '', app_secret: '' },
      mqtt: { password: '' },
    });
    expect(c.qobuz.app_id).toBeNull();
    expect(c.qobuz.app_secret).toBeNull();
    expect(c.mqtt.password).toBeNull();
  });

  it('derives a stable version-5 uuid per player id and keeps a configured one, lowercased', () => {
    const first = derivePlayerUuid('living_room');
    expect(first).toBe(derivePlayerUuid('living_room'));
    expect(first).toBe('11f97d04-519d-59a5-a42a-544a6f891472'); // fixed forever: the apps cache devices by uuid
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(derivePlayerUuid('kitchen')).not.toBe(first);
    expect(playerUuid({ id: 'x', uuid: 'ABCDEF01-2345-4678-9ABC-DEF012345678' })).toBe(
      'abcdef01-2345-4678-9abc-def012345678',
    );
    expect(playerUuid({ id: 'kitchen', uuid: null })).toBe(derivePlayerUuid('kitchen'));
  });

  it('derives the uuid from the base topic too when it is not the default, so two bridges on one broker never collide (issue #12)', () => {
    const player = { id: 'living_room', name: 'Living Room' };
    const single = ConfigSchema.parse({ players: [player] });
    expect(single.players[0]!.uuid).toBe('11f97d04-519d-59a5-a42a-544a6f891472');
    expect(ConfigSchema.parse({ mqtt: { base_topic: 'qobuz-connect' }, players: [player] }).players[0]!.uuid).toBe(single.players[0]!.uuid);
    const kitchen = ConfigSchema.parse({ mqtt: { base_topic: 'qc-kitchen' }, players: [player] }).players[0]!.uuid;
    const cellar = ConfigSchema.parse({ mqtt: { base_topic: 'qc-cellar' }, players: [player] }).players[0]!.uuid;
    expect(kitchen).toBe(derivePlayerUuid('living_room', 'qc-kitchen'));
    expect(new Set([single.players[0]!.uuid, kitchen, cellar]).size).toBe(3);
    expect(kitchen).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // A configured uuid is the user's: the base topic never changes it.
    const fixed = 'abcdef01-2345-4678-9abc-def012345678';
    expect(ConfigSchema.parse({ mqtt: { base_topic: 'qc-kitchen' }, players: [{ ...player, uuid: fixed }] }).players[0]!.uuid).toBe(fixed);
  });

  it('maps device types onto the protocol DeviceType names', () => {
    const types = ['speaker', 'streamer', 'tv', 'soundbar', 'computer', 'headphones'] as const;
    expect(types.map((device_type) => deviceTypeName({ device_type }))).toEqual([
      'SPEAKER',
      'STREAMER',
      'TV',
      'SOUNDBAR',
      'COMPUTER',
      'HEADPHONES',
    ]);
  });

  it('rejects duplicate player ids and duplicate uuids at the second player', () => {
    const uuid = derivePlayerUuid('a');
    const r = ConfigSchema.safeParse({
      players: [
        { id: 'a', name: 'A' },
        { id: 'a', name: 'A again' },
        { id: 'b', name: 'B', uuid },
      ],
    });
    expect(r.success).toBe(false);
    const found = r.error?.issues.map((i) => i.path.join('.')).sort();
    // players[1] repeats an id (its derived uuid repeats with it: one mistake, one issue);
    // players[2] was given players[0]'s derived uuid.
    expect(found).toEqual(['players.1.id', 'players.2.uuid']);
  });

  it('refuses the player ids bridge and session, whose topics are the bridge\'s own (issue #24)', () => {
    const r = ConfigSchema.safeParse({ players: [{ id: 'bridge', name: 'A' }, { id: 'session', name: 'B' }, { id: 'sessions', name: 'C' }] });
    expect(r.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['players.0.id', "expected an id other than bridge or session (the bridge's own topics)"],
      ['players.1.id', "expected an id other than bridge or session (the bridge's own topics)"],
    ]);
  });

  it('rejects unknown keys at every level', () => {
    const r = ConfigSchema.safeParse({
      extra: 1,
      qobuz: { appid: 'x' },
      mqtt: { tls: { cafile: 'x' } },
      players: [{ id: 'a', name: 'A', colour: 'red', mpd: { hots: 'x' }, volume: { mn: 1 } }],
    });
    const unknown = r.error?.issues
      .filter((i) => i.code === 'unrecognized_keys')
      .map((i) => i.path.join('.'));
    expect(unknown?.sort()).toEqual(
      ['', 'mqtt.tls', 'players.0', 'players.0.mpd', 'players.0.volume', 'qobuz'].sort(),
    );
  });

  it('rejects a volume range whose min is not below its max, and a certificate without its key', () => {
    const r = ConfigSchema.safeParse({
      mqtt: { tls: { cert: '/c.pem' } },
      players: [{ id: 'a', name: 'A', volume: { min: 50, max: 50 } }],
    });
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['mqtt.tls.key', 'players.0.volume.max']);
  });

  it('takes a Snapcast volume with a group or a stream, and says what is wrong with one that is not (issue #23)', () => {
    const ok = ConfigSchema.parse({ players: [{ id: 'a', name: 'A', volume: { mode: 'snapcast', snapcast: { stream: 'qobuz' } } }] });
    expect(ok.players[0]?.volume.snapcast).toEqual({ host: '127.0.0.1', port: 1705, group: null, stream: 'qobuz' });
    const r = ConfigSchema.safeParse({
      players: [
        { id: 'a', name: 'A', volume: { mode: 'snapcast' } },
        { id: 'b', name: 'B', volume: { mode: 'snapcast', snapcast: { group: 'g', stream: 's' } } },
        { id: 'c', name: 'C', volume: { snapcast: { group: 'g' } } },
      ],
    });
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual([
      'players.0.volume.snapcast',
      'players.1.volume.snapcast.group',
      'players.2.volume.snapcast',
    ]);
  });

  it('needs at least one player', () => {
    expect(ConfigSchema.safeParse({ players: [] }).success).toBe(false);
    expect(ConfigSchema.safeParse({}).success).toBe(false);
  });
});
