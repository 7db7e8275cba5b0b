import { FuzzRandom } from '../test/support/fuzz-random.js';
import type { ProcessSample } from './support-chaos-probe.js';
import { ChaosEngine, type CommandKind, type FaultKind } from './support-chaos-engine.js';
import { printChaos } from './support-chaos-report.js';
import { ChaosRig } from './support-chaos-rig.js';
import { awaitAgreement, SilenceWatch, type Violation } from './support-chaos-watch.js';
import { argValue, hostNote } from './support-stats.js';

/**
 * bench/chaos (issue #21 part 4): a compressed day of four players under random faults and
 * commands, drawn from a seeded generator, with invariants checked throughout:
 * - no silence over 1.5 s that no fault or command forces (MPD sampled every 100 ms);
 * - after each quiet second, MPD, our reports to Qobuz and MQTT agree on play state and track;
 * - the bridge's RSS, heap after GC, open fds, active resources and timers flat (first quiet
 *   check after warm-up against the last);
 * - no unhandled rejection (the bridge's log) and the bridge never exits.
 * The day runs in cycles: a burst of faults and commands, a settle until their windows close,
 * a quiet second, then the checks. `npm run bench -- chaos [--seed N] [--minutes M] [--quick]`;
 * the quick mode runs in the suite (test/chaos-quick.test.ts).
 */
export interface ChaosOptions {
  readonly seed: number;
  /** Length of the chaos (the compressed day), after the players started. */
  readonly durationMs: number;
  readonly players?: number;
  /** How long the three views may take to agree after a quiet second (default 2 s). */
  readonly agreeWithinMs?: number;
  /** Token lifetime, s (default the day's "hour": durationMs / 24, at least 45 s: the reconnect backoff resets after 40 s up). */
  readonly tokenSeconds?: number;
  readonly trackSeconds?: readonly number[];
  /** Share of events that are faults (default 0.35). */
  readonly faultShare?: number;
  /** Burst length range, ms (default 4-12 s). */
  readonly burstMs?: readonly [number, number];
  /** Allowed growth, first quiet check after warm-up -> last. */
  readonly slack?: Partial<Slack>;
  readonly log?: (line: string) => void;
  /** Append the bridge's whole log to this file (`--log FILE`). */
  readonly logFile?: string;
}

export interface Slack {
  readonly rssMb: number;
  readonly heapMb: number;
  readonly fds: number;
  readonly resources: number;
  readonly timers: number;
}

const DEFAULT_SLACK: Slack = { rssMb: 40, heapMb: 10, fds: 6, resources: 8, timers: 5 };

export interface ChaosResult {
  readonly seed: number;
  readonly durationMs: number;
  readonly wallMs: number;
  readonly faults: ReadonlyMap<FaultKind, number>;
  readonly commands: ReadonlyMap<CommandKind, number>;
  readonly refused: readonly string[];
  /** Faults and commands, seconds since the start. */
  readonly events: ReadonlyArray<{ readonly at: number; readonly player: string | null; readonly what: string }>;
  readonly notes: readonly string[];
  readonly violations: readonly Violation[];
  readonly quietChecks: number;
  readonly agreeMs: readonly number[];
  readonly silenceSamples: number;
  readonly longestSilenceMs: number;
  readonly tokensMinted: number;
  readonly tokenExpiryDrops: number;
  readonly resources: { readonly first: ProcessSample | null; readonly last: ProcessSample | null };
  readonly slack: Slack;
}

/**
 * The quick mode (`--quick`, and test/chaos-quick.test.ts): a 45-second day. Three quiet checks or
 * more; the views get 4 s to agree, as a loaded 2-core machine running the suite may need.
 */
