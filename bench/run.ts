/**
 * `npm run bench`: every benchmark, each printing its figures beside a floor measured in the
 * same run. Pass names to run some: `npm run bench -- codec`; `chaos` runs only when named.
 */
import { benchChaos } from './chaos.js';
import { benchCodec } from './codec.js';
import { benchIdleMemory } from './idle-memory.js';
import { benchLatency } from './latency.js';
import { benchMqtt } from './mqtt.js';
import { benchScale } from './scale.js';
import { benchSoak } from './soak.js';

const benches: Record<string, () => Promise<void> | void> = {
  chaos: () => benchChaos(),
  codec: () => benchCodec(),
  'idle-memory': () => benchIdleMemory(),
  latency: () => benchLatency(),
  mqtt: () => benchMqtt(),
  scale: () => benchScale(),
  soak: () => benchSoak(),
};

/** Run only when named: the chaos soak takes 20 minutes and exits non-zero on a violation. */
const onlyWhenNamed = new Set(['chaos']);

// Flags (`--minutes 1`) are the benches' own: only known names select.
const wanted = process.argv.slice(2).filter((a) => Object.hasOwn(benches, a));
for (const [name, run] of Object.entries(benches)) {
  if (wanted.length > 0 ? !wanted.includes(name) : onlyWhenNamed.has(name)) continue;
  await run();
}
