import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadConfig } from '../src/config/load-config.js';
import { freePort } from './support/free-port.js';

/**
 * Issue #7: the add-on's real run.sh, run with bash in a temp dir. A shim stands in for
 * bashio (reading the sample options and MQTT service answer with jq), QCB_BRIDGE_CMD
 * replaces the bridge with a script that captures its config, and QCB_MPD_BIN a fake MPD
 * (or the real /usr/bin/mpd, to prove the rendered mpd.conf starts a real MPD).
 */

const run = promisify(execFile);
const ADDON = fileURLToPath(new URL('../addon/', import.meta.url));

const BASHIO_SHIM = `
bashio::config() { jq -r --arg k "$1" 'getpath($k | split(".")) | if . == null then "null" elif type == "string" then . else tojson end' "$QCB_OPTIONS_FILE"; }
bashio::config.has_value() { local v; v="$(bashio::config "$1")"; [[ "$v" != "null" && -n "$v" ]]; }
bashio::services.available() { [[ -s "$SHIM_SERVICE_FILE" ]]; }
bashio::services() { jq -r --arg k "$2" '.[$k] | if . == null then "null" else tostring end' "$SHIM_SERVICE_FILE"; }
bashio::log.info() { echo "INFO $*" >&2; }
bashio::log.warning() { echo "WARN $*" >&2; }
`;
const CAPTURE = `#!/bin/bash
printf '%s\\n' "$@" >"$SHIM_DIR/bridge-args"
cp "$2" "$SHIM_DIR/bridge-config.json"
printf '%s' "$LOG_LEVEL" >"$SHIM_DIR/bridge-log-level"
`;
const FAKE_MPD = `#!/bin/bash
printf '%s\\n' "$*" >>"$SHIM_DIR/mpd-calls"
`;
/** The real MPD, its output kept off run.sh's stderr pipe (which would outlive run.sh). */
const REAL_MPD = `#!/bin/bash
exec /usr/bin/mpd "$@" >>"$SHIM_DIR/mpd.log" 2>&1 </dev/null
`;
/** What bashio::services mqtt answers with Mosquitto's add-on (strings, as bashio prints them). */
const SERVICE = { host: 'core-mosquitto', port: 1883, ssl: false, username: 'addons', password: 'svc-pass' };

const options = (changes: Record<string, unknown> = {}) => ({
  ...(YAML.parse(readFileSync(join(ADDON, 'config.yaml'), 'utf8')) as { options: object }).options,
  ...changes,
});
const player = (id: string, mpd: Record<string, unknown>) => ({
  id,
  name: id.toUpperCase(),
  device_type: 'speaker',
  mpd,
  volume: { min: 0, max: 100 },
});

let dir: string;
const started: number[] = [];
beforeAll(() => {
  if (!existsSync('/usr/bin/jq'))
    throw new Error('jq is missing; install it with: apt-get update && apt-get install -y jq');
});
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Runs run.sh; returns its stderr (the bashio log) once the captured "bridge" has exited. */
async function runScript(opts: object, service: object | null, realMpd = false): Promise<string> {
  dir = mkdtempSync(join(tmpdir(), 'qcb-run-sh-'));
  const file = (name: string, text: string, mode = 0o644) => {
    writeFileSync(join(dir, name), text);
    chmodSync(join(dir, name), mode);
    return join(dir, name);
  };
  file('options.json', JSON.stringify(opts));
  file('service.json', service ? JSON.stringify(service) : '');
  const result = await run('bash', [join(ADDON, 'run.sh')], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      SHIM_DIR: dir,
      SHIM_SERVICE_FILE: join(dir, 'service.json'),
      QCB_BASHIO_LIB: file('bashio-shim.sh', BASHIO_SHIM),
      QCB_OPTIONS_FILE: join(dir, 'options.json'),
      QCB_CONFIG_OUT: join(dir, 'out', 'bridge.json'),
      QCB_SHARE_DIR: ADDON,
      QCB_MPD_DATA_DIR: join(dir, 'mpd'),
      QCB_MPD_BIN: file('fake-mpd', realMpd ? REAL_MPD : FAKE_MPD, 0o755),
      QCB_BRIDGE_CMD: file('capture-bridge', CAPTURE, 0o755),
    },
    timeout: 10_000,
  });
  return result.stderr;
}

