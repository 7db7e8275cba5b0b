import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { makeFlac } from '../test/support/audio-fixtures.js';
import { startBridgeHarness } from '../test/support/bridge-harness.js';
import { MpdLine, startFloorMpd, WsEcho } from './support-floors.js';
import { startPlaying } from './support-playing.js';
import { hostNote, line, ms, now, pairSums, summarize, verdict } from './support-stats.js';

/**
 * bench/latency (issue #5): from the simulated Qobuz service sending SetState (41, pause or
 * play) to it receiving the renderer's state report (23) in the new state, through the whole
 * bridge and a real MPD. The floor, measured in the same run and interleaved block by block so
 * both see the same machine: a raw MPD `pause 1`/`pause 0` round trip on its own connection to
 * its own MPD, plus a raw WebSocket echo round trip on loopback. Aim: p99 <= 2x floor p99.
 * Also timed: when MPD itself reports the change (an `idle player` held open on the bridge's
 * MPD), since the renderer answers before it drives MPD. Its floor (issue #25) includes MPD's
 * notification the same way: the raw `pause` on one connection to the floor MPD, timed until
 * `changed: player` arrives on another connection idling there, plus the WebSocket echo. Aim:
 * p99 <= 2x that floor's p99.
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
  let floorIdle: MpdLine | undefined;
  try {
    floorMpd = await startFloorMpd(await makeFlac({ dir, name: 'floor.flac', seconds: 120 }));
    const floorLine = floorMpd.line;
    floorIdle = await MpdLine.open(floorMpd.mpd.host, floorMpd.mpd.port);
    const floorIdleLine = floorIdle;
    /**
     * One raw command to the floor MPD while another connection idles there: its round trip
     * (`OK`) and the time until `changed: player` on the idling one. A change MPD still holds
     * for the idler from before would end its `idle` at once: drained first.
     */
    const floorCommand = async (cmd: string): Promise<{ rtt: number; notified: number }> => {
      await floorIdleLine.drainIdle('player');
      const changed = floorIdleLine.send('idle player').then(() => now());
      changed.catch(() => undefined); // awaited below
      const t0 = now();
      await floorLine.send(cmd);
      const rtt = now() - t0;
      return { rtt, notified: (await changed) - t0 };
    };
    await echo.start();
    const { sim, session, watch, idleLine } = await startPlaying(h);
    const mpdChanged: number[] = [];
    const settled: number[] = [];

    const command = async (i: number): Promise<number> => {
      const want = i % 2 === 0 ? qconnect.PlayingState.PAUSED : qconnect.PlayingState.PLAYING;
      const mark = watch.mark();
      await idleLine.drainIdle('player'); // as for the floor: no change left over from before
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
    const mpdNotified: number[] = [];
    const wsRtt: number[] = [];
    for (let i = 0; i < WARMUP; i++) {
      await command(i);
      await floorCommand(`pause ${i % 2 === 0 ? 1 : 0}`);
      await echo.rtt(ECHO_BYTES);
    }
    for (let done = 0; done < n; done += BLOCK) {
      const size = Math.min(BLOCK, n - done);
      for (let i = 0; i < size; i++) bridge.push(await command(done + i));
      for (let i = 0; i < size; i++) {
        const raw = await floorCommand(`pause ${(done + i) % 2 === 0 ? 1 : 0}`);
        mpdRtt.push(raw.rtt);
        mpdNotified.push(raw.notified);
        wsRtt.push(await echo.rtt(ECHO_BYTES));
      }
    }
    idleLine.close();
    const mpdState = (await h.mpd.status()).state;
    const figure = summarize(bridge);
    const floor = summarize(pairSums(mpdRtt, wsRtt));
    const actingFloor = summarize(pairSums(mpdNotified, wsRtt));
    line('floor leg: MPD pause round trip', summarize(mpdRtt));
    line('floor leg: MPD pause -> changed on an idler', summarize(mpdNotified));
    line('floor leg: WebSocket echo round trip', summarize(wsRtt));
    line('floor: MPD pause + WS echo (pairwise)', floor);
    line('MPD-acting floor: pause->changed + WS echo', actingFloor);
    line('SetState(pause/play) -> state report', figure);
    const heard = summarize(mpdChanged.slice(WARMUP));
    line('SetState -> MPD reports the change (idle)', heard);
    line('SetState -> the bridge idle again', summarize(settled.slice(WARMUP)));
    verdict(figure, floor, 2);
    // The report is sent before MPD acts (§5.6 "answer at once"): when the sound really stops is
    // this one, against a floor that includes MPD's own notification (issue #25).
    console.log('  MPD acting (SetState -> MPD reports the change, against the MPD-acting floor):');
    verdict(heard, actingFloor, 2);
    console.log(`  MPD ends '${mpdState}' after an even number of commands (expected 'play')`);
    console.log(`  median per command beyond the floor: ${ms(figure.p50 - floor.p50)}`);
  } finally {
    await echo.stop();
    floorIdle?.close();
    floorMpd?.line.close();
    await floorMpd?.mpd.stop();
    await h.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchLatency();
