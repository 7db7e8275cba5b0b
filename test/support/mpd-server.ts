import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

/**
 * A real MPD (`/usr/bin/mpd`, Debian package) for tests, on a free 127.0.0.1 port with
 * a temp dir, a `null` output (real-time pacing) and a software mixer (docs/protocol.md
 * §9.3). `mpd --no-daemon` is not killed with its parent, so every instance is
 * stopped by pid, and a process-exit hook SIGKILLs whatever a failed test left behind.
 *
 * Usage: `const mpd = await startMpd(); … await mpd.stop();`
 */

export interface MpdServer {
  readonly host: string;
  readonly port: number;
  /** Pid of the running MPD (changes on restart). */
  readonly pid: number;
  /** The temp dir holding music/, playlists/, db, state and mpd.conf. */
  readonly dir: string;
  /** SIGTERM, then SIGKILL after 3 s; removes the temp dir when we created it. */
  stop(): Promise<void>;
  /** SIGKILL now (crash tests); `restart()` brings it back. */
  kill(): Promise<void>;
  /** Starts MPD again on the same port with the same state file (stops it first if running). */
  restart(): Promise<void>;
  /** One raw protocol round trip on its own connection: the reply without the final `OK`; rejects on `ACK`. */
  command(cmd: string): Promise<string>;
  /** `status` as a key -> value record (for assertions). */
  status(): Promise<Record<string, string>>;
  /** `playlistinfo` (or `currentsong`) as one record of tag -> values per song, in MPD's order. */
  songs(command?: 'playlistinfo' | 'currentsong'): Promise<Array<Record<string, string[]>>>;
  /** Polls `status` every 20 ms until `predicate` holds; rejects with the last status after `timeoutMs` (default 10 000). */
  waitForStatus(predicate: (status: Record<string, string>) => boolean, timeoutMs?: number): Promise<Record<string, string>>;
}

export interface StartMpdOptions {
  /** Use this dir instead of a fresh temp dir (it is then not removed on stop). */
  readonly dir?: string;
  /** Require this password for everything (`default_permissions` none); `command()` sends it. */
  readonly password?: string;
  /** The null output's `format` (issue #23: an output that resamples, e.g. `44100:16:2`). */
  readonly outputFormat?: string;
  /** Replaces the null output: whole `audio_output { … }` blocks (a fifo for Snapcast, issue #23). */
  readonly audioOutputs?: string;
}

const MPD_BIN = '/usr/bin/mpd';
const HOST = '127.0.0.1';
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) if (child.pid !== undefined) safeKill(child.pid, 'SIGKILL');
  });
}

function safeKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function config(dir: string, port: number, password: string | undefined, o: StartMpdOptions): string {
  return [
    ...(password ? [`password "${password}@read,add,control,admin"`, 'default_permissions ""'] : []),
    `music_directory "${join(dir, 'music')}"`,
    `playlist_directory "${join(dir, 'playlists')}"`,
    `db_file "${join(dir, 'db')}"`,
    `state_file "${join(dir, 'state')}"`,
    `bind_to_address "${HOST}"`,
    `port "${port}"`,
    'zeroconf_enabled "no"',
    'auto_update "no"',
    'log_level "default"',
    ...(o.audioOutputs !== undefined
      ? [o.audioOutputs]
      : [
          'audio_output {',
          '  type "null"',
          '  name "null"',
          '  mixer_type "software"',
          ...(o.outputFormat ? [`  format "${o.outputFormat}"`] : []),
          '}',
        ]),
    '',
  ].join('\n');
}

export async function startMpd(options: StartMpdOptions = {}): Promise<MpdServer> {
  installExitHook();
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'qcb-mpd-')));
  await mkdir(join(dir, 'music'), { recursive: true });
  await mkdir(join(dir, 'playlists'), { recursive: true });
  const port = await freePort();
  const confPath = join(dir, 'mpd.conf');
  await writeFile(confPath, config(dir, port, options.password, options));

  let child: ChildProcess | undefined;
  let stderr = '';

  const launch = async (): Promise<void> => {
    stderr = '';
    const proc = spawn(MPD_BIN, ['--no-daemon', '--stderr', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(proc);
    proc.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    proc.once('exit', () => live.delete(proc));
    child = proc;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`mpd exited during start: ${stderr}`);
      if (await greets(port)) return;
      if (Date.now() > deadline) throw new Error(`mpd did not greet on ${HOST}:${port}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc?.pid || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    safeKill(proc.pid, signal);
    if (signal === 'SIGTERM') {
      const timer = setTimeout(() => proc.pid !== undefined && safeKill(proc.pid, 'SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    } else {
      await exited;
    }
  };

  await launch();

  return {
    host: HOST,
    port,
    dir,
    get pid() {
      return child?.pid ?? -1;
    },
    async stop() {
      await terminate('SIGTERM');
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
    kill: () => terminate('SIGKILL'),
    async restart() {
      await terminate('SIGTERM');
      await launch();
    },
    command: (cmd) => rawCommand(port, cmd, options.password),
    async songs(cmd = 'playlistinfo') {
      const out: Array<Record<string, string[]>> = [];
      for (const line of (await rawCommand(port, cmd, options.password)).split('\n')) {
        const i = line.indexOf(': ');
        if (i <= 0) continue;
        const [key, value] = [line.slice(0, i), line.slice(i + 2)];
        if (key === 'file') out.push({});
        const song = out.at(-1);
        if (song) (song[key] ??= []).push(value);
      }
      return out;
    },
    status,
    async waitForStatus(predicate, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const st = await status();
        if (predicate(st)) return st;
        if (Date.now() > deadline) throw new Error(`mpd status never matched within ${timeoutMs} ms; last: ${JSON.stringify(st)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };

  async function status(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const line of (await rawCommand(port, 'status', options.password)).split('\n')) {
      const i = line.indexOf(': ');
      if (i > 0) out[line.slice(0, i)] = line.slice(i + 2);
    }
    return out;
  }
}

/** True when something on `port` answers with MPD's `OK MPD` greeting. */
function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setEncoding('utf8');
    socket.setTimeout(1000, () => done(false));
    socket.once('data', (d: string) => done(d.startsWith('OK MPD ')));
    socket.once('error', () => done(false));
  });
}

function rawCommand(port: number, cmd: string, password: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port });
    let buf = '';
    let greeted = false;
    socket.setEncoding('utf8');
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error(`mpd command timed out: ${cmd}`));
    });
    socket.once('error', reject);
    socket.on('data', (d: string) => {
      buf += d;
      if (!greeted) {
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        greeted = true;
        buf = buf.slice(nl + 1);
        // With a password, a command list answers once: the password's OK is not seen separately.
        socket.write(password ? `command_list_begin\npassword "${password}"\n${cmd}\ncommand_list_end\n` : `${cmd}\n`);
      }
      const ack = /^ACK .*$/m.exec(buf);
      if (ack) {
        socket.destroy();
        reject(new Error(`mpd: ${ack[0]}`));
      } else if (buf === 'OK\n' || buf.endsWith('\nOK\n')) {
        socket.destroy();
        resolve(buf.slice(0, -3).replace(/\n$/, ''));
      }
    });
  });
}