export const QUICK = { durationMs: 45_000, agreeWithinMs: 4000 } as const;

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const log = o.log ?? ((line: string) => console.log(line));
  const slack = { ...DEFAULT_SLACK, ...o.slack };
  const rnd = new FuzzRandom(o.seed);
  const violations: Violation[] = [];
  const notes: string[] = [];
  let t0 = Date.now();
  const record = (v: Omit<Violation, 'at'>): Violation => {
    const full: Violation = { ...v, at: (Date.now() - t0) / 1000 };
    violations.push(full);
    log(`  ! ${full.at.toFixed(1)} s ${full.player ?? '-'} ${full.kind}: ${full.detail}`);
    return full;
  };
  const onRejection = (err: unknown): void =>
    void record({ player: null, kind: 'unhandled', detail: `in the soak process: ${String(err)}` });
  process.on('unhandledRejection', onRejection);
  const tokenSeconds = o.tokenSeconds ?? Math.max(45, Math.round(o.durationMs / 24 / 1000));
  const rig = await ChaosRig.start({
    players: o.players ?? 4,
    trackSeconds: o.trackSeconds ?? [12, 14, 16, 18, 20, 22, 24, 26],
    tokenSeconds,
    seed: o.seed,
    ...(o.logFile ? { logFile: o.logFile } : {}),
  });
  const samples: ProcessSample[] = [];
  const agreeMs: number[] = [];
  let quietChecks = 0;
  let crashesSeen = 0;
  let silence: SilenceWatch | null = null;
  try {
    for (const p of rig.players) await rig.pick(p);
    const engine: ChaosEngine = new ChaosEngine(rig, rnd, (): SilenceWatch => watch, (line) => void notes.push(line));
    const watch: SilenceWatch = new SilenceWatch(rig, (p): boolean => engine.forced(p), (): boolean => engine.restExcuses(), record);
    silence = watch;
    t0 = Date.now();
    watch.start();
    const quiet = async (): Promise<void> => {
      await sleep(1000);
      quietChecks += 1;
      await Promise.all(
        rig.players.map(async (p) => {
          const r = await awaitAgreement(rig, p, o.agreeWithinMs ?? 2000);
          if (r.ms === null) {
            record({ player: p.id, kind: 'disagreement', detail: r.detail });
            return;
          }
          agreeMs.push(r.ms);
          const playing = r.views.mpd?.state === 'play';
          if (p.intent === 'play' && !playing)
            record({ player: p.id, kind: 'silence', detail: `asked to play, but all agree on ${r.views.mpd?.state} at the quiet check` });
          if (p.intent === 'pause' && playing) {
            const at = (Date.now() - t0) / 1000;
            const before = engine.events.filter((e) => e.player === p.id && e.at - t0 > at * 1000 - 30_000).map((e) => `${((e.at - t0) / 1000).toFixed(1)} ${e.what}`);
            notes.push(`${at.toFixed(1)} s: ${p.id} plays at a quiet check although last asked to pause (before: ${before.join(', ')})`);
          }
          p.intent = playing ? 'play' : 'pause';
        }),
      );
      for (const u of engine.unrecovered.splice(0)) record({ player: u.player, kind: 'recovery', detail: u.detail });
      const s = await rig.bridge.sample();
      if (s) samples.push(s);
      for (const line of rig.bridge.crashes.slice(crashesSeen))
        record({ player: null, kind: 'unhandled', detail: `in the bridge: ${line}` });
      crashesSeen = rig.bridge.crashes.length;
      if (!rig.bridge.running) throw new Error('the bridge process exited');
    };
    await quiet();
    const end = t0 + o.durationMs;
    const [burstMin, burstMax] = o.burstMs ?? [4000, 12_000];
    while (Date.now() < end) {
      const burstEnd = Math.min(end, Date.now() + burstMin + rnd.int(burstMax - burstMin));
      while (Date.now() < burstEnd) {
        await sleep(250 + rnd.int(1250));
        engine.step(o.faultShare ?? 0.35);
      }
      await engine.settle(60_000);
      for (const p of await engine.reconnected(45_000))
        record({ player: p.id, kind: 'session', detail: 'not back in its Qobuz session (connected and active) within 45 s' });
      await quiet();
    }
    const first = samples.length >= 3 ? samples[1] : samples[0];
    const last = samples.at(-1);
    if (first && last) checkFlat(first, last, slack, record);
    else record({ player: null, kind: 'resources', detail: 'the bridge gave no figures (IPC sample)' });
    return {
      seed: o.seed,
      durationMs: o.durationMs,
      wallMs: Date.now() - t0,
      faults: engine.faults,
      commands: engine.commands,
      refused: engine.refused,
      events: engine.events.map((e) => ({ ...e, at: (e.at - t0) / 1000 })),
      notes,
      violations,
      quietChecks,
      agreeMs,
      silenceSamples: watch.samples,
      longestSilenceMs: watch.longestMs,
      tokensMinted: rig.minted,
      tokenExpiryDrops: rig.service.expiredDrops,
      resources: { first: first ?? null, last: last ?? null },
      slack,
    };
  } catch (err) {
    log(`  chaos stopped: ${String(err)}`);
    for (const line of rig.bridge.tail().slice(-30)) log(`    bridge: ${line.slice(0, 300)}`);
    throw err;
  } finally {
    await silence?.stop();
    process.off('unhandledRejection', onRejection);
    if (violations.length > 0) {
      const loud = rig.bridge.tail().filter((l) => /"level":(40|50|60)/.test(l)).slice(-25);
      for (const l of loud) log(`    bridge warned: ${l.slice(0, 300)}`);
    }
    await rig.stop();
  }
}

function checkFlat(first: ProcessSample, last: ProcessSample, slack: Slack, record: (v: Omit<Violation, 'at'>) => Violation): void {
  const MB = 1024 * 1024;
  const grew = (what: string, a: number, b: number, allowed: number, unit = ''): void => {
    if (b > a + allowed)
      record({ player: null, kind: 'resources', detail: `${what} grew from ${a.toFixed(1)}${unit} to ${b.toFixed(1)}${unit} (allowed +${allowed}${unit})` });
  };
  grew('RSS', first.rss / MB, last.rss / MB, slack.rssMb, ' MB');
  grew('heap used after GC', first.heapUsed / MB, last.heapUsed / MB, slack.heapMb, ' MB');
  grew('open fds', first.fds, last.fds, slack.fds);
  grew('active resources', first.resources, last.resources, slack.resources);
  grew('active timers', first.timers, last.timers, slack.timers);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function benchChaos(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const seed = Number(argValue('seed') ?? Math.floor(Math.random() * 2 ** 31));
  const minutes = Number(argValue('minutes') ?? (quick ? QUICK.durationMs / 60_000 : 20));
  console.log(`bench/chaos — 4 players, each its own real MPD, one real Mosquitto, the simulated Qobuz service; a compressed day of ${minutes} min`);
  console.log(`  seed ${seed} (again: npm run bench -- chaos --seed ${seed} ${quick ? '--quick' : `--minutes ${minutes}`})`);
  console.log(`  ${hostNote()}`);
  const logFile = argValue('log');
  const faultShare = argValue('fault-share');
  const result = await runChaos({
    ...(quick ? QUICK : {}),
    seed,
    durationMs: minutes * 60_000,
    ...(logFile ? { logFile } : {}),
    ...(faultShare ? { faultShare: Number(faultShare) } : {}),
  });
  printChaos(result, (line) => console.log(line));
  if (result.violations.length > 0) process.exitCode = 1;
}

if (import.meta.url === `file://${process.argv[1]}`) await benchChaos();
