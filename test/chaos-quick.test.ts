import { describe, expect, it } from 'vitest';
import { QUICK, runChaos } from '../bench/chaos.js';
import { printChaos } from '../bench/support-chaos-report.js';

/**
 * Issue #21 part 4 "Done when": the chaos soak's quick mode (bench/chaos.ts, `npm run bench --
 * chaos --quick`) with a fixed seed: four players, each its own real MPD, one real Mosquitto,
 * the simulated Qobuz service, a 45-second compressed day of random faults and commands from
 * the app, MQTT and mpc. Every invariant holds: 0 violations. The report is printed when it fails.
 */
const SEED = 3;

describe('the chaos soak in quick mode (issue #21)', () => {
  it('keeps four players playing and agreeing through seeded faults and commands, with 0 violations', { timeout: 240_000 }, async () => {
    const lines: string[] = [];
    const r = await runChaos({ ...QUICK, seed: SEED, log: (l) => lines.push(l) });
    printChaos(r, (l) => lines.push(l));
    const total = (m: ReadonlyMap<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    expect(r.violations.map((v) => `${v.at.toFixed(1)} s ${v.player ?? '-'} ${v.kind}: ${v.detail}`), lines.join('\n')).toEqual([]);
    // It did soak: faults and commands went in, and the quiet checks ran.
    expect(total(r.faults)).toBeGreaterThanOrEqual(5);
    expect(total(r.commands)).toBeGreaterThanOrEqual(8);
    expect(r.quietChecks).toBeGreaterThanOrEqual(3);
    expect(r.resources.first).not.toBeNull();
  });
});
