import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import YAML from 'yaml';
import { loadConfig } from '../src/config/load-config.js';
import { freePort } from './support/free-port.js';

/**
 * Issues #7, #13 and #17: the add-on's real s6 service scripts (addon/rootfs/etc/s6-overlay)
 * run with bash under a real s6-svscan in a temp dir, as s6-overlay runs them in the image.
 * A shim stands in for bashio (the options and the MQTT service answer from files), a `jq`
 * wrapper records every command line jq gets, QCB_BRIDGE_CMD replaces the bridge with a
 * script that captures its config, QCB_MPD_BIN a fake MPD or the real /usr/bin/mpd, and
 * QCB_HALT_CMD s6-overlay's halt (here: stop this s6-svscan, as the container would stop).
 */

const run = promisify(execFile);
const ADDON = fileURLToPath(new URL('../addon/', import.meta.url));
const S6 = join(ADDON, 'rootfs/etc/s6-overlay');
const SCRIPTS = join(S6, 'scripts');
const DEADLINE_MS = 20_000;
// Each step waits up to DEADLINE_MS for an event; a test is a few such steps (2-7 s on a
// loaded 2-core machine), so its own limit stays well above one deadline.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

/** bashio's strict mode, and the few functions the scripts use, answered from files. */
const BASHIO_SHIM = `
set -o errexit -o errtrace -o nounset -o pipefail
bashio::config() { jq -r --arg k "$1" 'getpath($k | split(".")) | if . == null then "null" elif type == "string" then . else tojson end' "$QCB_OPTIONS_FILE"; }
bashio::config.has_value() { local v; v="$(bashio::config "$1")"; [[ "$v" != "null" && -n "$v" ]]; }
bashio::services.available() { [[ -s "$SHIM_SERVICE_FILE" ]]; }
bashio::services() { if [[ $# -lt 2 ]]; then cat "$SHIM_SERVICE_FILE"; else jq -r --arg k "$2" '.[$k] | if . == null then "null" else tostring end' "$SHIM_SERVICE_FILE"; fi; }
bashio::log.info() { echo "INFO $*" >&2; }
bashio::log.warning() { echo "WARN $*" >&2; }
bashio::log.error() { echo "ERROR $*" >&2; }
bashio::log.fatal() { echo "FATAL $*" >&2; }
`;
/** jq as the scripts see it: the real one, after writing down its arguments and environment. */
const JQ_WRAPPER = `#!/bin/bash
{ printf '%s\\n' "$*"; env; } >>"$SHIM_DIR/jq-calls"
exec /usr/bin/jq "$@"
`;
/** The bridge's stand-in: it runs as the unprivileged user (#26), so it writes to out/, open to it. */
const CAPTURE_BRIDGE = `#!/bin/bash
printf '%s\\n' "$@" >"$SHIM_DIR/out/bridge-args"
cp "$2" "$SHIM_DIR/out/bridge-config.json"
printf '%s' "$LOG_LEVEL" >"$SHIM_DIR/out/bridge-log-level"
id -un >"$SHIM_DIR/out/bridge-user"
exit "$(cat "$SHIM_DIR/bridge-exit-code" 2>/dev/null || echo 0)"
`;
/** Who the bridge runs as here: Debian's unprivileged user, as the image's qcb (#26). */
const BRIDGE_USER = 'nobody';
/** A fake MPD that stays up (s6 would restart one that exits) and says how it was started. */
const FAKE_MPD = `#!/bin/bash
printf '%s\\n' "$*" >>"$SHIM_DIR/mpd-calls"
exec sleep 600
`;
/** s6-overlay's halt stops the container: here, the s6-svscan of the test (and what it runs). */
const HALT = `#!/bin/bash
echo halted >>"$SHIM_DIR/halted"
exec s6-svscanctl -t "$QCB_SCANDIR"
`;
const SERVICE = { host: 'core-mosquitto', port: 1883, ssl: false, username: 'addons', password: 'svc-pass' };

const options = (changes: Record<string, unknown> = {}) => ({
  ...(YAML.parse(readFileSync(join(ADDON, 'config.yaml'), 'utf8')) as { options: object }).options,
  ...changes,
});

beforeAll(() => {
  for (const [bin, pkg] of [
    ['/usr/bin/jq', 'jq'],
    ['/usr/bin/mpd', 'mpd'],
    ['/usr/bin/s6-svscan', 's6'],
  ])
    if (!existsSync(bin!)) throw new Error(`${bin} is missing; install it with: apt-get install -y ${pkg}`);
});