const captured = () =>
  JSON.parse(readFileSync(join(dir, 'bridge-config.json'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;

/** Lines of the fake MPD's call log, once `count` calls arrived (it runs in the background). */
async function mpdCalls(count: number): Promise<string[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const path = join(dir, 'mpd-calls');
    const lines = existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n') : [];
    if (lines.length >= count || Date.now() > deadline) return lines;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The MPD greeting on 127.0.0.1:port, then the answer to `password`, as one text. */
async function mpdAnswers(port: number, password: string): Promise<string> {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      return await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        let text = '';
        socket.on('data', (d) => {
          text += d.toString();
          if (text.startsWith('OK MPD') && text.split('\n').length === 2)
            socket.write(`password "${password.replace(/["\\]/g, '\\$&')}"\n`);
          if (text.split('\n').length >= 3) socket.end(() => resolve(text));
        });
        socket.on('error', reject);
      });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('add-on run.sh', () => {
  it('turns options and the MQTT service answer into a config the bridge accepts, and execs the bridge with it', async () => {
    const log = await runScript(options({ log_level: 'debug' }), SERVICE);
    const out = join(dir, 'out', 'bridge.json');
    expect(readFileSync(join(dir, 'bridge-args'), 'utf8')).toBe(`--config\n${out}\n`);
    expect(readFileSync(join(dir, 'bridge-log-level'), 'utf8')).toBe('debug');
    expect(statSync(out).mode & 0o077).toBe(0); // it holds secrets
    const config = loadConfig({ file: out, env: {} });
    expect(config.mqtt).toMatchObject({
      url: 'mqtt://core-mosquitto:1883',
      username: 'addons',
      password: 'svc-pass',
    });
    expect(config.players.map((p) => [p.id, p.mpd.host, p.mpd.port])).toEqual([
      ['living_room', '127.0.0.1', 6600],
    ]);
    expect(log).toContain('using the Home Assistant MQTT service at core-mosquitto:1883');
    expect(log).not.toContain('svc-pass');
  });

  it('prefers mqtt.url from the options over the MQTT service, with the user name given there', async () => {
    const mqtt = {
      url: 'mqtts://broker.lan:8883',
      username: 'me',
      base_topic: 'qc',
      discovery: false,
      discovery_prefix: 'ha',
    };
    await runScript(options({ mqtt }), SERVICE);
    expect(captured().mqtt).toEqual({
      url: 'mqtts://broker.lan:8883',
      username: 'me',
      base_topic: 'qc',
      discovery: false,
      discovery_prefix: 'ha',
    });
    expect(loadConfig({ file: join(dir, 'out', 'bridge.json'), env: {} }).mqtt.discovery).toBe(false);
  });

  it('leaves the url out, so that the bridge runs its embedded broker, when there is no MQTT service', async () => {
    const log = await runScript(options(), null);
    expect(captured().mqtt).not.toHaveProperty('url');
    expect(loadConfig({ file: join(dir, 'out', 'bridge.json'), env: {} }).mqtt.url).toBeNull();
    expect(log).toContain('embedded broker');
  });

  it('starts one bundled MPD per distinct local port and none for a remote MPD', async () => {
    const players = [
      player('a', { host: '127.0.0.1', port: 6600 }),
      player('b', { port: 6601 }),
      player('c', { host: 'localhost', port: 6600 }),
      player('d', { host: 'kitchen.lan', port: 6600 }),
    ];
    await runScript(options({ players, mpd_output: 'alsa' }), SERVICE);
    const calls = await mpdCalls(2);
    const conf = (port: number) => join(dir, 'mpd', String(port), 'mpd.conf');
    expect(calls.sort()).toEqual([
      `--no-daemon --stderr ${conf(6600)}`,
      `--no-daemon --stderr ${conf(6601)}`,
    ]);
    const text = readFileSync(conf(6601), 'utf8');
    expect(text).toContain('port              "6601"');
    expect(text).toContain(`state_file        "${join(dir, 'mpd', '6601')}/state"`);
    expect(text).toMatch(/type\s+"alsa"/);
    expect(text).not.toMatch(/type\s+"(pulse|null)"|@[A-Z]+@|#@/);
    expect(loadConfig({ file: join(dir, 'out', 'bridge.json'), env: {} }).players).toHaveLength(4);
  });

  it('renders an mpd.conf on which a real MPD starts and takes the player password, quotes and all', async () => {
    const port = await freePort();
    const password = 'p"w&x\\y';
    await runScript(
      options({ players: [player('a', { host: '127.0.0.1', port, password })], mpd_output: 'silent' }),
      SERVICE,
      true,
    );
    started.push(Number(readFileSync(join(dir, 'mpd', String(port), 'mpd.pid'), 'utf8')));
    expect(await mpdAnswers(port, password)).toMatch(/^OK MPD [\d.]+\nOK\n$/);
    expect(readFileSync(join(dir, 'mpd', String(port), 'mpd.conf'), 'utf8')).toMatch(/type\s+"null"/);
  });

  it('renders a default (pulse) mpd.conf on which a real MPD starts without a sound server', async () => {
    const port = await freePort();
    await runScript(options({ players: [player('a', { port })] }), SERVICE, true);
    started.push(Number(readFileSync(join(dir, 'mpd', String(port), 'mpd.pid'), 'utf8')));
    expect(await mpdAnswers(port, 'unused')).toMatch(/^OK MPD [\d.]+\n/);
    expect(readFileSync(join(dir, 'mpd', String(port), 'mpd.conf'), 'utf8')).toMatch(/type\s+"pulse"/);
  });
});
