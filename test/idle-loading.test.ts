import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/free-port.js';
import { startMosquitto, type MosquittoServer } from './support/mosquitto-server.js';

/**
 * Issue #25 / docs/architecture.md "Memory at idle": what a configuration does not use is not
 * loaded. The bridge runs as its own process (as `npm start` runs it) with a probe that names
 * the CommonJS packages it loaded: on an external broker with JSON logs neither the embedded
 * broker (aedes and its mqemitter, aedes-persistence) nor pino-pretty is loaded; with the
 * defaults both are. In neither does mqtt-packet build its cache of 65536 number buffers.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROBE = fileURLToPath(new URL('./support/loaded-modules-probe.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'qcb-idle-loading-'));
let mosquitto: MosquittoServer;

beforeAll(async () => {
  mosquitto = await startMosquitto();
});
afterAll(async () => {
  await mosquitto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Loaded {
  readonly packages: string[];
  readonly mqttPacketCached: number | null;
}

/** Starts the bridge on `mqtt` (a config line), waits until it runs, asks the probe, stops it. */
async function loadedAtIdle(name: string, mqtt: string, env: Record<string, string>): Promise<Loaded> {
  const config = join(dir, `${name}.yaml`);
  writeFileSync(
    config,
    [
      'http: { port: 0, bind: 127.0.0.1, advertise_address: 127.0.0.1 }',
      'mdns: { interfaces: [lo] }',
      mqtt,
      'players:',
      `  - { id: idle, name: Idle ${name}, mpd: { host: 127.0.0.1, port: ${await freePort()} } }`,
    ].join('\n'),
  );
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('QCB_') && !k.startsWith('LOG_')),
  );
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--import', PROBE, 'src/main.ts', '--config', config],
    {
      cwd: ROOT,
      env: { ...clean, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const seen = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(out);
        if (m) resolve(m);
      };
      child.stdout.on('data', check);
      child.stderr.on('data', check);
      void exited.then((code) => reject(new Error(`exited (${code}) before ${String(pattern)}:\n${out}`)));
      check();
    });
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await seen(/bridge running/);
    child.kill('SIGUSR2');
    const m = await seen(/QCB_LOADED (\{[^\n]*\})\n/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    return JSON.parse(m[1]!) as Loaded;
  } finally {
    child.kill('SIGKILL');
  }
}

const AEDES = ['mqemitter', 'aedes-persistence'];

describe('loading at idle (issue #25)', () => {
  it('loads neither the embedded broker nor pino-pretty on an external broker with JSON logs, and the defaults load both; mqtt-packet caches no numbers in either', async () => {
    const [external, defaults] = await Promise.all([
      loadedAtIdle('external', `mqtt: { url: "${mosquitto.url}" }`, { LOG_FORMAT: 'json' }),
      loadedAtIdle('defaults', `mqtt: { embedded_port: ${await freePort()} }`, {}),
    ]);
    // Loaded in both: the probe sees what was loaded.
    for (const loaded of [external, defaults])
      expect(loaded.packages).toEqual(expect.arrayContaining(['mqtt', 'pino']));
    for (const name of [...AEDES, 'pino-pretty']) expect(external.packages, name).not.toContain(name);
    for (const name of [...AEDES, 'pino-pretty']) expect(defaults.packages, name).toContain(name);
    expect(external.mqttPacketCached).toBe(0);
    expect(defaults.mqttPacketCached).toBe(0);
  }, 120_000);
});
