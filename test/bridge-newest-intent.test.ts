import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import { connectProbe, type MqttProbe } from './support/mosquitto-server.js';
import type { SimSession } from './support/qconnect-service.js';

/**
 * Issue #22: the newest intent wins across MQTT commands (docs/architecture.md "The newest intent
 * wins"). The MQTT adapter hands every command to the player at once and only keeps the answers in
 * order; a transport command supersedes a play_media still waiting, which is answered ERR_SUPERSEDED,
 * and nothing it started plays afterwards. Run beside two busy loops, as on a loaded small board.
 */
const B = 'qobuz-connect/living_room';

interface Rig {
  readonly h: BridgeHarness;
  readonly probe: MqttProbe;
  readonly sim: SimSession;
  readonly rid: number;
}

const rigs: Rig[] = [];
const spinners: ChildProcess[] = [];
afterEach(async () => {
  for (const s of spinners.splice(0)) s.kill('SIGKILL');
  for (const r of rigs.splice(0)) {
    await r.probe.end();
    await r.h.close();
  }
});

/** Two processes that keep both cores busy for the test's length. */
function busyLoops(): void {
  for (let i = 0; i < 2; i += 1) spinners.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

async function startRig(): Promise<Rig> {
  const h = await startBridgeHarness({ userAuthToken: true, trackSeconds: [30, 30, 30] });
  const probe = await connectProbe(h.mosquitto!.url);
  await probe.subscribe(`${B}/#`);
  h.api.addAlbum({ id: '0060254735180', title: 'Morning Jazz', trackIds: h.trackIds });
  h.api.addAlbum({ id: '0060254735181', title: 'Evening Jazz', trackIds: [...h.trackIds].reverse() });
  const sim = h.service.session(h.service.accountSessionId);
  const rid = await sim.waitForRenderer(h.playerUuid);
  const rig = { h, probe, sim, rid };
  rigs.push(rig);
  await probe.waitFor((m) => m.topic === `${B}/state` && (JSON.parse(m.payload) as { qobuz_session?: string }).qobuz_session === 'connected', { timeoutMs: 15_000 });
  return rig;
}

/** Publishes a command with an id; resolves with its answer and how long it took. */
async function send(r: Rig, id: string, command: Record<string, unknown>): Promise<{ answer: Record<string, unknown>; ms: number }> {
  const from = r.probe.messages.length;
  const started = performance.now();
  await r.probe.publish(`${B}/set`, JSON.stringify({ ...command, id }));
  const m = await r.probe.waitFor(
    (x) => x.topic === `${B}/set/result` && (JSON.parse(x.payload) as { id?: string }).id === id,
    { from, timeoutMs: 60_000 },
  );
  return { answer: JSON.parse(m.payload) as Record<string, unknown>, ms: performance.now() - started };
}

function lastState(r: Rig): Record<string, unknown> {
  const m = r.probe.messages.filter((x) => x.topic === `${B}/state`).at(-1);
  return m ? (JSON.parse(m.payload) as Record<string, unknown>) : {};
}

function lastReport(r: Rig): qconnect.QueueRendererState.$Properties | undefined {
  return r.sim.sentOfType(r.rid, 23).at(-1)?.body.state ?? undefined;
}

describe('the newest intent wins across MQTT commands (issue #22)', () => {
  it('a pause sent while a play_media waits for its stream URL is answered at once, and the speaker ends paused everywhere', async () => {
    const r = await startRig();
    busyLoops();
    const gate = r.h.api.holdFileUrls();
    const playing = send(r, 'album', { play_media: { type: 'album', id: '0060254735180' } });
    // The album is loaded and asked to play; its stream URL is still resolving (held by the stub).
    await gate.arrived;
    const pause = await send(r, 'pause', { action: 'pause' });
    const superseded = await playing;
    console.log(`pause answered in ${Math.round(pause.ms)} ms beside two busy loops`);
    expect(pause.answer).toMatchObject({ ok: true });
    expect(pause.ms).toBeLessThan(1500);
    expect(superseded.answer).toMatchObject({ ok: false, code: 'ERR_SUPERSEDED' });

    // The stream URL comes now; nothing the play_media started may play.
    gate.release();
    await vi.waitFor(() => expect(r.h.api.requestsTo('track/getFileUrl').every((q) => q.status !== 0)).toBe(true), {
      timeout: 10_000,
    });
    // A round trip through the same command path: everything before it has been applied and reported.
    const from = r.probe.messages.length;
    expect((await send(r, 'volume', { volume: 31 })).answer).toMatchObject({ ok: true });
    await r.h.mpd.waitForStatus((s) => s.volume === '31', 10_000);
    await r.probe.waitFor((m) => m.topic === `${B}/state` && (JSON.parse(m.payload) as { volume?: number }).volume === 31, { from, timeoutMs: 10_000 });
    expect((await r.h.mpd.status()).state).not.toBe('play');
    expect(lastReport(r)?.playing_state).not.toBe(qconnect.PlayingState.PLAYING);
    expect(lastState(r).state).not.toBe('playing');
  }, 90_000);

  it('a second play_media supersedes the first: the first is answered ERR_SUPERSEDED, the second album plays', async () => {
    const r = await startRig();
    busyLoops();
    const gate = r.h.api.holdFileUrls();
    const first = send(r, 'first', { play_media: { type: 'album', id: '0060254735180' } });
    await gate.arrived;
    gate.release();
    const second = await send(r, 'second', { play_media: { type: 'album', id: '0060254735181' } });
    expect((await first).answer).toMatchObject({ ok: false, code: 'ERR_SUPERSEDED' });
    expect(second.answer).toMatchObject({ ok: true });
    const status = await r.h.mpd.waitForStatus((s) => s.state === 'play', 10_000);
    expect(status.state).toBe('play');
    // The service's queue is the second album, and it plays its first track.
    expect(r.sim.queue().items.map((i) => i.trackId)).toEqual([...r.h.trackIds].reverse());
    await r.probe.waitFor((m) => m.topic === `${B}/state` && (JSON.parse(m.payload) as { state?: string }).state === 'playing', { timeoutMs: 10_000 });
  }, 90_000);
});
