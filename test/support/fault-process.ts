import { spawn, type ChildProcess } from 'node:child_process';
import { pollUntil } from './fault-helpers.js';

/**
 * The bridge as a child process from its CLI (as test/e2e/bridge-e2e.test.ts runs it), for
 * the crash faults of issue #8: its JSON log on stderr, the HTTP port it logged, its exit.
 */
export interface BridgeProcess {
  readonly child: ChildProcess;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it wrote to stderr so far (JSON log lines at debug). */
  stderr(): string;
  /** The port of its HTTP server, from its "HTTP server listening" log line. */
  httpPort(timeoutMs?: number): Promise<number>;
  /** SIGKILL (a crash: no goodbyes, no MQTT offline message of its own) and wait for the exit. */
  kill(): Promise<void>;
}

export function spawnBridge(configFile: string): BridgeProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config', configFile], {
    env: { ...process.env, LOG_LEVEL: 'debug', LOG_FORMAT: 'json' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    exit,
    stderr: () => stderr,
    httpPort: (timeoutMs = 15_000) =>
      pollUntil(
        'the bridge to log its HTTP port',
        () => {
          if (child.exitCode !== null) throw new Error(`bridge exited with ${child.exitCode}: ${stderr.slice(-2000)}`);
          for (const line of stderr.split('\n')) {
            if (!line.includes('HTTP server listening')) continue;
            const port = (JSON.parse(line) as { port?: number }).port;
            if (port) return port;
          }
          return undefined;
        },
        { timeoutMs, intervalMs: 50 },
      ),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exit;
    },
  };
}
