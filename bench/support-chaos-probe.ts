import { readdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Preloaded into the bridge process bench/chaos runs (`--import`): answers the soak's IPC
 * "sample" with the process's own figures, after a full GC so heap figures count live objects:
 * RSS, heap used, open fds (/proc/self/fd) and its active resources by kind
 * (process.getActiveResourcesInfo(): sockets, timers, …). Nothing else of the bridge changes.
 */
export interface ProcessSample {
  readonly rss: number;
  readonly heapUsed: number;
  readonly fds: number;
  readonly resources: number;
  readonly timers: number;
  readonly byKind: Record<string, number>;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function sample(): ProcessSample {
  gc();
  const byKind: Record<string, number> = {};
  const info = process.getActiveResourcesInfo();
  for (const kind of info) byKind[kind] = (byKind[kind] ?? 0) + 1;
  return {
    rss: process.memoryUsage.rss(),
    heapUsed: process.memoryUsage().heapUsed,
    fds: readdirSync('/proc/self/fd').length,
    resources: info.length,
    timers: byKind['Timeout'] ?? 0,
    byKind,
  };
}

process.on('message', (m: { op?: string; id?: number }) => {
  if (m.op === 'sample') process.send?.({ id: m.id, sample: sample() });
});
// The channel must not keep the bridge alive once it stopped (SIGTERM ends it as usual).
process.channel?.unref();
