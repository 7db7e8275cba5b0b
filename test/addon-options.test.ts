import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  mergeOptions,
  type SchemaNode,
  supervisorOptions,
  validateAddonOptions,
} from '../addon/dev/supervisor-options.js';
import { ConfigError } from '../src/config/config-error.js';
import { loadConfig } from '../src/config/load-config.js';

/**
 * Issues #7 and #17: the add-on's option schema (validated by the Supervisor, here through
 * its port addon/dev/supervisor-options.ts) and the bridge's zod schema must accept and
 * reject the same options after the very mapping the add-on applies at start
 * (options-to-config.jq, run here with the real jq), including what the UI editor sends:
 * a player with only an id and a name, and "" for every option documented as "empty = unset".
 */

const JQ = '/usr/bin/jq';
const addon = (file: string) => fileURLToPath(new URL(`../addon/${file}`, import.meta.url));
const MAPPING = addon('rootfs/usr/share/qobuz-connect-bridge/options-to-config.jq');
const manifest = YAML.parse(readFileSync(addon('config.yaml'), 'utf8')) as {
  options: Record<string, unknown>;
  schema: { [key: string]: SchemaNode };
};
/** The Supervisor's MQTT service object (GET /services/mqtt), as bashio::services mqtt prints it. */
const SERVICE = {
  host: 'core-mosquitto',
  port: 1883,
  ssl: false,
  protocol: '3.1.1',
  username: 'addons',
  password: 's3cret',
  addon: 'core_mosquitto',
};

