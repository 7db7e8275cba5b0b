/**
 * `npm run bench`: every benchmark, each printing its figures beside a floor measured in the
 * same run. Pass names to run some: `npm run bench -- codec`.
 */
import { benchCodec } from './codec.js';

const benches: Record<string, () => Promise<void> | void> = {
  codec: () => benchCodec(),
};

const wanted = process.argv.slice(2);
for (const [name, run] of Object.entries(benches)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  await run();
}
