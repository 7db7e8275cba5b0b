import { readdirSync } from 'node:fs';
import { startBridgeHarness } from '../test/support/bridge-harness.js';
import { MpdLine } from './support-floors.js';
import { argValue, hostNote, mb, now, ratio } from './support-stats.js';

/**
 * bench/soak (issue #8): one player, real MPD, a 200-track queue of 2-second generated tracks
 * (50x the track-change rate of 100-second music) played through from the Qobuz app. With
 * 1-second tracks MPD, which blocks for up to ~1 s while it opens an HTTP stream, can reach
 * the end of a track before the following one is queued: 2 s is the shortest that holds. MPD's
 * status is polled every ~10 ms on a connection of our own: a `state: stop` before the last
 * item started is a gap. At each track start the process's RSS, heap used, active
 * resources (process.getActiveResourcesInfo()) and open fds (/proc/self/fd) are sampled; the
 * first 20 tracks are the floor the last 20 are compared with. `--tracks N`,
 * `--track-seconds S` override.
 */
interface Sample {
  readonly rss: number;
  readonly heap: number;
  readonly resources: number;
  readonly fds: number;
}

/** No forced GC here: it would stall the bridge in this same process at every track change. */
function sample(): Sample {
  return {
    rss: process.memoryUsage.rss(),
    heap: process.memoryUsage().heapUsed,
    resources: process.getActiveResourcesInfo().length,
    fds: readdirSync('/proc/self/fd').length,
  };
}

function mean(samples: readonly Sample[], key: keyof Sample): number {
  return samples.reduce((n, s) => n + s[key], 0) / Math.max(1, samples.length);
}

function parse(reply: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const row of reply.split('\n')) {
    const i = row.indexOf(': ');
    if (i > 0) out[row.slice(0, i)] = row.slice(i + 2);
  }
  return out;
}

export async function benchSoak(): Promise<void> {
  const tracks = Number(argValue('tracks') ?? 200);
  const seconds = Number(argValue('track-seconds') ?? 2);
  console.log(
    `bench/soak — one player, real MPD, ${tracks} tracks of ${seconds} s through the bridge from the Qobuz app`,
  );
  console.log(`  ${hostNote()}`);
  const h = await startBridgeHarness({ trackSeconds: Array.from({ length: tracks }, () => seconds) });
  const line = await MpdLine.open(h.mpd.host, h.mpd.port);
  try {
    const { sim, rendererId } = await h.connectApp();
    await sim.waitFor(() => sim.activeRendererId === rendererId, { what: 'our renderer active' });
    const session = h.bridge.player(h.playerId)?.session;
    if (!session) throw new Error('no session');
    const samples = new Map<number, Sample>();
    const last = tracks - 1;
    let polls = 0;
    let stopPolls = 0;
    let gaps = 0;
    let playing = false;
    let wasStopped = false;
    let stoppedSince = 0;
    let maxIndex = -1;
    let ending = 'the queue ended after its last item';
    const songIds = new Set<string>();
    let pollMax = 0;
    let lastPoll = now();
    let spacingMax = 0;
    const t0 = now();
    sim.loadQueue(h.trackIds);
    sim.jump(0, { playing: true });
    const deadline = t0 + (tracks * seconds * 2 + 30) * 1000;
    for (;;) {
      const before = now();
      spacingMax = Math.max(spacingMax, before - lastPoll);
      lastPoll = before;
      const st = parse(await line.send('status'));
      pollMax = Math.max(pollMax, now() - before);
      polls += 1;
      // The index in play order (the queue is not shuffled here); after the queue ends there is none (-1): the highest seen counts.
      const index = session.view().queue.index ?? -1;
      maxIndex = Math.max(maxIndex, index);
      if (st.state === 'play') playing = true;
      if (st.songid) songIds.add(st.songid);
      if (index >= 0 && !samples.has(index)) samples.set(index, sample());
      const stopped = playing && st.state === 'stop';
      if (stopped && maxIndex >= last) break; // the expected stop, after the last item
      if (stopped) {
        stopPolls += 1;
        if (!wasStopped) {
          gaps += 1;
          stoppedSince = now();
        }
        if (now() - stoppedSince > 10_000) {
          ending = `MPD stayed stopped 10 s at item ${maxIndex}`;
          break;
        }
      }
      wasStopped = stopped;
      if (now() > deadline) {
        ending = `not finished in time, at item ${maxIndex}`;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const wall = (now() - t0) / 1000;
    // The first 20 items played against the last 20 played (all of them on a full run).
    const played = [...samples.entries()].sort(([a], [b]) => a - b).map(([, v]) => v);
    const first = played.slice(0, 20);
    const tail = played.slice(-20);
    const row = (label: string, key: keyof Sample, fmt: (v: number) => string): void => {
      const a = mean(first, key);
      const b = mean(tail, key);
      console.log(
        `  ${label.padEnd(26)} first 20 ${fmt(a).padStart(10)}   last 20 ${fmt(b).padStart(10)}   last/first ${ratio(b, a)}`,
      );
    };
    console.log(
      `  played ${samples.size}/${tracks} items (${songIds.size} MPD song ids) in ${wall.toFixed(1)} s (${(tracks * seconds).toFixed(0)} s of audio)`,
    );
    console.log(`  ended: ${ending}`);
    if (maxIndex < last) {
      // Why it stopped, from the bridge itself: its warnings and errors, and MPD's last word.
      const loud = h.logs.filter((l) => /"level":(40|50|60)/.test(l)).slice(-12);
      for (const l of loud) console.log(`    log: ${l.slice(0, 300)}`);
      // And what it was doing just before: its last debug lines, stripped of the usual fields.
      for (const l of h.logs.slice(-25))
        console.log(`    debug: ${l.replace(/"(pid|hostname|time|level)":[^,]*,/g, '').slice(0, 240)}`);
      console.log(`    MPD now: ${JSON.stringify(await h.mpd.status())}`);
    }
    console.log(
      `  gaps (MPD 'state: stop' before the last item): ${gaps}, seen in ${stopPolls} of ${polls} status polls (slowest reply ${pollMax.toFixed(1)} ms, longest between polls ${spacingMax.toFixed(1)} ms); aim 0 -> ${gaps === 0 ? 'met' : 'NOT met'}`,
    );
    row('RSS', 'rss', mb);
    row('heap used (no forced GC)', 'heap', mb);
    row('active resources', 'resources', (v) => v.toFixed(1));
    row('open fds', 'fds', (v) => v.toFixed(1));
    const grew =
      mean(tail, 'resources') > mean(first, 'resources') + 1 || mean(tail, 'fds') > mean(first, 'fds') + 1;
    console.log(
      `  aim: no growth in handles or fds (beyond 1) -> ${grew ? 'NOT met' : 'met'}; service errors ${h.service.errors.length}`,
    );
  } finally {
    line.close();
    await h.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchSoak();
