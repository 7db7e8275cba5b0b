import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ProcessSample } from './support-chaos-probe.js';

/**
 * The bridge under soak as its own process, started from the CLI as a user runs it (src/main.ts
 * --config), so its RSS, fds and timers are its own and not the simulated services'. Its JSON log
 * (stderr) is read line by line: the last lines are kept for the report, and every line the
 * bridge logs for an unhandled rejection or an uncaught exception is counted (src/main.ts keeps
 * running on those, so only the log tells).
 */
export class BridgeChild {
  readonly #child: ChildProcess;
  readonly #tail: string[] = [];
  readonly #pending = new Map<number, (s: ProcessSample) => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Log lines reporting an unhandled rejection or uncaught exception. */
  readonly crashes: string[] = [];
  /** Log lines at error level (50+). */
  errors = 0;
  #partial = '';
  #seq = 0;

  constructor(
    configFile: string,
    readonly logFile?: string,
    readonly tailLines = 600,
  ) {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const probe = fileURLToPath(new URL('./support-chaos-probe.ts', import.meta.url));
    this.#child = spawn(
      process.execPath,
      ['--import', 'tsx', '--import', probe, 'src/main.ts', '--config', configFile],
      {
        cwd: root,
        env: { ...process.env, LOG_LEVEL: process.env['CHAOS_LOG_LEVEL'] ?? 'info', LOG_FORMAT: 'json' },
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      },
    );
    this.#child.stderr?.setEncoding('utf8');
    this.#child.stderr?.on('data', (chunk: string) => this.#onLog(chunk));
    this.#child.on('message', (m: { id: number; sample: ProcessSample }) => {
      this.#pending.get(m.id)?.(m.sample);
      this.#pending.delete(m.id);
    });
    this.exited = new Promise((resolve) =>
      this.#child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The last log lines (JSON), oldest first. */
  tail(): readonly string[] {
    return this.#tail;
  }

  /** The bridge's own figures (support-chaos-probe.ts), or null when it does not answer within 5 s. */
  sample(): Promise<ProcessSample | null> {
    if (!this.running || !this.#child.connected) return Promise.resolve(null);
    const id = ++this.#seq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve(null);
      }, 5000);
      this.#pending.set(id, (s) => {
        clearTimeout(timer);
        resolve(s);
      });
      this.#child.send({ op: 'sample', id });
    });
  }

  /** SIGTERM, as a service manager stops it; SIGKILL after 8 s. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.running && this.#child.kill('SIGKILL'), 8000);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  #onLog(chunk: string): void {
    const lines = (this.#partial + chunk).split('\n');
    this.#partial = lines.pop() ?? '';
    if (this.logFile && lines.length > 0) appendFileSync(this.logFile, lines.join('\n') + '\n');
    for (const line of lines) {
      if (line.length === 0) continue;
      this.#tail.push(line);
      if (this.#tail.length > this.tailLines) this.#tail.shift();
      if (/unhandled rejection|uncaught exception/.test(line)) this.crashes.push(line.slice(0, 600));
      if (/"level":(50|60)/.test(line)) this.errors += 1;
    }
  }
}
