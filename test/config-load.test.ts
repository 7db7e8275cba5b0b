import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/config-error.js';
import { configSecrets } from '../src/config/config-secrets.js';
import { loadConfig } from '../src/config/load-config.js';
import { isQcbError } from '../src/core/qcb-error.js';
import { defaultRedactor } from '../src/util/redactor.js';

const fixture = (name: string) => new URL(`./fixtures/config/${name}`, import.meta.url).pathname;

/** The issues of the ConfigError that `fn` throws (fails the test when it throws nothing or something else). */
function issuesOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect(isQcbError(err, 'ERR_CONFIG_INVALID')).toBe(true);
    return (err as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig: file and environment (README.md "Configuration")', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'qcb-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads YAML and fills the defaults', () => {
    const c = loadConfig({ file: fixture('minimal.yaml'), env: {} });
    expect(c.players.map((p) => p.id)).toEqual(['living_room']);
    expect(c.http.port).toBe(8689);
  });

  it('reads JSON with every section written out', () => {
    const c = loadConfig({ file: fixture('full.json'), env: {} });
    expect(c.qobuz.join).toBe('renderer');
    expect(c.http.advertise_address).toBe('192.168.1.20');
    expect(c.mqtt.tls).toEqual({ ca: '/etc/ssl/ca.pem', cert: null, key: null, reject_unauthorized: false });
    expect(c.players[0]?.uuid).toBe('0a1b2c3d-4e5f-4a6b-8c7d-8e9fa0b1c2d3');
    expect(c.players[0]?.volume).toEqual({ mode: 'mpd', min: 10, max: 70, report_timeout_ms: 5000, snapcast: null });
  });

  it('reads tab-indented JSON as written by editors', () => {
    writeFileSync(
      join(dir, 'tabs.json'),
      '{\n\t"players": [\n\t\t{ "id": "a", "name": "A" }\n\t],\n\t"http": { "port": 0 }\n}\n',
    );
    const c = loadConfig({ file: join(dir, 'tabs.json'), env: {} });
    expect([c.players[0]?.id, c.http.port]).toEqual(['a', 0]);
  });

  it('returns a deeply frozen config', () => {
    const c = loadConfig({ file: fixture('full.json'), env: {} });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.players[0]?.mpd)).toBe(true);
    expect(Object.isFrozen(c.qobuz.allowed_endpoint_hosts)).toBe(true);
    expect(() => ((c.http as { port: number }).port = 1)).toThrow(TypeError);
  });

  it('applies environment overrides as typed YAML scalars, keeping text settings as text', () => {
    const c = loadConfig({
      file: fixture('minimal.yaml'),
      env: {
        QCB_HTTP__PORT: '9000',
        QCB_MQTT__DISCOVERY: 'false',
        QCB_MQTT__URL: 'mqtt://127.0.0.1:1884',
        QCB_QOBUZ__APP_ID: '123456789',
        QCB_QOBUZ__APP_SECRET: 'true',
        QCB_MQTT__PASSWORD: '1234',
        QCB_MDNS__INTERFACES: '[eth0, wlan0]',
        QCB_QOBUZ__USER_AUTH_TOKEN: '~',
        PATH: '/usr/bin',
      },
    });
    expect(c.http.port).toBe(9000);
    expect(c.mqtt.discovery).toBe(false);
    expect(c.mqtt.url).toBe('mqtt://127.0.0.1:1884');
    expect(c.qobuz.app_id).toBe('123456789');
    expect(c.qobuz.app_secret).toBe('true');
    expect(c.mqtt.password).toBe('1234');
    expect(c.mdns.interfaces).toEqual(['eth0', 'wlan0']);
    expect(c.qobuz.user_auth_token).toBeNull();
  });

  it('overrides list items by index and appends a new one', () => {
    const c = loadConfig({
      file: fixture('minimal.yaml'),
      env: {
        QCB_PLAYERS__0__NAME: 'Salon',
        QCB_PLAYERS__0__MPD__PORT: '6610',
        QCB_PLAYERS__1__ID: 'kitchen',
        QCB_PLAYERS__1__NAME: 'Kitchen',
      },
    });
    expect(c.players.map((p) => [p.id, p.name, p.mpd.port])).toEqual([
      ['living_room', 'Salon', 6610],
      ['kitchen', 'Kitchen', 6600],
    ]);
  });

  it('builds a whole config from the environment alone when there is no file', () => {
    const c = loadConfig({
      env: { QCB_PLAYERS__0__ID: 'den', QCB_PLAYERS__0__NAME: 'Den', QCB_HTTP__PORT: '0' },
      cwd: dir,
    });
    expect(c.players[0]?.id).toBe('den');
    expect(c.http.port).toBe(0);
  });

  it('reads ./config.yaml when no file is given and it exists', () => {
    writeFileSync(join(dir, 'config.yaml'), 'players: [{ id: from_cwd, name: From cwd }]\n');
    expect(loadConfig({ env: {}, cwd: dir }).players[0]?.id).toBe('from_cwd');
  });

  it('rejects environment variables naming no setting, with a hint', () => {
    const issues = issuesOf(() =>
      loadConfig({
        file: fixture('minimal.yaml'),
        env: { QCB_MQTT__BASE_TOPIK: 'x', QCB_PLAYERS__NAME: 'x', QCB_PLAYERS__3__NAME: 'x', QCB_NOPE: '1' },
      }),
    );
    expect(issues).toEqual([
      'QCB_MQTT__BASE_TOPIK: no setting mqtt.base_topik; did you mean QCB_MQTT__BASE_TOPIC?',
      'QCB_NOPE: no setting nope; allowed here: qobuz, http, mdns, mqtt, diagnostics, players',
      'QCB_PLAYERS__3__NAME: players has 1 item(s): index 3 would leave a gap',
      'QCB_PLAYERS__NAME: players is a list: expected a numeric index, got "NAME"',
    ]);
  });

  it('names the variable behind an invalid value', () => {
    const issues = issuesOf(() =>
      loadConfig({ file: fixture('minimal.yaml'), env: { QCB_HTTP__PORT: 'eighty' } }),
    );
    expect(issues).toEqual([
      'http.port: expected integer 0-65535, got string "eighty" (from QCB_HTTP__PORT)',
    ]);
  });

  it('refuses mqtt.username without mqtt.password (and the reverse) for the embedded broker, with its path (issue #26)', () => {
    writeFileSync(join(dir, 'u.yaml'), 'mqtt:\n  username: ha\nplayers: [{ id: a, name: A }]\n');
    const [userOnly] = issuesOf(() => loadConfig({ file: join(dir, 'u.yaml'), env: {} }));
    expect(userOnly).toMatch(/^mqtt\.password: expected a password: the embedded broker \(no mqtt\.url\) needs mqtt\.username and mqtt\.password together/);
    writeFileSync(join(dir, 'p.yaml'), 'mqtt:\n  password: s3cret-only\nplayers: [{ id: a, name: A }]\n');
    const issues = issuesOf(() => loadConfig({ file: join(dir, 'p.yaml'), env: {} }));
    expect(issues[0]).toMatch(/^mqtt\.username: expected a user name/);
    expect(issues.join('\n')).not.toContain('s3cret-only');
    // Both, neither, or an external broker (its own policy) are fine.
    writeFileSync(join(dir, 'ok.yaml'), 'mqtt:\n  url: mqtt://broker:1883\n  username: ha\nplayers: [{ id: a, name: A }]\n');
    expect(loadConfig({ file: join(dir, 'ok.yaml'), env: {} }).mqtt.username).toBe('ha');
  });

  it('reports an unknown key with the closest allowed key', () => {
    writeFileSync(join(dir, 'c.yaml'), 'mqtt:\n  base_topik: x\nplayers: [{ id: a, name: A, mdp: {} }]\n');
    expect(issuesOf(() => loadConfig({ file: join(dir, 'c.yaml'), env: {} }))).toEqual([
      'mqtt.base_topik: unknown key; did you mean "base_topic"?',
      'players[0].mdp: unknown key; did you mean "mpd"?',
    ]);
  });

  it('reports YAML and JSON syntax errors with file, line and column', () => {
    const yaml = issuesOf(() => loadConfig({ file: fixture('syntax-error.yaml'), env: {} }));
    expect(yaml.length).toBeGreaterThan(0);
    expect(yaml[0]).toMatch(/syntax-error\.yaml:6:1: /);
    const json = issuesOf(() => loadConfig({ file: fixture('syntax-error.json'), env: {} }));
    expect(json[0]).toMatch(/syntax-error\.json:3:52: Unexpected , in flow/);
  });

  it('reports a missing file and a file that is not a mapping', () => {
    expect(issuesOf(() => loadConfig({ file: join(dir, 'absent.yaml'), env: {} }))[0]).toMatch(
      /absent\.yaml: cannot read the config file \(ENOENT/,
    );
    writeFileSync(join(dir, 'list.yaml'), '- 1\n- 2\n');
    expect(issuesOf(() => loadConfig({ file: join(dir, 'list.yaml'), env: {} }))).toEqual([
      `${join(dir, 'list.yaml')}: expected a mapping of settings (qobuz, http, mdns, mqtt, players), got a list`,
    ]);
  });

  it('never echoes a secret value in an error', () => {
    writeFileSync(join(dir, 's.yaml'), 'qobuz: { app_secret: 12345678 }\nplayers: [{ id: a, name: A }]\n');
    const issues = issuesOf(() => loadConfig({ file: join(dir, 's.yaml'), env: {} }));
    expect(issues).toEqual([
      'qobuz.app_secret: expected a string or null, got a number (not shown: secret); quote it in YAML to make it a string',
    ]);
  });
});

