/**
 * A real Mosquitto (Debian package, /usr/sbin/mosquitto) for integration tests: one process per
 * call, bound to a free 127.0.0.1 port, temp config, persistence off, killed by pid in teardown
 * and by a process-exit safety net when a test run dies before its teardown. `connectProbe` is
 * the plain mqtt.js client the tests observe the wire with.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort } from './free-port.js';

const MOSQUITTO = '/usr/sbin/mosquitto';
const MOSQUITTO_PASSWD = '/usr/bin/mosquitto_passwd';

export interface MosquittoOptions {
  readonly username?: string;
  readonly password?: string;
  /** TLS listener (PEM file paths); with `requireCertificate` clients must show a cert signed by `caFile`. */
  readonly tls?: {
    readonly caFile: string;
    readonly certFile: string;
    readonly keyFile: string;
    readonly requireCertificate?: boolean;
  };
}

export interface MosquittoServer {
  readonly url: string;
  readonly port: number;
  /** Pid of the current process (changes after restart()). */
  readonly pid: number;
  /** SIGTERM and wait for exit; removes the temp dir. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit (a broker crash); keeps the config for restart(). */
  kill(): Promise<void>;
  /** Kill if running, then start again on the same port (retained messages are gone: no persistence). */
  restart(): Promise<void>;
}

const live = new Set<ChildProcess>();
let safetyNetInstalled = false;

function installSafetyNet(): void {
  if (safetyNetInstalled) return;
  safetyNetInstalled = true;
  process.on('exit', () => {
    for (const child of live)
      if (child.pid !== undefined)
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function waitListening(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}: ${stderr()}`);
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`mosquitto did not listen on ${port} within 15 s: ${stderr()}`);
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoServer> {
  installSafetyNet();
  const dir = mkdtempSync(join(tmpdir(), 'qcb-mosquitto-'));
  const port = await freePort();
  const lines = [
    `listener ${port} 127.0.0.1`,
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    `user ${userInfo().username}`,
  ];
  if (options.tls) {
    const t = options.tls;
    lines.push(
      `cafile ${t.caFile}`,
      `certfile ${t.certFile}`,
      `keyfile ${t.keyFile}`,
      `require_certificate ${t.requireCertificate ? 'true' : 'false'}`,
    );
  }
  if (options.username !== undefined) {
    if (!existsSync(MOSQUITTO_PASSWD))
      throw new Error(`${MOSQUITTO_PASSWD} is missing (Debian package mosquitto)`);
    const passwordFile = join(dir, 'passwd');
    execFileSync(MOSQUITTO_PASSWD, ['-b', '-c', passwordFile, options.username, options.password ?? '']);
    lines.push('allow_anonymous false', `password_file ${passwordFile}`);
  } else {
    lines.push('allow_anonymous true');
  }
  const confPath = join(dir, 'mosquitto.conf');
  writeFileSync(confPath, lines.join('\n') + '\n');

  let child: ChildProcess;
  let output = '';
  const launch = async () => {
    output = '';
    child = spawn(MOSQUITTO, ['-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(child);
    const current = child;
    child.once('exit', () => live.delete(current));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await waitListening(port, child, () => output);
  };
  const killWith = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.pid !== undefined)
      try {
        process.kill(child.pid, signal);
      } catch {
        /* already gone */
      }
    await waitExit(child);
  };
  await launch();

  return {
    url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    port,
    get pid() {
      return child.pid ?? -1;
    },
    async stop() {
      await killWith('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      await killWith('SIGKILL');
    },
    async restart() {
      await killWith('SIGKILL');
      await launch();
    },
  };
}

export interface ProbeMessage {
  readonly topic: string;
  readonly payload: string;
  readonly retain: boolean;
  readonly at: number;
}

/** A plain mqtt.js client that records what it sees, for asserting on the wire. */
export interface MqttProbe {
  readonly messages: ProbeMessage[];
  subscribe(...topics: string[]): Promise<void>;
  publish(
    topic: string,
    payload: string | Buffer,
    options?: { retain?: boolean; qos?: 0 | 1 },
  ): Promise<void>;
  /** First recorded message (from index `from`) matching `match`; polls until `timeoutMs`. */
  waitFor(
    match: (m: ProbeMessage) => boolean,
    options?: { timeoutMs?: number; from?: number },
  ): Promise<ProbeMessage>;
  /** Round trip through the broker: everything published to it before this call has been delivered after it. */
  flush(): Promise<void>;
  /** Publishes a command on `<playerTopic>/set` and resolves with the parsed answer on `<playerTopic>/set/result`. */
  command(
    playerTopic: string,
    payload: unknown,
    options?: { timeoutMs?: number },
  ): Promise<Record<string, unknown>>;
  end(): Promise<void>;
}

export async function connectProbe(
  url: string,
  options: { username?: string; password?: string; protocolVersion?: 4 | 5 } = {},
): Promise<MqttProbe> {
  const client = await mqtt.connectAsync(url, {
    ...options,
    protocolVersion: options.protocolVersion ?? 5,
    reconnectPeriod: 0,
  });
  const messages: ProbeMessage[] = [];
  const flushTopic = `probe/${Math.random().toString(16).slice(2)}/flush`;
  client.on('message', (topic, payload, packet) =>
    messages.push({ topic, payload: payload.toString(), retain: packet.retain === true, at: Date.now() }),
  );
  await client.subscribeAsync(flushTopic, { qos: 1 });
  let flushes = 0;
  const probe: MqttProbe = {
    messages,
    async subscribe(...topics) {
      await client.subscribeAsync(topics, { qos: 1 });
    },
    async publish(topic, payload, opts = {}) {
      await client.publishAsync(topic, payload, { retain: opts.retain ?? false, qos: opts.qos ?? 1 });
    },
    async waitFor(match, opts = {}) {
      const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
      for (;;) {
        const found = messages.slice(opts.from ?? 0).find(match);
        if (found) return found;
        if (Date.now() > deadline) {
          const seen = messages
            .slice(-10)
            .map((m) => `${m.topic} ${m.payload.slice(0, 80)}`)
            .join('\n  ');
          throw new Error(
            `probe: no matching message within ${opts.timeoutMs ?? 10_000} ms; last seen:\n  ${seen}`,
          );
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async flush() {
      const marker = String(++flushes);
      const from = messages.length;
      await client.publishAsync(flushTopic, marker, { qos: 1 });
      await probe.waitFor((m) => m.topic === flushTopic && m.payload === marker, { from });
    },
    async command(playerTopic, payload, opts = {}) {
      const from = messages.length;
      await probe.publish(`${playerTopic}/set`, JSON.stringify(payload));
      const result = await probe.waitFor((m) => m.topic === `${playerTopic}/set/result`, {
        from,
        timeoutMs: opts.timeoutMs ?? 10_000,
      });
      return JSON.parse(result.payload) as Record<string, unknown>;
    },
    async end() {
      await client.endAsync(true);
    },
  };
  return probe;
}
