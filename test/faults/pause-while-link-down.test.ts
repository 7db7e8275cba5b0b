import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qconnect } from '../../src/protocol/generated/qconnect.js';
import { startBridgeHarness, type BridgeHarness } from '../support/bridge-harness.js';
import { connectProbe, type MqttProbe } from '../support/mosquitto-server.js';
import { SimRenderer, type SimSession } from '../support/qconnect-service.js';

/**
 * Issue #21 (found by the chaos soak, bench/chaos.ts): a pause, stop or seek from Home Assistant while the
 * player's Qobuz link is down and reconnecting, the player having been the active renderer when it
 * dropped and MPD still on our item. The speaker pauses (stops, seeks) at once and the command is
 * answered ok; the rejoin takes playback back as it stands, so Qobuz hears the paused (stopped)
 * state or the new position in the rejoin's report and the speaker is not resumed (docs/protocol.md §5.12). The
 * simulated service refuses every reconnect (HTTP 503) until the test lets the link back in.
 */
const B = 'qobuz-connect/living_room';
const State = qconnect.PlayingState;

let h: BridgeHarness;
let probe: MqttProbe;
let sim: SimSession;
let rid: number;

beforeAll(async () => {
  h = await startBridgeHarness({ trackSeconds: [30, 35] });
  probe = await connectProbe(h.mosquitto!.url);
  await probe.subscribe(`${B}/#`);
  ({ sim, rendererId: rid } = await h.connectApp({ loadQueue: true }));
}, 60_000);
afterAll(async () => {
  sim?.rejectConnections(false);
  await probe?.end();
  await h?.close();
});

function command(payload: unknown): Promise<Record<string, unknown>> {
  return probe.command(B, payload, { timeoutMs: 30_000 });
}

type StateView = { state: string; qobuz_session: string };
async function stateWhere(pred: (s: StateView) => boolean, from: number): Promise<void> {
  await probe.waitFor((m) => m.topic === `${B}/state` && pred(JSON.parse(m.payload) as StateView), {
    from,
    timeoutMs: 15_000,
  });
}

const ours = () => sim.renderers().find((r) => r.rendererId === rid);

/** Our renderer joined, active and playing item 0 on MPD. */
async function playingHere(): Promise<void> {
  sim.rejectConnections(false);
  await sim.waitFor(() => ours()?.connected, { what: 'our renderer connected', timeoutMs: 15_000 });
  if (sim.activeRendererId !== rid) sim.pickRenderer(rid);
  await sim.waitFor(
    () =>
      sim.activeRendererId === rid &&
      h.bridge.player('living_room')?.session.view().qobuzSession === 'active',
    { what: 'our renderer active', timeoutMs: 15_000 },
  );
  sim.jump(0, { playing: true });
  await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.2, 10_000);
}

/** The link dropped, and every reconnect refused until `rejoin`. */
async function dropLink(): Promise<void> {
  sim.rejectConnections(true);
  const from = probe.messages.length;
  sim.dropConnection(rid);
  await stateWhere((s) => s.qobuz_session === 'disconnected', from);
}

/** Lets the link back in; resolves with our renderer's reports from the rejoin on, once it is active again and has reported. */
async function rejoin(expected: number): Promise<void> {
  const joins = ours()?.joins ?? 0;
  const sent = sim.sent(rid).length;
  sim.rejectConnections(false);
  await sim.waitFor(
    () => {
      const r = ours();
      return (
        r?.connected &&
        r.joins > joins &&
        sim.activeRendererId === rid &&
        sim
          .sent(rid)
          .slice(sent)
          .some((m) => m.type === 63) &&
        r.lastState?.playingState === expected &&
        sim
          .sent(rid)
          .slice(sent)
          .some((m) => m.type === 23)
      );
    },
    { what: 'our renderer rejoined, active again, and reporting', timeoutMs: 20_000 },
  );
  // What Qobuz heard after the rejoin: never playing.
  const reports = sim
    .sent(rid)
    .slice(sent)
    .filter((m) => m.type === 23);
  for (const m of reports) {
    const s = (m.body as { state?: { playing_state?: number } }).state;
    expect(s?.playing_state ?? expected).toBe(expected);
  }
  await h.bridge.player('living_room')!.idle();
}

