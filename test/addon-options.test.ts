import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { type SchemaNode, validateAddonOptions } from '../addon/dev/supervisor-options.js';
import { ConfigError } from '../src/config/config-error.js';
import { loadConfig } from '../src/config/load-config.js';

/**
 * Issue #7: the add-on's option schema (validated by the Supervisor) and the bridge's zod
 * schema must accept and reject the same options, after the very mapping run.sh applies
 * (addon/options-to-config.jq, run here with the real jq).
 */

const JQ = '/usr/bin/jq';
const addon = (file: string) => fileURLToPath(new URL(`../addon/${file}`, import.meta.url));
const manifest = YAML.parse(readFileSync(addon('config.yaml'), 'utf8')) as {
  options: Record<string, unknown>;
  schema: { [key: string]: SchemaNode };
};
const SERVICE = {
  host: 'core-mosquitto',
  port: '1883',
  ssl: 'false',
  username: 'addons',
  password: 's3cret',
};

let dir: string;
beforeAll(() => {
  if (!existsSync(JQ))
    throw new Error('jq is missing; install it with: apt-get update && apt-get install -y jq');
  dir = mkdtempSync(join(tmpdir(), 'qcb-addon-options-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Add-on options → bridge config text, through run.sh's jq program. */
function mapOptions(options: unknown, service: unknown = SERVICE): string {
  return execFileSync(
    JQ,
    ['--argjson', 'service', JSON.stringify(service), '-f', addon('options-to-config.jq')],
    {
      input: JSON.stringify(options),
      encoding: 'utf8',
    },
  );
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

const supervisor = (options: unknown) => validateAddonOptions(manifest.schema, options);
const example = (): Record<string, unknown> => structuredClone(manifest.options);

/** The example with changes at dotted paths (`players.0.mpd.port`). */
function withChanges(changes: Record<string, unknown>): Record<string, unknown> {
  const options = example();
  for (const [path, value] of Object.entries(changes)) {
    const keys = path.split('.');
    let node = options as Record<string, unknown>;
    for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>;
    node[keys.at(-1)!] = value;
  }
  return options;
}
const withChange = (path: string, value: unknown) => withChanges({ [path]: value });

describe('add-on options and the bridge schema', () => {
  it('accept the options example of config.yaml, which maps onto a bridge config with the MQTT service', () => {
    const checked = supervisor(example());
    expect(checked).toMatchObject({ ok: true });
    expect(bridgeIssues(checked.ok ? checked.value : null)).toEqual([]);
    const config = JSON.parse(mapOptions(example())) as { mqtt: Record<string, unknown> };
    expect(config.mqtt).toMatchObject({
      url: 'mqtt://core-mosquitto:1883',
      username: 'addons',
      password: 's3cret',
    });
  });

  it.each([
    [
      'a user broker, a fixed uuid, one interface and an address',
      {
        'mqtt.url': 'mqtts://broker.lan:8883',
        'mqtt.username': 'me',
        'mdns.interfaces': ['eth0'],
        'http.advertise_address': '192.168.1.20',
        'players.0.uuid': '3f1c2a9e-5b7d-4c1e-9a2b-7d8e6f5a4b3c',
      },
    ],
    [
      'a remote MPD with a password and a narrow volume range',
      {
        'players.0.mpd': { host: 'kitchen.lan', port: 6601, password: 'pw' },
        'players.0.volume': { min: 10, max: 80 },
      },
    ],
    [
      'a user token, renderer mode and every quality name',
      {
        'qobuz.user_auth_token': 'tok',
        'qobuz.join': 'renderer',
        'qobuz.max_quality': 'mp3',
      },
    ],
    ['an mpd section with nothing in it (the bridge defaults apply)', { 'players.0.mpd': {} }],
  ])('both accept %s', (_title, changes) => {
    const checked = supervisor(withChanges(changes));
    expect(checked).toMatchObject({ ok: true });
    expect(bridgeIssues(checked.ok ? checked.value : null)).toEqual([]);
  });

  it.each([
    ['qobuz.max_quality', 'flac', 'qobuz.max_quality'],
    ['qobuz.join', 'listener', 'qobuz.join'],
    ['http.port', 70000, 'http.port'],
    ['http.advertise_address', '300.1.2.3', 'http.advertise_address'],
    ['mqtt.url', 'http://broker.lan', 'mqtt.url'],
    ['mqtt.base_topic', 'qobuz/#', 'mqtt.base_topic'],
    ['mqtt.discovery', 'maybe', 'mqtt.discovery'],
    ['players.0.id', 'Living Room', 'players[0].id'],
    ['players.0.name', '', 'players[0].name'],
    ['players.0.device_type', 'radio', 'players[0].device_type'],
    ['players.0.uuid', 'not-a-uuid', 'players[0].uuid'],
    ['players.0.mpd', { host: '127.0.0.1', port: 70000 }, 'players[0].mpd.port'],
    ['players.0.volume', { min: 0, max: 150 }, 'players[0].volume.max'],
  ])('both reject %s = %j, the bridge at the same path', (path, value, bridgePath) => {
    const options = withChange(path, value);
    expect(supervisor(options)).toMatchObject({ ok: false });
    const issues = bridgeIssues(options);
    expect(
      issues.some((line) => line.startsWith(`${bridgePath}:`)),
      issues.join('\n'),
    ).toBe(true);
  });

  it('differ only where documented: the bridge alone checks min < max, unique ids and at least one player', () => {
    const inverted = withChange('players.0.volume', { min: 60, max: 40 });
    expect(supervisor(inverted)).toMatchObject({ ok: true });
    expect(bridgeIssues(inverted)).toEqual([
      expect.stringMatching(/^players\[0\]\.volume\.max: expected an integer above/),
    ]);
    const twice = example() as unknown as { players: unknown[] };
    twice.players.push(structuredClone(twice.players[0]));
    expect(supervisor(twice)).toMatchObject({ ok: true });
    expect(bridgeIssues(twice).some((l) => l.startsWith('players[1].id: expected a unique id'))).toBe(true);
    const none = withChange('players', []);
    expect(supervisor(none)).toMatchObject({ ok: true });
    expect(bridgeIssues(none)).toEqual([expect.stringMatching(/^players: expected at least one player/)]);
  });

  it('differ only where documented: the Supervisor alone requires the mpd and volume sections', () => {
    const options = example() as unknown as { players: Record<string, unknown>[] };
    delete options.players[0]!.mpd;
    expect(supervisor(options)).toEqual({ ok: false, errors: ['players[0].mpd: missing option'] });
    expect(bridgeIssues(options)).toEqual([]);
  });

  it('coerce like the Supervisor: a quoted port is a number by the time the bridge reads it', () => {
    const checked = supervisor(withChange('http.port', '8700'));
    expect(checked).toMatchObject({ ok: true, value: { http: { port: 8700 } } });
    expect(bridgeIssues(checked.ok ? checked.value : null)).toEqual([]);
  });
});
