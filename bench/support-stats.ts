import { cpus, loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Figures for the benches: percentiles of latency samples and the "figure beside its floor"
 * lines every bench prints (issues #5, #6, #8: ratios against a floor measured in the same
 * run, never timed assertions).
 */

/** The q-quantile (0..1) of `samples` by nearest rank; NaN when empty. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export function summarize(samples: readonly number[]): Summary {
  return {
    n: samples.length,
    p50: quantile(samples, 0.5),
    p99: quantile(samples, 0.99),
    max: samples.length === 0 ? Number.NaN : Math.max(...samples),
  };
}

/** Pairwise sums: the floor of a path made of two legs measured side by side. */
export function pairSums(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.min(a.length, b.length);
  return Array.from({ length: n }, (_, i) => (a[i] ?? 0) + (b[i] ?? 0));
}

export function ms(value: number, digits = 3): string {
  return `${value.toFixed(digits)} ms`;
}

export function ratio(value: number, floor: number): string {
  return floor > 0 ? `${(value / floor).toFixed(2)}x` : 'n/a';
}

export function line(label: string, s: Summary): void {
  console.log(
    `  ${label.padEnd(44)} p50 ${ms(s.p50).padStart(11)}   p99 ${ms(s.p99).padStart(11)}   max ${ms(s.max).padStart(11)}   (n=${s.n})`,
  );
}

/** The closing lines: figure / floor at p50 and p99, and whether the aim (p99 ≤ aimX × floor) was met. */
export function verdict(figure: Summary, floor: Summary, aimX: number): void {
  const r99 = figure.p99 / floor.p99;
  console.log(
    `  ratio p50/floor-p50 ${ratio(figure.p50, floor.p50)}, p99/floor-p99 ${ratio(figure.p99, floor.p99)}`,
  );
  console.log(`  aim: p99 <= ${aimX}x floor p99 -> ${r99 <= aimX ? 'met' : 'NOT met'}`);
}

export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** `--name value` from argv, or undefined. */
export function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The host's load when a bench starts: figures from a busy shared machine read differently. */
export function hostNote(): string {
  const [one] = loadavg();
  return `host: ${cpus().length} cores, load average ${(one ?? 0).toFixed(2)}, node ${process.version}`;
}

export function now(): number {
  return performance.now();
}

/** A full, synchronous GC (the flag set at run time), so heap figures compare live objects only. */
export function fullGc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** `promise`, or a rejection naming `what` after `timeoutMs`: every bench stops by itself. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bench: no ${what} within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