describe('a pause or stop while the Qobuz link is down and reconnecting (issue #21, chaos soak)', () => {
  it.each([
    { action: 'pause', mpd: 'pause', mqtt: 'paused', qobuz: State.PAUSED },
    { action: 'toggle', mpd: 'pause', mqtt: 'paused', qobuz: State.PAUSED },
    { action: 'stop', mpd: 'stop', mqtt: 'stopped', qobuz: State.STOPPED },
  ] as const)(
    'applies $action to the speaker at once, and Qobuz hears it when the link rejoins, without the rejoin resuming',
    async ({ action, mpd, mqtt, qobuz }) => {
      await playingHere();
      await dropLink();
      const from = probe.messages.length;
      expect(await command({ action })).toEqual({ ok: true });
      await h.mpd.waitForStatus((s) => s.state === mpd, 10_000);
      await stateWhere((s) => s.state === mqtt && s.qobuz_session === 'disconnected', from);

      await rejoin(qobuz);
      expect((await h.mpd.status()).state).toBe(mpd);
      expect(h.bridge.player('living_room')!.session.view().state).toBe(mqtt);

      // A later play is an ordinary one.
      expect(await command({ action: 'play' })).toEqual({ ok: true });
      await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.2, 10_000);
      await sim.waitFor(() => ours()?.lastState?.playingState === State.PLAYING, {
        what: 'Qobuz hears the play',
        timeoutMs: 10_000,
      });
    },
    60_000,
  );

  it('applies a seek to the speaker at once, and Qobuz hears the new position when the link rejoins, still playing', async () => {
    await playingHere();
    await dropLink();
    expect(await command({ seek_ms: 20_000 })).toEqual({ ok: true });
    await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) >= 20, 10_000);

    await rejoin(State.PLAYING);
    // The rejoin's report carries the position the speaker was moved to (a seek back to ~0 would be below 19 s).
    const report = ours()?.lastState;
    expect(report?.positionMs ?? 0).toBeGreaterThanOrEqual(19_000);
    const status = await h.mpd.status();
    expect(status.state).toBe('play');
    expect(Number(status.elapsed)).toBeGreaterThanOrEqual(19.5);
  }, 60_000);

  it('still refuses a pause on a player that is not, and was not, the active renderer', async () => {
    await playingHere();
    const phone = await SimRenderer.phone(h.service.issueToken({ sessionId: sim.sessionId }));
    try {
      sim.pickRenderer(phone.rendererId, { withSetState: true });
      await h.mpd.waitForStatus((s) => s.state === 'pause', 10_000);
      await h.bridge.player('living_room')!.idle();
      // Joined, another renderer active.
      expect(await command({ action: 'pause' })).toMatchObject({ ok: false, code: 'ERR_NOT_ACTIVE' });
      // Link down, and we were not the active renderer when it dropped.
      await dropLink();
      const sent = sim.sent(rid).length;
      expect(await command({ action: 'pause' })).toMatchObject({ ok: false, code: 'ERR_NO_SESSION' });
      expect(await command({ seek_ms: 5_000 })).toMatchObject({ ok: false, code: 'ERR_NO_SESSION' });
      expect(await command({ action: 'stop' })).toMatchObject({ ok: false, code: 'ERR_NO_SESSION' });
      expect((await h.mpd.status()).state).toBe('pause');
      sim.rejectConnections(false);
      // The join's questions (77 …) leave in one batch with the 63 a rejoin that takes playback would send.
      await sim.waitFor(
        () =>
          ours()?.connected &&
          sim
            .sent(rid)
            .slice(sent)
            .some((m) => m.type === 77),
        {
          what: 'our renderer back and asking where the active renderer is',
          timeoutMs: 20_000,
        },
      );
      // Back in the session, it did not take playback: the phone stays active, the speaker paused.
      expect(sim.activeRendererId).toBe(phone.rendererId);
      expect((await h.mpd.status()).state).toBe('pause');
      expect(
        sim
          .sent(rid)
          .slice(sent)
          .some((m) => m.type === 63),
      ).toBe(false);
    } finally {
      await phone.close();
    }
  }, 60_000);
});
