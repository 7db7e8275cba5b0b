import type { ChaosResult } from './chaos.js';
import { mb, quantile, ratio } from './support-stats.js';

/** bench/chaos's closing figures: what was injected and sent, what was measured, every violation. */
export function printChaos(r: ChaosResult, out: (line: string) => void): void {
  const counts = (m: ReadonlyMap<string, number>): string =>
    `${[...m.values()].reduce((a, b) => a + b, 0)} (${[...m.entries()].map(([k, v]) => `${k} ${v}`).join(', ')})`;
  out(`  chaos ran ${(r.wallMs / 1000).toFixed(0)} s (seed ${r.seed})`);
  out(`  faults injected: ${counts(r.faults)}`);
  out(`  token lifetimes run out (the service dropped the link at expiry): ${r.tokenExpiryDrops}; tokens minted by the bridge: ${r.tokensMinted}`);
  out(`  commands sent: ${counts(r.commands)}`);
  out(`  commands refused or failed: ${r.refused.length}${r.refused.length ? ` (${r.refused.slice(0, 20).join('; ')})` : ''}`);
  for (const n of r.notes.slice(0, 10)) out(`  note: ${n}`);
  out(
    `  quiet checks: ${r.quietChecks}; the three views agreed after p50 ${quantile(r.agreeMs, 0.5).toFixed(0)} ms, max ${
      r.agreeMs.length ? Math.max(...r.agreeMs).toFixed(0) : 'n/a'
    } ms (n=${r.agreeMs.length})`,
  );
  out(`  MPD status samples: ${r.silenceSamples}; longest unforced stretch without audio ${(r.longestSilenceMs / 1000).toFixed(2)} s`);
  const { first, last } = r.resources;
  if (first && last) {
    const row = (label: string, a: number, b: number, fmt: (v: number) => string, allowed: string): void =>
      out(`  bridge ${label.padEnd(20)} first ${fmt(a).padStart(9)}   last ${fmt(b).padStart(9)}   last/first ${ratio(b, a)}   (allowed ${allowed})`);
    row('RSS', first.rss, last.rss, mb, `+${r.slack.rssMb} MB`);
    row('heap after GC', first.heapUsed, last.heapUsed, mb, `+${r.slack.heapMb} MB`);
    row('open fds', first.fds, last.fds, String, `+${r.slack.fds}`);
    row('active resources', first.resources, last.resources, String, `+${r.slack.resources}`);
    row('active timers', first.timers, last.timers, String, `+${r.slack.timers}`);
    out(`  bridge resources last: ${JSON.stringify(last.byKind)}`);
  }
  out(`  violations: ${r.violations.length}`);
  for (const v of r.violations) {
    out(`    ${v.at.toFixed(1)} s  ${v.player ?? '-'}  ${v.kind}: ${v.detail}`);
    // What happened to that player (and to all) in the 30 s before.
    const before = r.events.filter((e) => e.at <= v.at && e.at > v.at - 30 && (e.player === null || v.player === null || e.player === v.player));
    if (before.length) out(`      before: ${before.map((e) => `${e.at.toFixed(1)} ${e.player ? `${e.player} ` : ''}${e.what}`).join(', ')}`);
  }
  out(`  aim: 0 violations -> ${r.violations.length === 0 ? 'met' : 'NOT met'}`);
}
