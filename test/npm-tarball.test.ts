import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/free-port.js';
import { connectProbe } from './support/mosquitto-server.js';

/**
 * Issue #25 / README.md "Quick start": the npm package installs and runs anywhere. The test
 * packs the tarball (`npm pack`, whose prepack builds dist/), installs it into an empty
 * directory as a user would, and runs the installed command: `--version`, `check-config` on
 * the example config it ships, and a start on the embedded broker with free loopback ports,
 * stopped by SIGTERM.
 *
 * Dependencies come from npm's cache (`--offline`), which `npm ci` filled; only when a
 * package is missing there does npm fall back to the registry (`--prefer-offline`).
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };

/** The environment minus what `npm test` adds (npm_*), so the nested npm behaves as a user's. */
const env: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') || k === 'npm_config_cache'),
);

let dir: string;
let app: string;
let bin: string;
let packed: { filename: string; files: { path: string }[] };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qcb-tarball-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], {
    cwd: ROOT,
    env,
    maxBuffer: 16 * 1024 * 1024,
  });
  // npm prints prepack's output before the JSON array, which starts on a line of its own.
  packed = (JSON.parse(stdout.slice(Math.max(0, stdout.search(/^\[$/m)))) as (typeof packed)[])[0]!;
  app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'tarball-check', private: true }));
  const install = (mode: string) =>
    run('npm', ['install', mode, '--no-audit', '--no-fund', join(dir, packed.filename)], { cwd: app, env });
  await install('--offline').catch(() => install('--prefer-offline'));
  bin = join(app, 'node_modules', '.bin', pkg.name);
}, 240_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the npm tarball (issue #25)', () => {
  it('holds the compiled bridge, the generated decoder, the schema and the example, and no tests or sources', () => {
    const files = packed.files.map((f) => f.path);
    for (const file of [
      'dist/src/main.js',
      'config.schema.json',
      'config.example.yaml',
      'README.md',
      'LICENSE',
    ])
      expect(files, file).toContain(file);
    expect(files.some((f) => f.startsWith('dist/src/protocol/generated/') && f.endsWith('.js'))).toBe(true);
    expect(
      files.filter((f) => f.startsWith('test/') || f.startsWith('dist/test/') || f.startsWith('src/')),
    ).toEqual([]);
  });

  it('prints its version once installed into an empty directory', async () => {
    const { stdout } = await run(bin, ['--version'], { cwd: app, env });
    expect(stdout.trim()).toBe(pkg.version);
  });

  it('checks the example config it ships', async () => {
    const example = join(app, 'node_modules', pkg.name, 'config.example.yaml');
    const { stdout } = await run(bin, ['check-config', example], { cwd: app, env });
    expect(stdout).toMatch(/valid; players: living_room .*kitchen/);
    expect(stdout).toContain('embedded broker');
  });

  it('starts on the example config with the embedded broker on free loopback ports, and exits 0 on SIGTERM', async () => {
    copyFileSync(join(app, 'node_modules', pkg.name, 'config.example.yaml'), join(app, 'config.yaml'));
    const [mqttPort, mpdPort] = [await freePort(), await freePort()];
    const child = spawn(bin, ['--config', 'config.yaml'], {
      cwd: app,
      env: {
        ...env,
        LOG_FORMAT: 'json',
        QCB_HTTP__PORT: '0',
        QCB_HTTP__BIND: '127.0.0.1',
        QCB_HTTP__ADVERTISE_ADDRESS: '127.0.0.1',
        QCB_MDNS__INTERFACES__0: 'lo',
        QCB_MQTT__EMBEDDED_PORT: String(mqttPort),
        // Nothing listens there: the players keep retrying, as without a running MPD.
        QCB_PLAYERS__0__MPD__PORT: String(mpdPort),
        QCB_PLAYERS__1__MPD__PORT: String(mpdPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    const running = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('"msg":"bridge running"')) resolve();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      void exited.then(({ code }) => reject(new Error(`exited early (${code}):\n${log}`)));
    });
    try {
      await running;
      // aedes speaks MQTT 3.1.1.
      const probe = await connectProbe(`mqtt://127.0.0.1:${mqttPort}`, { protocolVersion: 4 });
      try {
        await probe.subscribe('qobuz-connect/bridge/state');
        const state = await probe.waitFor((m) => m.topic === 'qobuz-connect/bridge/state', {
          timeoutMs: 20_000,
        });
        expect(JSON.parse(state.payload)).toEqual({ state: 'online' });
      } finally {
        await probe.end();
      }
      child.kill('SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
      expect(log).toContain('"msg":"shutting down"');
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
