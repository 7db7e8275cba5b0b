import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/support/free-port.js';
import { startMpd, type MpdServer } from '../test/support/mpd-server.js';
import { argValue, hostNote } from './support-stats.js';

/**
 * bench/idle-memory (issue #25): RSS after a full GC of the bridge at idle, started the way the
 * README starts it (`npm run build`, then `node dist/src/main.js --config FILE`, embedded MQTT
 * broker, pretty logs on stderr), with 1 and with 50 players, each on an MPD of its own and
 * nobody playing; beside bare Node (an empty timer loop) measured at the same time. The three
 * processes get the same two flags, `--expose-gc --import bench/support-gc-probe.mjs`, which
 * collect and report on SIGUSR2 and allocate nothing before. Each is measured after `--settle S`
 * seconds (default 40) from its start: V8 gives back the young generation it grew while
 * loading only once its memory reducer ran, about 30 s into an idle process.
 * Goals: 1 player <= 1.6x bare Node, 50 players <= 100 MB. docs/architecture.md "Memory at
 * idle" says what holds the rest.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROBE = fileURLToPath(new URL('./support-gc-probe.mjs', import.meta.url));
const MB = 1024 * 1024;

interface Sample {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly malloced: number;
  /** VmHWM: the highest RSS the process had. */
  readonly peakRss: number;
  /** RssFile: mapped files (node's own code, mostly), the rest of RSS being anonymous memory. */
  readonly fileRss: number;
}

/** A child started with the GC probe; `ready` resolves when `readyText` appears on its output. */
class Probed {
  readonly #child: ChildProcess;
  #out = '';
  readonly ready: Promise<void>;
  readonly startedAt = Date.now();

  constructor(args: string[], readyText: string | null) {
    this.#child = spawn(process.execPath, ['--expose-gc', '--import', PROBE, ...args], {
      cwd: ROOT,
      // The README's start: human-readable logs at info, no LOG_* set.
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LOG_'))),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (d: Buffer) => {
      this.#out = (this.#out + d.toString()).slice(-200_000);
    };
    this.#child.stdout?.on('data', onData);
    this.#child.stderr?.on('data', onData);
    this.ready = new Promise((resolve, reject) => {
      if (readyText === null) return resolve();
      const timer = setInterval(() => {
        if (this.#out.includes(readyText)) {
          clearInterval(timer);
          resolve();
        } else if (this.#child.exitCode !== null || Date.now() - this.startedAt > 120_000) {
          clearInterval(timer);
          reject(new Error(`not ready (${readyText}):\n${this.#out.slice(-3000)}`));
        }
      }, 50);
    });
  }

  async sample(): Promise<Sample> {
    const from = this.#out.length;
    this.#child.kill('SIGUSR2');
    const deadline = Date.now() + 20_000;
    for (;;) {
      const m = /QCB_MEM (\{[^\n]*\})\n/.exec(this.#out.slice(Math.max(0, from - 10)));
      if (m) {
        const status = readFileSync(`/proc/${this.#child.pid}/status`, 'utf8');
        const kb = (field: string) =>
          Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN) * 1024;
        return {
          ...(JSON.parse(m[1]!) as Omit<Sample, 'peakRss' | 'fileRss'>),
          peakRss: kb('VmHWM'),
          fileRss: kb('RssFile'),
        };
      }
      if (Date.now() > deadline) throw new Error(`no QCB_MEM line:\n${this.#out.slice(-2000)}`);
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

async function bridgeConfig(dir: string, name: string, mpds: readonly MpdServer[]): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(
    file,
    [
      'http: { port: 0, bind: 127.0.0.1, advertise_address: 127.0.0.1 }',
      'mdns: { interfaces: [lo] }',
      `mqtt: { embedded_port: ${await freePort()} }`,
      'players:',
      ...mpds.map(
        (m, i) => `  - { id: p${i}, name: Idle ${name} ${i}, mpd: { host: 127.0.0.1, port: ${m.port} } }`,
      ),
      '',
    ].join('\n'),
  );
  return file;
}

const fmt = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;

export async function benchIdleMemory(): Promise<void> {
  const many = Number(argValue('players') ?? 50);
  const settleS = Number(argValue('settle') ?? 40);
  console.log(
    `bench/idle-memory — RSS after GC at idle, ${settleS} s after start: bare Node, the bridge with 1 and ${many} players (embedded broker, an MPD each)`,
  );
  console.log(`  ${hostNote()}`);
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');

  const dir = await mkdtemp(join(tmpdir(), 'qcb-idle-'));
  const mpds: MpdServer[] = [];
  const procs: Probed[] = [];
  try {
    for (let i = 0; i < many; i += 10)
      mpds.push(...(await Promise.all(Array.from({ length: Math.min(10, many - i) }, () => startMpd()))));
    const oneFile = await bridgeConfig(dir, 'one', mpds.slice(0, 1));
    const manyFile = await bridgeConfig(dir, 'many', mpds);
    const bare = new Probed(['-e', 'setInterval(() => {}, 1 << 30)'], null);
    const one = new Probed(['dist/src/main.js', '--config', oneFile], 'bridge running');
    const fifty = new Probed(['dist/src/main.js', '--config', manyFile], 'bridge running');
    procs.push(bare, one, fifty);
    await Promise.all(procs.map((p) => p.ready));
    const at = async (p: Probed) => {
      await sleep(Math.max(0, p.startedAt + settleS * 1000 - Date.now()));
      return p.sample();
    };
    const [b, o, f] = await Promise.all([at(bare), at(one), at(fifty)]);
    const row = (label: string, s: Sample) =>
      console.log(
        `  ${label.padEnd(28)} RSS ${fmt(s.rss).padStart(9)}   heap used ${fmt(s.heapUsed).padStart(8)} of ${fmt(s.heapTotal).padStart(8)}   external ${fmt(s.external).padStart(7)}   files ${fmt(s.fileRss).padStart(8)}   peak RSS ${fmt(s.peakRss).padStart(9)}`,
      );
    row('bare Node', b);
    row('bridge, 1 player', o);
    row(`bridge, ${many} players`, f);
    const r1 = o.rss / b.rss;
    console.log(
      `  1 player: ${r1.toFixed(2)}x bare Node (goal <= 1.6x: ${r1 <= 1.6 ? 'met' : 'NOT met'}); ` +
        `${many} players: ${fmt(f.rss)} (goal <= 100 MB: ${f.rss <= 100 * MB ? 'met' : 'NOT met'}); ` +
        `per extra player ${fmt((f.rss - o.rss) / Math.max(1, many - 1))}`,
    );
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await Promise.all(mpds.map((m) => m.stop()));
    await rm(dir, { recursive: true, force: true });
  }
}
