import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import { reportWhere, reportsOf, type ReportState } from './support/fault-helpers.js';
import { connectProbe, type MqttProbe } from './support/mosquitto-server.js';
import type { SimSession } from './support/qconnect-service.js';

/**
 * Issue #11 "the newest intent wins": commands that race a slow step (a stream URL that takes
 * its time to resolve, an MPD still opening the stream) end where the newest command says, on
 * MPD, in the report to Qobuz and on MQTT. The slow step is held open by the REST stub until
 * the test releases it, so each race happens in the same order on every run, loaded or not.
 */
const PS = qconnect.PlayingState;
const B = 'qobuz-connect/living_room';
let h: BridgeHarness;
let sim: SimSession;
let rid: number;
let probe: MqttProbe;

beforeAll(async () => {
  // Long tracks: no track ends by itself during a scenario; each scenario uses items no other one resolved.
  h = await startBridgeHarness({ trackSeconds: [40, 40, 40, 40, 40, 40, 40] });
  probe = await connectProbe(h.mosquitto!.url);
  await probe.subscribe(`${B}/state`, `${B}/set/result`);
  ({ sim, rendererId: rid } = await h.connectApp({ loadQueue: true }));
}, 60_000);
afterAll(async () => {
  await probe?.end();
  await h?.close();
});

/** Everything in flight is done: the session's loop and MPD's command queue are both empty. */
async function settled(): Promise<void> {
  await h.bridge.player('living_room')!.idle();
}

function lastReport(): ReportState | undefined {
  return reportsOf(sim, rid).at(-1)?.state;
}

/**
 * Waits until the last state the bridge published on MQTT matches `pred` and returns it. Polled:
 * the bridge publishes through its own client, so no round trip of ours can prove it is all here.
 */
