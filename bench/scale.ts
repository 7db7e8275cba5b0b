import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { LAG_RESOLUTION_MS, startLagFloor } from './support-lag-floor.js';
import { Fleet, ServiceChild } from './support-scale-fleet.js';
import {
  argValue,
  fullGc,
  hostNote,
  line,
  mb,
  now,
  ratio,
  summarize,
  type Summary,
} from './support-stats.js';

/**
 * bench/scale (issue #8): N players (default 50) in this process, each a PlayerSession with an
 * in-memory player, its own Qobuz session, its own heartbeat and its own track changes, against
 * the simulated service in a child process. Measured over the run, beside the same figures with
 * ONE player measured first in the same run (the floor): RSS, CPU per player, event-loop lag
 * p99, and SetState -> state report latency (pause/play pairs, round robin over the players,
 * timed by the service). Aims: RSS <= 150 MB, lag p99 <= 20 ms, latency p99 at N <= 1.5x at 1.
 *
 * `--minutes M` (default 10) of simulated play at N players; `QCB_BENCH_QUICK=1` = 1 minute at
 * 10x speed (heartbeat every 1 s instead of 10 s, a track change every 6 s instead of 60 s), so
 * the minute carries the traffic of ten. `--speed S`, `--players N` override.
 */
interface Phase {
  readonly players: number;
  readonly latency: Summary;
  readonly rssMaxBytes: number;
  /** After a full GC at the end of the phase. */
  readonly rssEndBytes: number;
  readonly heapBytes: number;
  /** The whole process, % of one core. */
  readonly cpuPct: number;
  readonly lagP99Ms: number;
  readonly lagMaxMs: number;
  /** An idle process's lag over the same window: the machine's own share. */
  readonly idleLagP99Ms: number;
}

async function measure(fleet: Fleet, durationMs: number, label: string): Promise<Phase> {
  const idle = await startLagFloor();
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const samples: number[] = [];
  let rssMax = 0;
  let k = 0;
  let nextProgress = t0 + 60_000;
  while (now() - t0 < durationMs) {
    const p = fleet.players[k++ % fleet.players.length];
    if (!p) break;
    samples.push(await fleet.command(p, true));
    samples.push(await fleet.command(p, false));
    rssMax = Math.max(rssMax, process.memoryUsage.rss());
    if (now() > nextProgress) {
      nextProgress += 60_000;
      const s = summarize(samples);
      console.log(
        `    ${label} ${((now() - t0) / 60_000).toFixed(0)} min: RSS ${mb(rssMax)}, lag p99 ${(lag.percentile(99) / 1e6 - LAG_RESOLUTION_MS).toFixed(1)} ms, latency p99 ${s.p99.toFixed(2)} ms`,
      );
    }
    await sleep(150);
  }
  const cpu = process.cpuUsage(cpu0);
  const wallMs = now() - t0;
  fullGc();
  lag.disable();
  const idleLag = await idle.stop();
  return {
    players: fleet.players.length,
    latency: summarize(samples),
    rssMaxBytes: rssMax,
    rssEndBytes: process.memoryUsage.rss(),
    heapBytes: process.memoryUsage().heapUsed,
    cpuPct: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
    lagP99Ms: lag.percentile(99) / 1e6 - LAG_RESOLUTION_MS,
    lagMaxMs: lag.max / 1e6 - LAG_RESOLUTION_MS,
    idleLagP99Ms: idleLag.p99,
  };
}

function show(p: Phase): void {
  console.log(
    `  ${String(p.players).padStart(3)} player(s): RSS max ${mb(p.rssMaxBytes)} (after GC ${mb(p.rssEndBytes)}, heap ${mb(p.heapBytes)}), CPU ${p.cpuPct.toFixed(2)}% of a core, lag p99 ${p.lagP99Ms.toFixed(2)} ms (max ${p.lagMaxMs.toFixed(1)} ms; an idle process meanwhile: p99 ${p.idleLagP99Ms.toFixed(2)} ms)`,
  );
  line(`      SetState -> report at ${p.players}`, p.latency);
}