let dir: string;
beforeAll(() => {
  if (!existsSync(JQ))
    throw new Error('jq is missing; install it with: apt-get update && apt-get install -y jq');
  dir = mkdtempSync(join(tmpdir(), 'qcb-addon-options-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Add-on options → bridge config text, through the jq program, the service on stdin as qcb-init.sh does. */
function mapOptions(options: unknown, service: unknown = SERVICE): string {
  const file = join(dir, `options-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(options));
  return execFileSync(JQ, ['-n', '--slurpfile', 'options', file, '-f', MAPPING], {
    input: service === null ? '' : JSON.stringify(service),
    encoding: 'utf8',
  });
}

/** The bridge's verdict on the mapped options: [] when accepted, else its issues. */
function bridgeIssues(options: unknown, service: unknown = SERVICE): string[] {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, mapOptions(options, service));
  try {
    loadConfig({ file, env: {} });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
}
/** The bridge's config from add-on options that the Supervisor accepted. */
function bridgeConfig(options: unknown) {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, mapOptions(options));
  return loadConfig({ file, env: {} });
}

/** What the Supervisor writes to /data/options.json for these saved user options. */
const supervisor = (userOptions: unknown) => supervisorOptions(manifest, userOptions);
const validated = (userOptions: unknown): Record<string, unknown> => {
  const result = supervisor(userOptions);
  expect(result).toMatchObject({ ok: true });
  return result.ok ? result.value : {};
};

describe('add-on options and the bridge schema', () => {
  it('accept the defaults of config.yaml, which map onto a bridge config with the MQTT service', () => {
    const options = validated({});
    expect(bridgeIssues(options)).toEqual([]);
    const config = bridgeConfig(options);
    expect(config.mqtt).toMatchObject({
      url: 'mqtt://core-mosquitto:1883',
      username: 'addons',
      password: 's3cret',
    });
    expect(config.players.map((p) => [p.id, p.name, p.device_type, p.mpd.host, p.mpd.port])).toEqual([
      ['living_room', 'Living Room', 'speaker', '127.0.0.1', 6600],
    ]);
  });

  it('accept a player the UI editor added with only an id and a name, with the bridge defaults (#17)', () => {
    const options = validated({
      players: [
        { id: 'living_room', name: 'Living Room' },
        { id: 'kitchen', name: 'Kitchen' },
      ],
    });
    const config = bridgeConfig(options);
    expect(
      config.players.map((p) => ({ id: p.id, type: p.device_type, mpd: p.mpd, volume: p.volume })),
    ).toEqual([
      {
        id: 'living_room',
        type: 'speaker',
        mpd: { host: '127.0.0.1', port: 6600, password: null, config_file: null },
        volume: { mode: 'mpd', min: 0, max: 100, report_timeout_ms: 5000, snapcast: null },
      },
      {
        id: 'kitchen',
        type: 'speaker',
        mpd: { host: '127.0.0.1', port: 6600, password: null, config_file: null },
        volume: { mode: 'mpd', min: 0, max: 100, report_timeout_ms: 5000, snapcast: null },
      },
    ]);
  });

  it('accept "" wherever the documentation says empty = unset, and treat it as unset (#17)', () => {
    const options = validated({
      qobuz: { user_auth_token: '' },
      http: { advertise_address: '', bind: '' },
      mdns: { interfaces: [''] },
      mqtt: { url: '', username: '', password: '' },
      players: [{ id: 'a', name: 'A', uuid: '', mpd_host: '', mpd_password: '' }],
    });
    const config = bridgeConfig(options);
    expect(config.qobuz.user_auth_token).toBeNull();
    expect(config.http.advertise_address).toBe('auto');
    expect(config.http.bind).toBe('0.0.0.0');
    expect(config.mdns.interfaces).toBeNull();
    // Empty url, user and password: Home Assistant's MQTT service with its credentials.
    expect(config.mqtt).toMatchObject({
      url: 'mqtt://core-mosquitto:1883',
      username: 'addons',
      password: 's3cret',
    });
    expect(config.players[0]).toMatchObject({ mpd: { host: '127.0.0.1', port: 6600, password: null } });
    expect(config.players[0]!.uuid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([
    [
      'a user broker, a fixed uuid, one interface and an address',
      {
        mqtt: { url: 'mqtts://broker.lan:8883', username: 'me' },
        mdns: { interfaces: ['eth0'] },
        http: { advertise_address: '192.168.1.20' },
        players: [{ id: 'a', name: 'A', uuid: '3f1c2a9e-5b7d-4c1e-9a2b-7d8e6f5a4b3c' }],
      },
    ],
    [
      'a remote MPD with a password and a narrow volume range',
      {
        players: [
          {
            id: 'a',
            name: 'A',
            mpd_host: 'kitchen.lan',
            mpd_port: 6601,
            mpd_password: 'pw',
            volume_min: 10,
            volume_max: 80,
          },
        ],
      },
    ],
    [
      'a user token, renderer mode and mp3',
      { qobuz: { user_auth_token: 'tok', join: 'renderer', max_quality: 'mp3' } },
    ],
    ['"auto" as the advertised address', { http: { advertise_address: 'auto' } }],
    ['one IPv4 listen address (#26)', { http: { bind: '192.168.1.20' } }],
    ['an IPv6 listen address (#26)', { http: { bind: 'fd00::20' } }],
    [
      'a quoted port, coerced as the Supervisor does',
      { http: { port: '8700' }, players: [{ id: 'a', name: 'A', mpd_port: '6601' }] },
    ],
  ])('both accept %s', (_title, userOptions) => {
    expect(bridgeIssues(validated(userOptions))).toEqual([]);
  });

  it('hand the bridge http.bind as its listen address (#26)', () => {
    expect(bridgeConfig(validated({ http: { port: 8700, bind: '192.168.1.20' } })).http).toMatchObject({
      port: 8700,
      bind: '192.168.1.20',
    });
  });

  it('hand the bridge every player field under its own name', () => {
    const config = bridgeConfig(
      validated({
        players: [
          {
            id: 'kitchen',
            name: 'Kitchen',
            device_type: 'soundbar',
            mpd_host: 'kitchen.lan',
            mpd_port: 6601,
            mpd_password: 'pw',
            volume_min: 10,
            volume_max: 80,
          },
        ],
      }),
    );
    expect(config.players[0]).toMatchObject({
      id: 'kitchen',
      name: 'Kitchen',
      device_type: 'soundbar',
      mpd: { host: 'kitchen.lan', port: 6601, password: 'pw' },
      volume: { min: 10, max: 80 },
    });
  });

  const player = (changes: Record<string, unknown>) => ({ players: [{ id: 'a', name: 'A', ...changes }] });
  it.each([
    [{ qobuz: { max_quality: 'flac' } }, 'qobuz.max_quality'],
    [{ qobuz: { join: 'listener' } }, 'qobuz.join'],
    [{ http: { port: 70000 } }, 'http.port'],
    [{ http: { advertise_address: '300.1.2.3' } }, 'http.advertise_address'],
    [{ http: { bind: '300.1.2.3' } }, 'http.bind'],
    [{ http: { bind: 'eth0' } }, 'http.bind'],
    [{ mqtt: { url: 'http://broker.lan' } }, 'mqtt.url'],
    [{ mqtt: { base_topic: 'qobuz/#' } }, 'mqtt.base_topic'],
    [{ mqtt: { discovery: 'maybe' } }, 'mqtt.discovery'],
    [player({ id: 'Living Room' }), 'players[0].id'],
    [player({ name: '' }), 'players[0].name'],
    [player({ device_type: 'radio' }), 'players[0].device_type'],
    [player({ uuid: 'not-a-uuid' }), 'players[0].uuid'],
    [player({ mpd_port: 70000 }), 'players[0].mpd.port'],
    [player({ volume_max: 150 }), 'players[0].volume.max'],
  ])('both reject %j, the bridge at %s', (userOptions, bridgePath) => {
    expect(supervisor(userOptions)).toMatchObject({ ok: false });
    // The bridge sees the same (unvalidated) value: the merged options, as they were saved.
    const issues = bridgeIssues(mergeOptions(manifest.options, userOptions));
    expect(
      issues.some((line) => line.startsWith(`${bridgePath}:`)),
      issues.join('\n'),
    ).toBe(true);
  });

  it('differ only where documented: the bridge alone checks min < max, unique ids and at least one player', () => {
    const inverted = validated(player({ volume_min: 60, volume_max: 40 }));
    expect(bridgeIssues(inverted)).toEqual([
      expect.stringMatching(/^players\[0\]\.volume\.max: expected an integer above/),
    ]);
    const twice = validated({
      players: [
        { id: 'a', name: 'A' },
        { id: 'a', name: 'B' },
      ],
    });
    expect(bridgeIssues(twice).some((l) => l.startsWith('players[1].id: expected a unique id'))).toBe(true);
    const none = validated({ players: [] });
    expect(bridgeIssues(none)).toEqual([expect.stringMatching(/^players: expected at least one player/)]);
  });

  it('use the MQTT service only while mqtt.url is empty, its ssl flag choosing mqtts', () => {
    const viaService = JSON.parse(mapOptions(validated({}), { ...SERVICE, ssl: true, port: 8883 })) as {
      mqtt: Record<string, unknown>;
    };
    expect(viaService.mqtt.url).toBe('mqtts://core-mosquitto:8883');
    const none = JSON.parse(mapOptions(validated({}), null)) as { mqtt: Record<string, unknown> };
    expect(none.mqtt).not.toHaveProperty('url');
    expect(none.mqtt).not.toHaveProperty('password');
  });
});

/** The Supervisor's behaviour (supervisor/apps/options.py) that the add-on relies on. */
describe('the port of the Supervisor option validation', () => {
  const nested = { players: [{ id: 'str', mpd: { host: 'str?' } }] };

  it('requires a nested dict in every list entry, which is why players are flat (#17)', () => {
    expect(validateAddonOptions(nested, { players: [{ id: 'a' }] })).toEqual({
      ok: false,
      errors: ["Missing option 'mpd' in players"],
    });
    expect(validateAddonOptions(nested, { players: [{ id: 'a', mpd: {} }] })).toMatchObject({ ok: true });
  });

  it('takes a missing optional key, but never null, even for an optional type', () => {
    expect(validateAddonOptions({ a: 'str?', b: ['str?'] }, {})).toEqual({ ok: true, value: {} });
    expect(validateAddonOptions({ a: 'str?' }, { a: null })).toEqual({
      ok: false,
      errors: ["Missing required option 'a'"],
    });
    expect(validateAddonOptions({ a: 'str' }, {})).toEqual({
      ok: false,
      errors: ["Missing option 'a' in root"],
    });
  });

  it('drops unknown keys, at the top and in nested dicts', () => {
    expect(validateAddonOptions({ a: { b: 'int' } }, { a: { b: 1, c: 2 }, d: 3 })).toEqual({
      ok: true,
      value: { a: { b: 1 } },
    });
  });

  it('deep-merges the saved options over the defaults, a list replacing the default list', () => {
    expect(mergeOptions({ q: { a: 1, b: 2 }, l: [1, 2], s: 'x' }, { q: { b: 3 }, l: [9] })).toEqual({
      q: { a: 1, b: 3 },
      l: [9],
      s: 'x',
    });
  });

  it('coerces int and port like Python, with inclusive ranges', () => {
    expect(validateAddonOptions({ p: 'port', i: 'int(0,100)' }, { p: ' 8700 ', i: 7.9 })).toEqual({
      ok: true,
      value: { p: 8700, i: 7 },
    });
    expect(validateAddonOptions({ i: 'int(0,100)' }, { i: 100 })).toMatchObject({ ok: true });
    expect(validateAddonOptions({ i: 'int(0,100)' }, { i: 101 })).toMatchObject({ ok: false });
    expect(validateAddonOptions({ i: 'int(-5,5)' }, { i: -5 })).toMatchObject({ ok: true });
    expect(validateAddonOptions({ p: 'port' }, { p: 0 })).toMatchObject({ ok: false });
    expect(validateAddonOptions({ p: 'port' }, { p: '' })).toMatchObject({ ok: false });
    expect(validateAddonOptions({ f: 'float(0.5,1)' }, { f: '0.75' })).toEqual({
      ok: true,
      value: { f: 0.75 },
    });
  });

  it('takes only strings for str and password, with their length limits', () => {
    expect(validateAddonOptions({ s: 'str' }, { s: 5 })).toMatchObject({ ok: false });
    expect(validateAddonOptions({ s: 'str(2,3)' }, { s: 'ab' })).toMatchObject({ ok: true });
    expect(validateAddonOptions({ s: 'str(2,3)' }, { s: 'abcd' })).toMatchObject({ ok: false });
    expect(validateAddonOptions({ p: 'password(4,)' }, { p: 'abc' })).toMatchObject({ ok: false });
    expect(validateAddonOptions({ s: 'str?' }, { s: '' })).toEqual({ ok: true, value: { s: '' } });
  });

  it("reads booleans like voluptuous, and compares match and list on Python's str()", () => {
    expect(validateAddonOptions({ b: 'bool' }, { b: 'off' })).toEqual({ ok: true, value: { b: false } });
    expect(validateAddonOptions({ b: 'bool' }, { b: 'maybe' })).toMatchObject({ ok: false });
    expect(validateAddonOptions({ b: 'bool' }, { b: 0 })).toEqual({ ok: true, value: { b: false } });
    expect(validateAddonOptions({ l: 'list(True|False)' }, { l: true })).toEqual({
      ok: true,
      value: { l: 'True' },
    });
    expect(validateAddonOptions({ m: 'match(^\\d+$)' }, { m: 42 })).toEqual({ ok: true, value: { m: '42' } });
    // re.match anchors at the start only: the schema's own `$` does the rest.
    expect(validateAddonOptions({ m: 'match(a)' }, { m: 'abc' })).toMatchObject({ ok: true });
    expect(validateAddonOptions({ m: 'match(^(|a)$)?' }, { m: '' })).toMatchObject({ ok: true });
  });

  it('looks up "!secret name" in secrets.yaml', () => {
    expect(
      validateAddonOptions({ p: 'password' }, { p: '!secret qobuz' }, { secrets: { qobuz: 'x' } }),
    ).toEqual({
      ok: true,
      value: { p: 'x' },
    });
    expect(validateAddonOptions({ p: 'password' }, { p: '!secret nope' })).toEqual({
      ok: false,
      errors: ["Unknown secret 'nope'"],
    });
  });
});
