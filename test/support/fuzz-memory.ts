import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';

/**
 * Memory figures for the bad-input suites (issue #8: "memory flat, RSS after within 10 % of
 * before"). vitest's workers run without --expose-gc and its config is not ours to change, so
 * the flag is switched on at run time and a fresh context hands out the `gc` it then defines.
 */
export interface MemorySample {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** Buffers and other memory outside the JS heap. */
  readonly externalBytes: number;
  /** Whether a full GC ran first (false: the figures include garbage). */
  readonly collected: boolean;
}

let gcFn: (() => void) | null | undefined;

function collector(): (() => void) | null {
  if (gcFn !== undefined) return gcFn;
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return (gcFn = existing);
  try {
    setFlagsFromString('--expose-gc');
    const fn: unknown = runInNewContext('gc');
    gcFn = typeof fn === 'function' ? (fn as () => void) : null;
  } catch {
    gcFn = null;
  }
  return gcFn;
}

/** Full GC (twice: finalizers free more on the second pass), a tick to settle, then RSS and heap. */
export async function sampleMemory(): Promise<MemorySample> {
  const gc = collector();
  for (let i = 0; i < 2; i++) {
    gc?.();
    await new Promise((r) => setImmediate(r));
  }
  const m = process.memoryUsage();
  return { rssBytes: m.rss, heapUsedBytes: m.heapUsed, externalBytes: m.external, collected: gc !== null };
}

/** VmRSS of another process (e.g. the bridge run as a child), bytes; from /proc. */
export function processRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

/** `before → after (+x.x %)` in MiB, for the report line each suite prints. */
export function describeGrowth(label: string, before: MemorySample, after: MemorySample): string {
  const mib = (b: number) => (b / 1024 / 1024).toFixed(1);
  const pct = (((after.rssBytes - before.rssBytes) / before.rssBytes) * 100).toFixed(1);
  return `${label}: RSS ${mib(before.rssBytes)} → ${mib(after.rssBytes)} MiB (${pct} %), heap ${mib(before.heapUsedBytes)} → ${mib(after.heapUsedBytes)} MiB, external ${mib(before.externalBytes)} → ${mib(after.externalBytes)} MiB${after.collected ? ' after full GC' : ' (no GC available)'}`;
}
