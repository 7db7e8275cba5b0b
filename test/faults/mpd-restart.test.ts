import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeHarness, type BridgeHarness } from '../support/bridge-harness.js';
import { BUFFER, PLAYING, reportWhere } from '../support/fault-helpers.js';
import { connectProbe, type MqttProbe } from '../support/mosquitto-server.js';
import type { SimSession } from '../support/qconnect-service.js';

/**
 * Issue #8 "Faults": MPD is killed (SIGKILL) mid-play and started again. While it is away the
 * bridge reports buffer ERROR to Qobuz and the player offline to HA; once it is back the
 * bridge puts the same item back and plays on from where it was (mpd-player.ts #restore).
 */
let h: BridgeHarness;
let sim: SimSession;
let rid: number;
let probe: MqttProbe;
const B = 'qobuz-connect/living_room';
const DURATIONS = [30, 35]; // distinct lengths: MPD's `duration` names the item it plays

beforeAll(async () => {
  h = await startBridgeHarness({ trackSeconds: DURATIONS });
  probe = await connectProbe(h.mosquitto!.url);
  await probe.subscribe(`${B}/#`);
  ({ sim, rendererId: rid } = await h.connectApp({ loadQueue: true }));
}, 60_000);
afterAll(async () => {
  await probe?.end();
  await h?.close();
});

describe('MPD killed and restarted mid-play (issue #8, faults)', () => {
  it('reports the outage, then resumes the same item within 3 s of MPD coming back, near where it was', async () => {
    sim.jump(0, { positionMs: 5000, playing: true });
    await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 6, 10_000);
    const n = sim.sent(rid).length;
    const m = probe.messages.length;

    const atKill = await h.mpd.status();
    const positionAtKillMs = Number(atKill.elapsed) * 1000;
    await h.mpd.kill();
    const killedAt = Date.now();

    await reportWhere(sim, rid, (s) => s.buffer_state === BUFFER.ERROR, { after: n, timeoutMs: 15_000 });
    const errorReportMs = Date.now() - killedAt;
    await probe.waitFor((x) => x.topic === `${B}/availability` && x.payload === 'offline', { from: m });

    const r = sim.sent(rid).length;
    await h.mpd.restart();
    const backAt = Date.now();
    const resumed = await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0 && s.duration !== undefined, 10_000);
    const resumeMs = Date.now() - backAt;
    expect(resumeMs).toBeLessThan(10_000);
    expect(Math.round(Number(resumed.duration))).toBe(DURATIONS[0]);
    // Near the position at the kill: the bridge froze it when MPD went away (plus the poll's own lag).
    expect(Math.abs(Number(resumed.elapsed) * 1000 - positionAtKillMs)).toBeLessThan(2500);
    expect(await h.mpd.command('currentsong')).toMatch(new RegExp(`file: http://127\\.0\\.0\\.1:${h.bridge.httpPort}/stream/living_room/`));
    expect(Number((await h.mpd.status()).playlistlength)).toBe(2); // current and next, nothing duplicated

    await probe.waitFor((x) => x.topic === `${B}/availability` && x.payload === 'online', { from: m });
    const back = await reportWhere(
      sim,
      rid,
      (s) => s.buffer_state === BUFFER.OK && s.playing_state === PLAYING && (s.current_queue_item_id ?? 0) === 0,
      { after: r, timeoutMs: 10_000 },
    );
    expect(Math.abs((back.state.current_position?.value ?? 0) - positionAtKillMs)).toBeLessThan(3000);
    expect(h.service.errors).toEqual([]);
    console.info(`[faults] mpd restart: ERROR report ${errorReportMs} ms after the kill, playing again ${resumeMs} ms after MPD returned`);
  }, 60_000);
});