export async function benchScale(): Promise<void> {
  const quick = process.env.QCB_BENCH_QUICK === '1';
  const minutes = Number(argValue('minutes') ?? (quick ? 1 : 10));
  const speed = Number(argValue('speed') ?? (quick ? 10 : 1));
  const count = Number(argValue('players') ?? 50);
  const heartbeatMs = Math.round(10_000 / speed);
  const trackMs = Math.round(60_000 / speed);
  const floorMs = quick ? 15_000 : 60_000;
  console.log(
    `bench/scale — ${count} players in one process for ${minutes} min of simulated play at ${speed}x speed`,
  );
  console.log(`  ${hostNote()}`);
  console.log(
    `  (heartbeat every ${heartbeatMs} ms, a track change every ${trackMs} ms per player${speed !== 1 ? `: ${speed}x the traffic of real time, so ${minutes} min carry ${minutes * speed} min of play` : ''})`,
  );
  const service = new ServiceChild();
  await service.ready;
  const fleet = new Fleet({ service, heartbeatMs, trackMs });
  fullGc();
  // tsx (this bench runs from TypeScript source) and the loaded modules, before any player.
  console.log(
    `  RSS before the first player: ${mb(process.memoryUsage.rss())}, heap ${mb(process.memoryUsage().heapUsed)}`,
  );
  try {
    const first = await fleet.add();
    // Warm the JIT and settle start-up garbage, so the 1-player floor is not its first steps.
    for (let i = 0; i < 100; i++) await fleet.command(first, i % 2 === 0);
    await sleep(2000);
    const one = await measure(fleet, floorMs, '1 player');
    const tJoin = now();
    while (fleet.players.length < count) {
      const batch = Math.min(10, count - fleet.players.length);
      await Promise.all(Array.from({ length: batch }, () => fleet.add()));
    }
    console.log(`  ${count} players joined and playing in ${((now() - tJoin) / 1000).toFixed(1)} s`);
    await sleep(3000);
    const many = await measure(fleet, minutes * 60_000, `${count} players`);
    const stats = await service.stats();
    show(one);
    show(many);
    const perPlayer = (a: number, b: number): string => mb((a - b) / (count - 1));
    const cpuAdded = (many.cpuPct - one.cpuPct) / (count - 1);
    console.log(
      `  per added player: heap +${perPlayer(many.heapBytes, one.heapBytes)}, RSS +${perPlayer(many.rssEndBytes, one.rssEndBytes)}, CPU +${cpuAdded.toFixed(3)}% of a core (CPU per player at ${count}: ${(many.cpuPct / count).toFixed(3)}%; the latency probes run at the same rate in both phases)`,
    );
    console.log(
      `  at ${count} vs 1: RSS max ${ratio(many.rssMaxBytes, one.rssMaxBytes)}, heap ${ratio(many.heapBytes, one.heapBytes)}, CPU ${ratio(many.cpuPct, one.cpuPct)}, lag p99 ${ratio(many.lagP99Ms, one.lagP99Ms)} (vs the idle process: ${ratio(many.lagP99Ms, many.idleLagP99Ms)})`,
    );
    console.log(
      `  latency at ${count} vs 1: p50 ${ratio(many.latency.p50, one.latency.p50)}, p99 ${ratio(many.latency.p99, one.latency.p99)}`,
    );
    console.log(
      `  still joined: ${fleet.joined()}/${count} (service sees ${stats.open} open), ${stats.payloadFrames} payload frames received, ${fleet.trackChanges()} track changes, ${mb(fleet.published.bytes)} of views serialized`,
    );
    const aims = [
      `RSS <= 150 MB -> ${many.rssMaxBytes <= 150 * 1024 * 1024 ? 'met' : 'NOT met'}`,
      `lag p99 <= 20 ms -> ${many.lagP99Ms <= 20 ? 'met' : 'NOT met'}`,
      `latency p99 at ${count} <= 1.5x at 1 -> ${many.latency.p99 <= 1.5 * one.latency.p99 ? 'met' : 'NOT met'}`,
    ];
    console.log(`  aims: ${aims.join('; ')}`);
  } finally {
    await fleet.stop();
    await service.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchScale();
