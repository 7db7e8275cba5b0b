import { spawn } from 'node:child_process';

/**
 * The event-loop lag of an idle Node process measured over the same window: what the machine
 * itself adds (scheduling on a shared, busy host), the floor for bench/scale's lag figure.
 * monitorEventLoopDelay records whole timer intervals, so its `resolution` is subtracted.
 */
export const LAG_RESOLUTION_MS = 10;

const SCRIPT = `
const { monitorEventLoopDelay } = require('node:perf_hooks');
const h = monitorEventLoopDelay({ resolution: ${LAG_RESOLUTION_MS} });
h.enable();
process.on('message', () => {
  h.disable();
  process.send({ p99: h.percentile(99) / 1e6 - ${LAG_RESOLUTION_MS}, max: h.max / 1e6 - ${LAG_RESOLUTION_MS} }, () => process.exit(0));
});
process.send('ready');
`;

export interface LagFigures {
  readonly p99: number;
  readonly max: number;
}

/** Starts an idle process measuring its own lag; `stop()` resolves with its figures. */
export async function startLagFloor(): Promise<{ stop(): Promise<LagFigures> }> {
  const child = spawn(process.execPath, ['-e', SCRIPT], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`lag floor exited (${code})`)));
  });
  return {
    stop: () =>
      new Promise<LagFigures>((resolve) => {
        child.once('message', (m: LagFigures) => resolve(m));
        child.send('stop');
      }),
  };
}