/** One add-on "container": a temp dir, the stand-ins, and a running s6-svscan. */
interface Addon {
  dir: string;
  scandir: string;
  env: NodeJS.ProcessEnv;
  svscan: ChildProcess;
  svscanExited: Promise<void>;
  /** Everything the services wrote (s6-svscan's stdout and stderr). */
  serviceLog(): string;
}
let current: Addon | null = null;
const servers: (Server | HttpServer)[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) s.close();
  const addon = current;
  current = null;
  if (!addon) return;
  if (addon.svscan.exitCode === null && addon.svscan.signalCode === null) {
    await run('s6-svscanctl', ['-t', addon.scandir]).catch(() => undefined);
    const killer = setTimeout(() => addon.svscan.kill('SIGKILL'), DEADLINE_MS);
    await addon.svscanExited;
    clearTimeout(killer);
  }
  rmSync(addon.dir, { recursive: true, force: true });
});

async function startAddon(
  opts: object,
  service: object | null,
  mpd: 'fake' | 'real' = 'fake',
): Promise<Addon> {
  const dir = mkdtempSync(join(tmpdir(), 'qcb-addon-s6-'));
  // The bridge's user must reach its config (run/bridge.json) and the stand-in, as in the image.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'out'), { mode: 0o777 });
  chmodSync(join(dir, 'out'), 0o777);
  const file = (name: string, text: string, mode = 0o644) => {
    writeFileSync(join(dir, name), text);
    chmodSync(join(dir, name), mode);
    return join(dir, name);
  };
  mkdirSync(join(dir, 'bin'));
  file('bin/jq', JQ_WRAPPER, 0o755);
  file('options.json', JSON.stringify(opts));
  file('service.json', service ? JSON.stringify(service) : '');
  const scandir = join(dir, 'scandir');
  mkdirSync(scandir);
  const env: NodeJS.ProcessEnv = {
    PATH: `${join(dir, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    SHIM_DIR: dir,
    SHIM_SERVICE_FILE: join(dir, 'service.json'),
    QCB_BASHIO_LIB: file('bashio-shim.sh', BASHIO_SHIM),
    QCB_SCRIPTS_DIR: SCRIPTS,
    QCB_SHARE_DIR: join(ADDON, 'rootfs/usr/share/qobuz-connect-bridge'),
    QCB_RUN_DIR: join(dir, 'run'),
    QCB_OPTIONS_FILE: join(dir, 'options.json'),
    QCB_MPD_DATA_DIR: join(dir, 'data', 'mpd'),
    QCB_MPD_BIN: mpd === 'real' ? '/usr/bin/mpd' : file('fake-mpd', FAKE_MPD, 0o755),
    QCB_BRIDGE_CMD: file('capture-bridge', CAPTURE_BRIDGE, 0o755),
    QCB_BRIDGE_USER: BRIDGE_USER,
    QCB_SETUIDGID: 's6-setuidgid',
    QCB_SCANDIR: scandir,
    QCB_SERVICE_SHELL: 'bash',
    QCB_EXITCODE_FILE: join(dir, 'exitcode'),
    QCB_HALT_CMD: file('halt', HALT, 0o755),
  };
  const logFd = openSync(join(dir, 'services.log'), 'a');
  const svscan = spawn('s6-svscan', [scandir], { env, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const svscanExited = new Promise<void>((resolve) => svscan.once('exit', () => resolve()));
  current = {
    dir,
    scandir,
    env,
    svscan,
    svscanExited,
    serviceLog: () => readFileSync(join(dir, 'services.log'), 'utf8'),
  };
  return current;
}

/** Runs the oneshot init-qobuz-connect-bridge as s6-rc would; its exit code and log. */
async function init(addon: Addon): Promise<{ code: number; log: string }> {
  try {
    const { stderr } = await run('bash', [join(SCRIPTS, 'qcb-init.sh')], {
      env: addon.env,
      timeout: DEADLINE_MS,
    });
    return { code: 0, log: stderr };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: e.code ?? -1, log: e.stderr ?? '' };
  }
}

/** Waits (s6's own event, no polling) until the service is up. */
const waitUp = (addon: Addon, name: string) =>
  run('s6-svwait', ['-u', '-t', String(DEADLINE_MS), join(addon.scandir, name)]);
const servicePid = async (addon: Addon, name: string) =>
  Number((await run('s6-svstat', ['-p', join(addon.scandir, name)])).stdout.trim());
/** Polls until `check` gives a value (things with no event to wait for: a file line, a port). */
async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
/** The services linked into s6's scan directory (not s6-svscan's own dot-folder). */
const services = (addon: Addon) => readdirSync(addon.scandir).filter((n) => !n.startsWith('.'));
const lines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').trim().split('\n') : []);

/** The MPD greeting on 127.0.0.1:port, then the answer to `password`, as one text. */
function mpdAnswers(port: number, password = 'unused'): Promise<string> {
  return eventually(
    () =>
      new Promise<string | undefined>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        let text = '';
        socket.on('data', (d) => {
          text += d.toString();
          if (text.startsWith('OK MPD') && text.split('\n').length === 2)
            socket.write(`password "${password.replace(/["\\]/g, '\\$&')}"\n`);
          if (text.split('\n').length >= 3) socket.end(() => resolve(text));
        });
        socket.on('error', () => resolve(undefined));
      }),
    `MPD on port ${port}`,
  );
}

