import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { makeFlac } from '../test/support/audio-fixtures.js';
import { startBridgeHarness } from '../test/support/bridge-harness.js';
import { startFloorMpd, WsEcho } from './support-floors.js';
import { startPlaying } from './support-playing.js';
import { hostNote, line, ms, now, pairSums, ratio, summarize, verdict } from './support-stats.js';

/**
 * bench/latency (issue #5): from the simulated Qobuz service sending SetState (41, pause or
 * play) to it receiving the renderer's state report (23) in the new state, through the whole
 * bridge and a real MPD. The floor, measured in the same run and interleaved block by block so
 * both see the same machine: a raw MPD `pause 1`/`pause 0` round trip on its own connection to
 * its own MPD, plus a raw WebSocket echo round trip on loopback. Aim: p99 <= 2x floor p99.
 * Also printed: when MPD itself reports the change (an `idle player` held open on the bridge's
 * MPD), since the renderer answers before it drives MPD.
 */
const BLOCK = 100;
const WARMUP = 20;
/** About the size of a SetState frame as the service sends it. */
const ECHO_BYTES = new Uint8Array(64).fill(7);

export async function benchLatency(n = 1000): Promise<void> {
  console.log(
    `bench/latency — SetState -> state report through the bridge and a real MPD, ${n} commands (pause/play alternating)`,
  );
  console.log(`  ${hostNote()}`);
  const dir = await mkdtemp(join(tmpdir(), 'qcb-bench-'));
  const h = await startBridgeHarness({ trackSeconds: [120] });
  const echo = new WsEcho();
  let floorMpd: Awaited<ReturnType<typeof startFloorMpd>> | undefined;
  try {
    floorMpd = await startFloorMpd(await makeFlac({ dir, name: 'floor.flac', seconds: 120 }));
    const floorLine = floorMpd.line;
    await echo.start();
    const { sim, session, watch, idleLine } = await startPlaying(h);
    const mpdChanged: number[] = [];
    const settled: number[] = [];

    const command = async (i: number): Promise<number> => {
      const want = i % 2 === 0 ? qconnect.PlayingState.PAUSED : qconnect.PlayingState.PLAYING;
      const mark = watch.mark();
      const changed = idleLine.send('idle player').then(() => now());
      changed.catch(() => undefined); // awaited below; a timeout must not surface as unhandled first
      const t0 = now();
      if (want === qconnect.PlayingState.PAUSED) sim.pause();
      else sim.play();
      const at = await watch.next(mark, (s) => s.playing_state === want);
      mpdChanged.push((await changed) - t0);
      await session.idle(); // let the bridge finish with this command before the next one
      settled.push(now() - t0);
      return at - t0;
    };
    const bridge: number[] = [];
    const mpdRtt: number[] = [];
    const wsRtt: number[] = [];
    for (let i = 0; i < WARMUP; i++) {
      await command(i);
      await floorLine.rtt(`pause ${i % 2 === 0 ? 1 : 0}`);
      await echo.rtt(ECHO_BYTES);
    }
    for (let done = 0; done < n; done += BLOCK) {
      const size = Math.min(BLOCK, n - done);
      for (let i = 0; i < size; i++) bridge.push(await command(done + i));
      for (let i = 0; i < size; i++) {
        mpdRtt.push(await floorLine.rtt(`pause ${(done + i) % 2 === 0 ? 1 : 0}`));
        wsRtt.push(await echo.rtt(ECHO_BYTES));
      }
    }
    idleLine.close();
    const mpdState = (await h.mpd.status()).state;
    const figure = summarize(bridge);
    const floor = summarize(pairSums(mpdRtt, wsRtt));
    line('floor leg: MPD pause round trip', summarize(mpdRtt));
    line('floor leg: WebSocket echo round trip', summarize(wsRtt));
    line('floor: MPD pause + WS echo (pairwise)', floor);
    line('SetState(pause/play) -> state report', figure);
    const heard = summarize(mpdChanged.slice(WARMUP));
    line('SetState -> MPD reports the change (idle)', heard);
    line('SetState -> the bridge idle again', summarize(settled.slice(WARMUP)));
    verdict(figure, floor, 2);
    // The report is sent before MPD acts (§5.6 "answer at once"): when the sound really stops is this one.
    console.log(
      `  MPD acting: p50/floor-p50 ${ratio(heard.p50, floor.p50)}, p99/floor-p99 ${ratio(heard.p99, floor.p99)}`,
    );
    console.log(`  MPD ends '${mpdState}' after an even number of commands (expected 'play')`);
    console.log(`  median per command beyond the floor: ${ms(figure.p50 - floor.p50)}`);
  } finally {
    await echo.stop();
    floorMpd?.line.close();
    await floorMpd?.mpd.stop();
    await h.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchLatency();
