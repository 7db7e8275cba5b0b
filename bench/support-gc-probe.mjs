// Preloaded by bench/idle-memory (`node --expose-gc --import <this file> …`): on SIGUSR2, two
// full garbage collections, then one line `QCB_MEM {json}` on stderr with the process's RSS and
// heap after them. It allocates nothing until asked, so the figure is the process's own.
import process from 'node:process';
import { getHeapStatistics } from 'node:v8';

process.on('SIGUSR2', () => {
  globalThis.gc();
  globalThis.gc();
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  const { malloced_memory: malloced } = getHeapStatistics();
  process.stderr.write(`QCB_MEM ${JSON.stringify({ rss, heapUsed, heapTotal, external, malloced })}\n`);
});
