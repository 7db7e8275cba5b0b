import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { makeFlac } from '../test/support/audio-fixtures.js';
import { startBridgeHarness } from '../test/support/bridge-harness.js';
import { MqttEcho, startFloorMpd } from './support-floors.js';
import { startPlaying } from './support-playing.js';
import { hostNote, line, ms, now, pairSums, ratio, summarize, verdict } from './support-stats.js';

/**
 * bench/mqtt (issue #6): from Home Assistant publishing `{"action":"pause"}` / `play` on
 * `qobuz-connect/living_room/set` to the simulated Qobuz service receiving the renderer's
 * state report (23) in the new state, through real Mosquitto, the whole bridge and real MPD.
 * The floor, measured in the same run and interleaved block by block: an MQTT publish→receive
 * round trip through the same Mosquitto (QoS 0, as Home Assistant publishes commands) plus a
 * raw MPD `pause` round trip on its own MPD. Aim: p99 <= 2x floor p99.
 */
const BLOCK = 100;
const WARMUP = 20;
const SET = 'qobuz-connect/living_room/set';

export async function benchMqtt(n = 500): Promise<void> {
  console.log(
    `bench/mqtt — HA command on ${SET} -> Qobuz state report, ${n} commands (pause/play alternating)`,
  );
  console.log(`  ${hostNote()}`);
  const dir = await mkdtemp(join(tmpdir(), 'qcb-bench-'));
  const h = await startBridgeHarness({ trackSeconds: [120] });
  const brokerUrl = h.mosquitto?.url ?? '';
  const echo = new MqttEcho();
  let ha: mqtt.MqttClient | undefined;
  let floorMpd: Awaited<ReturnType<typeof startFloorMpd>> | undefined;
  try {
    const client = await mqtt.connectAsync(brokerUrl, { protocolVersion: 5, reconnectPeriod: 0 });
    ha = client;
    floorMpd = await startFloorMpd(await makeFlac({ dir, name: 'floor.flac', seconds: 120 }));
    const floorLine = floorMpd.line;
    await echo.start(brokerUrl);
    const { session, watch, idleLine } = await startPlaying(h);
    const heardAt: number[] = [];

    const command = async (i: number): Promise<number> => {
      const pause = i % 2 === 0;
      const want = pause ? qconnect.PlayingState.PAUSED : qconnect.PlayingState.PLAYING;
      const mark = watch.mark();
      const changed = idleLine.send('idle player').then(() => now());
      changed.catch(() => undefined); // awaited below; a timeout must not surface as unhandled first
      const t0 = now();
      client.publish(SET, JSON.stringify({ action: pause ? 'pause' : 'play' }), { qos: 0 });
      const at = await watch.next(mark, (s) => s.playing_state === want);
      heardAt.push((await changed) - t0);
      await session.idle(); // the bridge done with this command before the next one
      return at - t0;
    };
    const figures: number[] = [];
    const mqttRtt: number[] = [];
    const mpdRtt: number[] = [];
    for (let i = 0; i < WARMUP; i++) {
      await command(i);
      await echo.rtt('{"action":"pause"}');
      await floorLine.rtt(`pause ${i % 2 === 0 ? 1 : 0}`);
    }
    for (let done = 0; done < n; done += BLOCK) {
      const size = Math.min(BLOCK, n - done);
      for (let i = 0; i < size; i++) figures.push(await command(done + i));
      for (let i = 0; i < size; i++) {
        mqttRtt.push(await echo.rtt('{"action":"pause"}'));
        mpdRtt.push(await floorLine.rtt(`pause ${(done + i) % 2 === 0 ? 1 : 0}`));
      }
    }
    idleLine.close();
    const figure = summarize(figures);
    const floor = summarize(pairSums(mqttRtt, mpdRtt));
    const heard = summarize(heardAt.slice(WARMUP));
    line('floor leg: MQTT publish -> receive', summarize(mqttRtt));
    line('floor leg: MPD pause round trip', summarize(mpdRtt));
    line('floor: MQTT + MPD pause (pairwise)', floor);
    line('HA command -> Qobuz state report', figure);
    line('HA command -> MPD reports the change (idle)', heard);
    verdict(figure, floor, 2);
    console.log(
      `  MPD acting: p50/floor-p50 ${ratio(heard.p50, floor.p50)}, p99/floor-p99 ${ratio(heard.p99, floor.p99)}`,
    );
    console.log(`  median per command beyond the floor: ${ms(figure.p50 - floor.p50)}`);
  } finally {
    await ha?.endAsync(true);
    await echo.stop();
    floorMpd?.line.close();
    await floorMpd?.mpd.stop();
    await h.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchMqtt();
