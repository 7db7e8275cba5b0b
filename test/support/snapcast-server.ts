import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/**
 * A real Snapcast for tests (issue #23, README "Multi-room with Snapcast"): `snapserver` (Debian
 * package) reading a FIFO that MPD writes to (a pipe source), and one `snapclient` per room on
 * the `file` player, writing what it would play to a raw PCM file (no sound card). Everything on
 * free 127.0.0.1 ports; HTTP and mDNS off. Processes are stopped by pid, and SIGKILLed at exit if a
 * failed test left them.
 */

export interface SnapcastRig {
  readonly dir: string;
  /** The FIFO snapserver reads: MPD's fifo output writes here. */
  readonly fifo: string;
  readonly streamId: string;
  /** PCM format of the stream (MPD's fifo output must write this). */
  readonly sampleFormat: string;
  readonly controlPort: number;
  /** Each room's raw PCM output (s16le stereo at the sample format's rate). */
  readonly files: Readonly<Record<string, string>>;
  /** One JSON-RPC request on its own connection: the `result`; rejects on an `error`. */
  rpc(method: string, params?: Record<string, unknown>): Promise<unknown>;
  /** Each client's volume percent, from Server.GetStatus. */
  volumes(): Promise<Record<string, { percent: number; muted: boolean; connected: boolean }>>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const c of live) if (c.pid !== undefined) safeKill(c.pid, 'SIGKILL');
  });
}

function safeKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function launch(bin: string, args: string[], logs: string[]): ChildProcess {
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  child.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
  child.once('exit', () => live.delete(child));
  return child;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (!child.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  safeKill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => child.pid !== undefined && safeKill(child.pid, 'SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

export async function startSnapcast(options: { readonly rooms: readonly string[]; readonly streamId?: string }): Promise<SnapcastRig> {
  hook();
  const dir = await mkdtemp(join(tmpdir(), 'qcb-snapcast-'));
  const fifo = join(dir, 'snapfifo');
  const streamId = options.streamId ?? 'qobuz';
  const sampleFormat = '48000:16:2';
  const controlPort = await freePort();
  const streamPort = await freePort();
  const conf = join(dir, 'snapserver.conf');
  await writeFile(
    conf,
    [
      '[server]',
      `datadir = ${dir}`,
      '[http]',
      'enabled = false',
      '[tcp]',
      'bind_to_address = 127.0.0.1',
      `port = ${controlPort}`,
      '[stream]',
      'bind_to_address = 127.0.0.1',
      `port = ${streamPort}`,
      `source = pipe://${fifo}?name=${streamId}&sampleformat=${sampleFormat}&codec=pcm`,
      '[logging]',
      'sink = stderr',
      'filter = *:warning',
      '',
    ].join('\n'),
  );
  const logs: string[] = [];
  const children: ChildProcess[] = [launch('/usr/bin/snapserver', ['-c', conf], logs)];
  const rpc = (method: string, params?: Record<string, unknown>) => rpcOnce(controlPort, method, params);
  const stop = async () => {
    for (const c of children.reverse()) await terminate(c);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await until(async () => (await rpc('Server.GetStatus').then(() => true, () => false)), 10_000, () => `snapserver did not answer: ${logs.join('')}`);
    const files: Record<string, string> = {};
    for (const room of options.rooms) {
      files[room] = join(dir, `${room}.pcm`);
      children.push(
        launch(
          '/usr/bin/snapclient',
          ['-h', '127.0.0.1', '-p', String(streamPort), '--hostID', room, '--player', `file:filename=${files[room]}`, '--logsink', 'null'],
          logs,
        ),
      );
    }
    const rig: SnapcastRig = {
      dir,
      fifo,
      streamId,
      sampleFormat,
      controlPort,
      files,
      rpc,
      async volumes() {
        const status = (await rpc('Server.GetStatus')) as {
          server: { groups: Array<{ clients: Array<{ id: string; connected: boolean; config: { volume: { percent: number; muted: boolean } } }> }> };
        };
        const out: Record<string, { percent: number; muted: boolean; connected: boolean }> = {};
        for (const g of status.server.groups) for (const c of g.clients) out[c.id] = { ...c.config.volume, connected: c.connected };
        return out;
      },
      stop,
    };
    await until(
      async () => {
        const v = await rig.volumes();
        return options.rooms.every((r) => v[r]?.connected === true);
      },
      15_000,
      () => `snapclients did not connect: ${logs.join('')}`,
    );
    return rig;
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Polls `check` every 50 ms until it holds; rejects with `why()` after `timeoutMs`. */
export async function until(check: () => Promise<boolean>, timeoutMs: number, why: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(why());
    await new Promise((r) => setTimeout(r, 50));
  }
}

function rpcOnce(port: number, method: string, params?: Record<string, unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let buf = '';
    socket.setEncoding('utf8');
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error(`snapserver: no answer to ${method}`));
    });
    socket.on('error', reject);
    socket.on('connect', () => socket.write(`${JSON.stringify({ id: 1, jsonrpc: '2.0', method, ...(params ? { params } : {}) })}\r\n`));
    socket.on('data', (d: string) => {
      buf += d;
      for (const line of buf.split('\n').slice(0, -1)) {
        const msg = JSON.parse(line) as { id?: number; result?: unknown; error?: unknown };
        if (msg.id !== 1) continue; // a notification
        socket.end();
        if (msg.error !== undefined) reject(new Error(`snapserver: ${JSON.stringify(msg.error)}`));
        else resolve(msg.result);
        return;
      }
      buf = buf.slice(buf.lastIndexOf('\n') + 1);
    });
  });
}