async function mqttStateWhere(pred: (s: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const last = () => JSON.parse(probe.messages.filter((m) => m.topic === `${B}/state`).at(-1)?.payload ?? '{}') as Record<string, unknown>;
  const deadline = Date.now() + 10_000;
  while (!pred(last()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return last();
}

async function mqttCommand(payload: unknown): Promise<Record<string, unknown>> {
  const from = probe.messages.length;
  await probe.publish(`${B}/set`, JSON.stringify(payload));
  const answer = await probe.waitFor((m) => m.topic === `${B}/set/result`, { from, timeoutMs: 10_000 });
  return JSON.parse(answer.payload) as Record<string, unknown>;
}

/** Item `item` playing on MPD (its stream URL resolved). */
async function playing(item: number): Promise<void> {
  const n = sim.sent(rid).length;
  sim.jump(item, { playing: true });
  await reportWhere(sim, rid, (s) => (s.current_queue_item_id ?? 0) === item && s.buffer_state === qconnect.BufferState.OK, { after: n, timeoutMs: 10_000 });
  await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.05, 10_000);
}

/** Item 0 playing, then a jump to `item` whose stream URL the REST stub holds: MPD is still opening it. */
async function jumpHeld(item: number): Promise<{ gate: ReturnType<BridgeHarness['api']['holdFileUrls']>; n: number }> {
  await playing(0);
  const gate = h.api.holdFileUrls();
  const n = sim.sent(rid).length;
  sim.jump(item, { playing: true });
  await gate.arrived;
  return { gate, n };
}

describe('the newest command wins over a slow earlier step (issue #11)', () => {
  it('a stop that arrives while a jump still resolves its stream URL leaves MPD, Qobuz and MQTT stopped', async () => {
    const { gate, n } = await jumpHeld(1);
    sim.stop();
    await reportWhere(sim, rid, (s) => s.playing_state === PS.STOPPED, { after: n });
    gate.release();
    await settled();

    expect((await h.mpd.status()).state).toBe('stop');
    expect(lastReport()?.playing_state).toBe(PS.STOPPED);
    expect((await mqttStateWhere((st) => st.state === 'stopped' || st.state === 'idle')).state).toMatch(/^(stopped|idle)$/);
    // Nothing stale comes later: after the next command round trip, still stopped everywhere.
    sim.setVolume(31);
    await h.mpd.waitForStatus((s) => s.volume === '31', 10_000);
    await settled();
    expect((await h.mpd.status()).state).toBe('stop');
    expect(lastReport()?.playing_state).toBe(PS.STOPPED);
  });

  it('play X, stop, play Y within one slow resolution plays Y', async () => {
    const { gate, n } = await jumpHeld(2);
    sim.stop();
    sim.jump(3, { playing: true });
    await reportWhere(sim, rid, (s) => s.current_queue_item_id === 3 && s.playing_state === PS.PLAYING, { after: n });
    gate.release();
    // MPD holds [2, 3, 4]: item 3 after its previous one (issue #23).
    await h.mpd.waitForStatus((s) => s.state === 'play' && s.song === '1' && Number(s.elapsed) > 0.05, 10_000);
    await settled();
    const song = await h.mpd.command('currentsong');
    expect(song).toMatch(/Pos: 1/);
    expect(lastReport()).toMatchObject({ playing_state: PS.PLAYING, current_queue_item_id: 3 });
    expect(await mqttStateWhere((st) => st.state === 'playing' && (st.queue as { index?: number }).index === 3)).toMatchObject({ state: 'playing', queue: { index: 3 } });
  });

  it('a seek during a track change lands on the new track and never cancels the change', async () => {
    const { gate, n } = await jumpHeld(4);
    sim.seek(5000);
    await reportWhere(sim, rid, (s) => s.current_queue_item_id === 4 && (s.current_position?.value ?? 0) >= 5000, { after: n });
    gate.release();
    const st = await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) >= 5, 10_000);
    expect(Number(st.elapsed)).toBeLessThan(5 + 3); // near the target, not restarted nor far past it
    await settled();
    expect(lastReport()).toMatchObject({ playing_state: PS.PLAYING, current_queue_item_id: 4 });
    expect(await mqttStateWhere((st) => st.state === 'playing' && (st.queue as { index?: number }).index === 4)).toMatchObject({ state: 'playing', queue: { index: 4 } });
  });

  it('a burst of seeks ends at the last target with one MPD seek, not one per message', async () => {
    await playing(0);
    const skippedBefore = h.logs.filter((l) => l.includes('"command":"seek"') && l.includes('skipped')).length;
    const targets = Array.from({ length: 20 }, (_, i) => 1000 + i * 1000);
    const n = sim.sent(rid).length;
    sim.seekBurst(targets);
    await h.mpd.waitForStatus((s) => Number(s.elapsed) >= 20 && s.state === 'play', 10_000);
    await settled();
    const elapsedMs = Number((await h.mpd.status()).elapsed) * 1000;
    expect(elapsedMs).toBeGreaterThanOrEqual(20_000);
    expect(elapsedMs).toBeLessThan(20_000 + 5000);
    // Each seek is answered at once (§5.6), but MPD only seeks to the last one.
    // In order, each within a few ms of its target (the clock runs on between two answers on a
    // loaded machine); a report of the player's own, e.g. buffering over, may interleave.
    const answered = reportsOf(sim, rid, n).map((r) => r.state.current_position?.value ?? -1);
    let at = 0;
    const matched = targets.filter((t) => {
      const found = answered.findIndex((p, i) => i >= at && p >= t && p < t + 250);
      if (found >= 0) at = found + 1;
      return found >= 0;
    });
    expect(matched).toEqual(targets);
    const skipped = h.logs.filter((l) => l.includes('"command":"seek"') && l.includes('skipped')).length - skippedBefore;
    expect(skipped).toBe(targets.length - 1);
  });

  it('a Home Assistant stop racing the app jump it came after wins on MPD, in the report and on MQTT', async () => {
    const { gate, n } = await jumpHeld(5);
    const answer = mqttCommand({ action: 'stop' });
    await reportWhere(sim, rid, (s) => s.playing_state === PS.STOPPED, { after: n });
    gate.release();
    expect(await answer).toEqual({ ok: true });
    await settled();
    expect((await h.mpd.status()).state).toBe('stop');
    expect(lastReport()?.playing_state).toBe(PS.STOPPED);
    expect((await mqttStateWhere((st) => st.state === 'stopped' || st.state === 'idle')).state).toMatch(/^(stopped|idle)$/);
  });

  it('an app play coming after a Home Assistant pause wins on MPD, in the report and on MQTT', async () => {
    const { gate, n } = await jumpHeld(6);
    const answer = mqttCommand({ action: 'pause' });
    const paused = await reportWhere(sim, rid, (s) => s.playing_state === PS.PAUSED && s.current_queue_item_id === 6, { after: n });
    sim.play();
    await reportWhere(sim, rid, (s) => s.playing_state === PS.PLAYING && s.current_queue_item_id === 6, { after: paused.index });
    gate.release();
    expect(await answer).toEqual({ ok: true });
    await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.05, 10_000);
    await settled();
    expect((await h.mpd.status()).state).toBe('play');
    expect(lastReport()).toMatchObject({ playing_state: PS.PLAYING, current_queue_item_id: 6 });
    expect(await mqttStateWhere((st) => st.state === 'playing' && (st.queue as { index?: number }).index === 6)).toMatchObject({ state: 'playing', queue: { index: 6 } });
  });
});
