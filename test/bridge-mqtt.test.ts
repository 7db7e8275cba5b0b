import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import { connectProbe, type MqttProbe } from './support/mosquitto-server.js';
import type { SimSession } from './support/qconnect-service.js';

/**
 * Issue #6: Home Assistant drives the player over MQTT; every change lands on MPD and is
 * reported to Qobuz as if the speaker had changed by itself; state and events flow out.
 */
let h: BridgeHarness;
let probe: MqttProbe;
let sim: SimSession;
let rid: number;
const B = 'qobuz-connect/living_room';

beforeAll(async () => {
  h = await startBridgeHarness({ trackSeconds: [8, 8, 8] });
  probe = await connectProbe(h.mosquitto!.url);
  await probe.subscribe(`${B}/#`);
}, 60_000);
afterAll(async () => {
  await probe?.end();
  await h?.close();
});

const command = (payload: unknown) => probe.command(B, payload);

function stateWhere(pred: (s: Record<string, unknown>) => boolean) {
  return probe.waitFor(
    (m) => m.topic === `${B}/state` && pred(JSON.parse(m.payload) as Record<string, unknown>),
    { timeoutMs: 15_000 },
  );
}

function reportAfter(index: number, pred: (s: qconnect.QueueRendererState.$Properties) => boolean) {
  return sim.waitForMessage(rid, 23, {
    after: index,
    where: (b: { state?: qconnect.QueueRendererState.$Properties }) => !!b.state && pred(b.state),
  });
}

describe('Home Assistant commands over MQTT (issue #6)', () => {
  it('answers play with "no Qobuz session" before the app has connected, changing nothing', async () => {
    expect(await command({ action: 'play' })).toEqual({
      ok: false,
      error: 'no Qobuz session',
      code: 'ERR_NO_SESSION',
    });
    expect((await h.mpd.status()).state).toBe('stop');
  });

  it('publishes state and events as the app plays, and every HA command reaches MPD and Qobuz', async () => {
    ({ sim, rendererId: rid } = await h.connectApp({ loadQueue: true }));
    sim.jump(0, { playing: true });
    await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.1);
    const playingState = await stateWhere((s) => s.state === 'playing' && s.qobuz_session === 'active');
    expect(JSON.parse(playingState.payload)).toMatchObject({
      queue: { length: 3, index: 0 },
      repeat: 'off',
      shuffle: false,
    });
    await probe.waitFor((m) => m.topic === `${B}/event` && JSON.parse(m.payload).type === 'set_state');
    await stateWhere((s) => (s.track as { title?: string } | null)?.title === 'Track 1');

    let n = sim.sent(rid).length - 1;
    expect(await command({ action: 'pause' })).toEqual({ ok: true });
    await h.mpd.waitForStatus((s) => s.state === 'pause');
    await reportAfter(n, (s) => s.playing_state === qconnect.PlayingState.PAUSED);
    await stateWhere((s) => s.state === 'paused');

    n = sim.sent(rid).length - 1;
    expect(await command({ seek_ms: 3000 })).toEqual({ ok: true });
    await h.mpd.waitForStatus((s) => Math.abs(Number(s.elapsed) - 3) < 0.25);
    await reportAfter(n, (s) => Math.abs((s.current_position?.value ?? 0) - 3000) < 250);

    n = sim.sent(rid).length - 1;
    expect(await command({ volume: 30, muted: false })).toEqual({ ok: true });
    await h.mpd.waitForStatus((s) => s.volume === '30');
    await sim.waitForMessage(rid, 25, {
      after: n,
      where: (b: qconnect.RndrSrvrVolumeChanged) => b.volume === 30,
    });

    n = sim.sent(rid).length - 1;
    expect(await command({ action: 'play' })).toEqual({ ok: true });
    await h.mpd.waitForStatus((s) => s.state === 'play');
    await reportAfter(n, (s) => s.playing_state === qconnect.PlayingState.PLAYING);

    n = sim.sent(rid).length - 1;
    expect(await command({ action: 'next' })).toEqual({ ok: true });
    await reportAfter(n, (s) => s.current_queue_item_id === 1);
    await stateWhere((s) => (s.queue as { index: number }).index === 1);
    await h.mpd.waitForStatus((s) => s.state === 'play');

    n = sim.sent(rid).length - 1;
    expect(await command({ muted: true })).toEqual({ ok: true });
    await sim.waitForMessage(rid, 29, {
      after: n,
      where: (b: qconnect.RndrSrvrVolumeMuted) => b.value === true,
    });
    await h.mpd.waitForStatus((s) => s.volume === '0');
    expect(await command({ muted: false })).toEqual({ ok: true });
    await h.mpd.waitForStatus((s) => s.volume === '30');

    expect(await command({ repeat: 'all' })).toEqual({ ok: true });
    await sim.waitFor(() => sim.queue().loop === 'REPEAT_ALL', { what: 'service loop mode' });
    await stateWhere((s) => s.repeat === 'all');
  }, 30_000);

  it('refuses malformed and out-of-range commands without changing anything', async () => {
    const before = await h.mpd.status();
    for (const bad of [{ volume: 150 }, { seek_ms: -1 }, { action: 'dance' }, { volume: '40' }, {}]) {
      const r = await command(bad);
      expect(r.ok).toBe(false);
      expect(typeof r.error).toBe('string');
    }
    const after = await h.mpd.status();
    expect(after.volume).toBe(before.volume);
    expect(after.state).toBe(before.state);
  });
});