/**
 * Waits until `file` holds, after byte `from`, one second of sound (a run of non-silent s16le
 * stereo frames at `rate`); returns the tone's frequency measured on its left channel (rising zero
 * crossings per second), so a test can tell which track a room played.
 */
export async function waitForTone(file: string, from: number, rate: number, timeoutMs: number): Promise<{ hz: number; at: number }> {
  const frameBytes = 4;
  const need = rate * frameBytes;
  let found: { hz: number; at: number } | null = null;
  await until(
    async () => {
      const size = (await stat(file).catch(() => ({ size: 0 }))).size;
      if (size - from < need) return false;
      const fh = await open(file, 'r');
      try {
        // Only the newest 3 s: the file grows by the sample rate whether or not there is sound.
        const start = Math.max(from, size - 3 * need);
        const len = Math.floor((size - start) / frameBytes) * frameBytes;
        const buf = Buffer.alloc(len);
        await fh.read(buf, 0, len, start);
        found = toneIn(buf, rate, start);
        return found !== null;
      } finally {
        await fh.close();
      }
    },
    timeoutMs,
    () => `no sound in ${file} after byte ${from}`,
  );
  return found as unknown as { hz: number; at: number };
}

/** The first second in `buf` whose every 10 ms holds sound; its frequency by rising zero crossings. */
function toneIn(buf: Buffer, rate: number, offset: number): { hz: number; at: number } | null {
  const frames = buf.length / 4;
  const left = (i: number) => buf.readInt16LE(i * 4);
  const slice = rate / 100;
  let runStart = 0;
  for (let s = 0; s + slice <= frames; s += slice) {
    let peak = 0;
    for (let i = s; i < s + slice; i++) peak = Math.max(peak, Math.abs(left(i)));
    if (peak < 200) {
      runStart = s + slice;
      continue;
    }
    if (s + slice - runStart >= rate) {
      let rising = 0;
      for (let i = runStart + 1; i < runStart + rate; i++) if (left(i - 1) < 0 && left(i) >= 0) rising++;
      return { hz: rising, at: offset + runStart * 4 };
    }
  }
  return null;
}