describe('loadConfig and the log redactor', () => {
  it('registers the config secrets with the process-wide redactor', () => {
    const config = loadConfig({
      file: fixture('full.json'),
      env: {
        QCB_QOBUZ__USER_AUTH_TOKEN: 'uat-from-env-1',
        QCB_MQTT__URL: 'mqtt://bridge:url%40pass@broker:1883',
      },
    });
    for (const secret of [
      '0123456789abcdef',
      'mqtt-pass',
      'mpd-pass',
      'uat-from-env-1',
      'url@pass',
      'url%40pass',
    ]) {
      expect(defaultRedactor.scrubString(`x ${secret} y`)).toBe('x [redacted] y');
    }
    expect(configSecrets(config)).not.toContain(config.qobuz.app_id); // the app id is public
  });

  it('does not echo a password embedded in a rejected URL', () => {
    const issues = issuesOf(() =>
      loadConfig({
        file: fixture('minimal.yaml'),
        env: { QCB_MQTT__URL: 'http://bridge:s3cret-url@broker' },
      }),
    );
    expect(issues).toEqual([
      'mqtt.url: expected an mqtt://, mqtts://, ws:// or wss:// URL, got "http://bridge:[redacted]@broker" (from QCB_MQTT__URL)',
    ]);
  });
});