/** Something else answering on 127.0.0.1:port (another MPD, by default). */
async function occupy(port: number, greeting = 'OK MPD 0.23.5\n'): Promise<void> {
  const server = createServer((socket) => socket.end(greeting));
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

const player = (id: string, fields: Record<string, unknown> = {}) => ({
  id,
  name: id.toUpperCase(),
  ...fields,
});

describe('add-on init (s6-rc oneshot init-qobuz-connect-bridge)', () => {
  it('turns the options and the MQTT service into a config the bridge accepts, never putting a secret on a command line (#13)', async () => {
    const port = await freePort();
    const addon = await startAddon(
      options({
        players: [player('living_room', { mpd_port: port })],
        qobuz: { app_id: '1', app_secret: 'q-secret' },
      }),
      SERVICE,
    );
    const { code, log } = await init(addon);
    expect(code, log).toBe(0);
    const configFile = join(addon.dir, 'run', 'bridge.json');
    // It holds secrets: root's, readable by the bridge's group only (#26: the bridge is not root).
    const stat = statSync(configFile);
    expect(stat.mode & 0o777).toBe(0o640);
    expect(stat.uid).toBe(0);
    expect(stat.gid).toBe(Number((await run('id', ['-g', BRIDGE_USER])).stdout.trim()));
    expect(statSync(join(addon.dir, 'run')).mode & 0o777).toBe(0o750);
    const config = loadConfig({ file: configFile, env: {} });
    expect(config.mqtt).toMatchObject({
      url: 'mqtt://core-mosquitto:1883',
      username: 'addons',
      password: 'svc-pass',
    });
    expect(config.players.map((p) => [p.id, p.mpd.host, p.mpd.port])).toEqual([
      ['living_room', '127.0.0.1', port],
    ]);
    expect(log).toContain('using the Home Assistant MQTT service at core-mosquitto:1883');
    expect(log).not.toMatch(/refused|error/i); // the port check that found the port free is quiet
    // Neither jq's command lines nor its environment, nor the log, carry a secret.
    const jqCalls = readFileSync(join(addon.dir, 'jq-calls'), 'utf8');
    for (const secret of ['svc-pass', 'q-secret']) {
      expect(jqCalls).not.toContain(secret);
      expect(log).not.toContain(secret);
    }
  });

  it('leaves the url out, so that the bridge runs its embedded broker, when there is no MQTT service (mqtt:want)', async () => {
    const addon = await startAddon(options({ players: [player('a', { mpd_port: await freePort() })] }), null);
    const { code, log } = await init(addon);
    expect(code, log).toBe(0);
    expect(loadConfig({ file: join(addon.dir, 'run', 'bridge.json'), env: {} }).mqtt.url).toBeNull();
    expect(log).toContain('embedded broker');
  });

  it('links one s6 service per distinct local MPD port, and none for a remote MPD', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const players = [
      player('a', { mpd_host: '127.0.0.1', mpd_port: p1 }),
      player('b', { mpd_port: p2 }),
      player('c', { mpd_host: 'localhost', mpd_port: p1 }),
      player('d', { mpd_host: 'kitchen.lan', mpd_port: p1 }),
    ];
    const addon = await startAddon(options({ players, mpd_output: 'alsa' }), SERVICE);
    const { code, log } = await init(addon);
    expect(code, log).toBe(0);
    expect(services(addon).sort()).toEqual([`mpd-${p1}`, `mpd-${p2}`].sort());
    await Promise.all([waitUp(addon, `mpd-${p1}`), waitUp(addon, `mpd-${p2}`)]);
    const conf = (port: number) => join(addon.dir, 'data', 'mpd', String(port), 'mpd.conf');
    const calls = await eventually(() => {
      const l = lines(join(addon.dir, 'mpd-calls'));
      return l.length >= 2 ? l : undefined;
    }, 'two MPD starts');
    expect(calls.sort()).toEqual(
      [`--no-daemon --stderr ${conf(p1)}`, `--no-daemon --stderr ${conf(p2)}`].sort(),
    );
    const text = readFileSync(conf(p2), 'utf8');
    expect(text).toContain(`port              "${p2}"`);
    expect(text).toContain(`state_file        "${join(addon.dir, 'data', 'mpd', String(p2))}/state"`);
    expect(text).toMatch(/type\s+"alsa"/);
    expect(text).not.toMatch(/type\s+"(pulse|null)"|@[A-Z]+@|#@/);
    expect(loadConfig({ file: join(addon.dir, 'run', 'bridge.json'), env: {} }).players).toHaveLength(4);
  });

  it('renders an mpd.conf on which a real MPD starts and takes the player password, quotes and all', async () => {
    const port = await freePort();
    const password = 'p"w&x\\y';
    const addon = await startAddon(
      options({ players: [player('a', { mpd_port: port, mpd_password: password })], mpd_output: 'silent' }),
      SERVICE,
      'real',
    );
    expect((await init(addon)).code).toBe(0);
    await waitUp(addon, `mpd-${port}`);
    expect(await mpdAnswers(port, password)).toMatch(/^OK MPD [\d.]+\nOK\n$/);
    expect(readFileSync(join(addon.dir, 'data', 'mpd', String(port), 'mpd.conf'), 'utf8')).toMatch(
      /type\s+"null"/,
    );
  });

  it('stops the add-on at start, naming the port, the program and the fix, when an MPD port is taken on the host (#17)', async () => {
    const [taken, other, free] = [await freePort(), await freePort(), await freePort()];
    await occupy(taken);
    await occupy(other, 'HTTP/1.1 400 Bad Request\r\n');
    const players = [
      player('a', { mpd_port: taken }),
      player('b', { mpd_port: other }),
      player('c', { mpd_port: free }),
    ];
    const addon = await startAddon(options({ players }), SERVICE);
    const { code, log } = await init(addon);
    expect(code).toBe(1);
    expect(log).toContain(`MPD port ${taken} on this host is already in use by another MPD (MPD 0.23.5)`);
    expect(log).toContain(`MPD port ${other} on this host is already in use by another program`);
    expect(log).toMatch(/the bridge would drive that program instead\. Stop it, or give .* another mpd_port/);
    // Nothing starts: not even the MPD whose port is free.
    expect(services(addon)).toEqual([]);
  });
});

describe('bundled MPD services (generated s6 services mpd-<port>)', () => {
  it('restarts an MPD that dies, and says so in the add-on log (#17)', async () => {
    const port = await freePort();
    const addon = await startAddon(
      options({ players: [player('a', { mpd_port: port })], mpd_output: 'silent' }),
      SERVICE,
      'real',
    );
    expect((await init(addon)).code).toBe(0);
    const service = join(addon.scandir, `mpd-${port}`);
    await waitUp(addon, `mpd-${port}`);
    await mpdAnswers(port);
    const first = await servicePid(addon, `mpd-${port}`);
    // s6-svlisten1 subscribes before it runs the kill: the "down" event cannot be missed.
    await run('s6-svlisten1', ['-d', '-t', String(DEADLINE_MS), service, 'kill', '-KILL', String(first)]);
    await waitUp(addon, `mpd-${port}`);
    expect(await servicePid(addon, `mpd-${port}`)).not.toBe(first);
    expect(await mpdAnswers(port)).toMatch(/^OK MPD /);
    const log = addon.serviceLog();
    expect(log).toContain(`WARN bundled MPD on 127.0.0.1:${port} was killed by signal 9; s6 restarts it`);
    expect(log.match(new RegExp(`bundled MPD on 127\\.0\\.0\\.1:${port}: starting`, 'g'))).toHaveLength(2);
  });

  it('stops the add-on instead of starting its MPD again when another program took the port meanwhile', async () => {
    const port = await freePort();
    const addon = await startAddon(options({ players: [player('a', { mpd_port: port })] }), SERVICE);
    expect((await init(addon)).code).toBe(0);
    const service = join(addon.scandir, `mpd-${port}`);
    await waitUp(addon, `mpd-${port}`);
    // s6 calls a service up when its run script starts; the MPD itself runs once the checks passed.
    await eventually(() => (lines(join(addon.dir, 'mpd-calls')).length === 1 ? true : undefined), 'the MPD started');
    // -wD: down and its finish script done, so the finish saw the stop as requested, not as a crash.
    await run('s6-svc', ['-wD', '-T', String(DEADLINE_MS), '-d', service]);
    await occupy(port);
    await run('s6-svc', ['-u', service]);
    await addon.svscanExited; // the stand-in halt stops s6-svscan, as the container would stop
    expect(readFileSync(join(addon.dir, 'exitcode'), 'utf8').trim()).toBe('1');
    const log = addon.serviceLog();
    expect(log).toContain(`FATAL MPD port ${port} on this host is already in use by another MPD`);
    expect(log).toContain(`INFO bundled MPD on 127.0.0.1:${port} stopped`); // the requested stop, not a crash
    expect(lines(join(addon.dir, 'mpd-calls'))).toHaveLength(1);
  });
});

describe('the bridge service (s6-rc longrun qobuz-connect-bridge)', () => {
  /** The bridge's s6-rc service, linked into the test's s6-svscan through bash. */
  function linkBridge(addon: Addon): string {
    const dir = join(addon.dir, 'bridge-service');
    mkdirSync(dir);
    const src = join(S6, 's6-rc.d', 'qobuz-connect-bridge');
    writeFileSync(join(dir, 'run'), `#!/bin/sh\nexec bash ${src}/run\n`, { mode: 0o755 });
    writeFileSync(join(dir, 'finish'), `#!/bin/sh\nexec bash ${src}/finish "$@"\n`, { mode: 0o755 });
    return dir;
  }

  it('runs the bridge as the unprivileged user with the config and the log level, and stops the add-on with its exit code when it ends', async () => {
    const addon = await startAddon(
      options({ players: [player('a', { mpd_host: 'kitchen.lan' })], log_level: 'debug' }),
      SERVICE,
    );
    expect((await init(addon)).code).toBe(0);
    // The exit code the bridge gives on a bad config (every problem named in the log).
    writeFileSync(join(addon.dir, 'bridge-exit-code'), '2');
    await run('s6-svlink', [
      '-t',
      String(DEADLINE_MS),
      addon.scandir,
      linkBridge(addon),
      'qobuz-connect-bridge',
    ]);
    await addon.svscanExited;
    const configFile = join(addon.dir, 'run', 'bridge.json');
    expect(readFileSync(join(addon.dir, 'out', 'bridge-args'), 'utf8')).toBe(`--config\n${configFile}\n`);
    expect(readFileSync(join(addon.dir, 'out', 'bridge-log-level'), 'utf8')).toBe('debug');
    // #26: never root; and as that user it could read its config (the copy is byte for byte).
    expect(readFileSync(join(addon.dir, 'out', 'bridge-user'), 'utf8').trim()).toBe(BRIDGE_USER);
    expect(readFileSync(join(addon.dir, 'out', 'bridge-config.json'), 'utf8')).toBe(readFileSync(configFile, 'utf8'));
    expect(readFileSync(join(addon.dir, 'exitcode'), 'utf8').trim()).toBe('2');
    expect(addon.serviceLog()).toContain('ERROR qobuz-connect-bridge exited with code 2; the add-on stops');
  });
});

describe('the image HEALTHCHECK (qcb-healthcheck)', () => {
  async function serve(status: number, host = '127.0.0.1'): Promise<number> {
    const server = createHttpServer((req, res) => {
      res.statusCode = req.url === '/healthz' ? status : 404;
      res.end('{}');
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
    return (server.address() as { port: number }).port;
  }
  async function healthcheck(port: number, bind?: string): Promise<number> {
    const dir = mkdtempSync(join(tmpdir(), 'qcb-health-'));
    try {
      writeFileSync(join(dir, 'bridge.json'), JSON.stringify({ http: { port, ...(bind ? { bind } : {}) } }));
      await run('sh', [join(ADDON, 'rootfs/usr/local/bin/qcb-healthcheck')], {
        env: { PATH: process.env.PATH, QCB_CONFIG_FILE: join(dir, 'bridge.json') },
        timeout: DEADLINE_MS,
      });
      return 0;
    } catch (err) {
      return (err as { code?: number }).code ?? -1;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('passes when /healthz on the configured http.port answers 200, and fails otherwise', async () => {
    expect(await healthcheck(await serve(200))).toBe(0);
    expect(await healthcheck(await serve(503))).not.toBe(0);
    expect(await healthcheck(await freePort())).not.toBe(0);
  });

  it('asks the address the bridge listens on when http.bind names one (#26)', async () => {
    const port = await serve(200, '127.0.0.2');
    expect(await healthcheck(port, '127.0.0.2')).toBe(0);
    // Listening on every address: 127.0.0.1, where nothing answers on this port here.
    expect(await healthcheck(port, '0.0.0.0')).not.toBe(0);
    expect(await healthcheck(port)).not.toBe(0);
  });
});
