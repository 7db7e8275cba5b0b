import { afterEach, describe, expect, it } from 'vitest';
import { qconnect } from '../../src/protocol/generated/qconnect.js';
import { startBridgeHarness, type BridgeHarness } from '../support/bridge-harness.js';
import { connectProbe, type MqttProbe } from '../support/mosquitto-server.js';
import { SimRenderer, type SimSession } from '../support/qconnect-service.js';

/**
 * Issue #21, the newest intent wins: a `play` from Home Assistant on a player another Qobuz device
 * plays on asks the service to make it active (63); a `pause` or `stop` sent before the service
 * answers (43) is the newer intent. It is answered ok, and the activation that follows takes over
 * the other device's item without playing it: the speaker stays silent, and Qobuz hears PAUSED
 * (STOPPED). The simulated service holds every frame it sends for a while, so the 43 comes late.
 */
const B = 'qobuz-connect/living_room';
const State = qconnect.PlayingState;

interface Rig {
  readonly h: BridgeHarness;
  readonly probe: MqttProbe;
  readonly sim: SimSession;
  readonly rid: number;
  readonly phone: SimRenderer;
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.phone.close();
    await r.probe.end();
    await r.h.close();
  }
});

/** Our player joined and paused on item 0; a phone active and playing item 1. */
async function phonePlays(userAuthToken: boolean): Promise<Rig> {
  const h = await startBridgeHarness({ trackSeconds: [30, 35], userAuthToken });
  const probe = await connectProbe(h.mosquitto!.url);
  await probe.subscribe(`${B}/#`);
  const { sim, rendererId: rid } = await h.connectApp({ loadQueue: true });
  const phone = await SimRenderer.phone(h.service.issueToken({ sessionId: sim.sessionId }));
  const rig = { h, probe, sim, rid, phone };
  rigs.push(rig);
  const player = h.bridge.player('living_room')!;
  await sim.waitFor(() => player.session.view().qobuzSession === 'active', {
    what: 'our renderer active',
    timeoutMs: 15_000,
  });
  sim.jump(0, { playing: true });
  await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.2, 15_000);
  sim.pickRenderer(phone.rendererId, { withSetState: true });
  sim.jump(1, { playing: true });
  // Our peers' view: the phone plays item 1 (its 23, broadcast as 82).
  const phoneState = () => sim.renderers().find((x) => x.rendererId === phone.rendererId)?.lastState;
  await sim.waitFor(
    () => phoneState()?.playingState === State.PLAYING && phoneState()?.currentQueueItemId === 1,
    {
      what: 'the phone playing item 1',
      timeoutMs: 15_000,
    },
  );
  await player.idle();
  expect(player.session.view().qobuzSession).not.toBe('active');
  expect((await h.mpd.status()).state).not.toBe('play');
  return rig;
}

/** Publishes a command; resolves once it left, with its answer to come (an async function would flatten it). */
async function publish(
  r: Rig,
  command: Record<string, unknown>,
): Promise<{ answer: Promise<Record<string, unknown>> }> {
  const from = r.probe.messages.length;
  const id = String(command.action);
  await r.probe.publish(`${B}/set`, JSON.stringify({ ...command, id }));
  const answer = r.probe
    .waitFor((m) => m.topic === `${B}/set/result` && (JSON.parse(m.payload) as { id?: string }).id === id, {
      from,
      timeoutMs: 30_000,
    })
    .then((m) => JSON.parse(m.payload) as Record<string, unknown>);
  return { answer };
}

describe('a pause or stop while our play waits for the service to make us active (issue #21)', () => {
  it.each([
    { identity: false, action: 'pause', mpd: 'pause', mqtt: 'paused', qobuz: State.PAUSED },
    { identity: false, action: 'stop', mpd: 'stop', mqtt: 'stopped', qobuz: State.STOPPED },
    { identity: true, action: 'pause', mpd: 'pause', mqtt: 'paused', qobuz: State.PAUSED },
  ] as const)(
    'own identity $identity: $action wins over the play, the activation takes over silent and Qobuz hears it',
    async ({ identity, action, mpd, mqtt, qobuz }) => {
      const r = await phonePlays(identity);
      const { sim, rid, h } = r;
      const sent = sim.sent(rid).length;
      // Every frame the service sends waits 2 s: the 43 that makes us active comes late.
      sim.setAnswerDelay(2_000);
      const play = await publish(r, { action: 'play' });
      await sim.waitFor(
        () =>
          sim
            .sent(rid)
            .slice(sent)
            .some((m) => m.type === 63),
        {
          what: 'our 63',
          timeoutMs: 15_000,
        },
      );
      // The service has made us active, but its 43 is still on its way.
      expect(h.bridge.player('living_room')!.session.view().qobuzSession).not.toBe('active');
      const silence = await publish(r, { action });
      expect(await silence.answer).toMatchObject({ ok: true });
      // The play was ok (asked for playback) or, as a transfer still waiting, superseded.
      expect(await play.answer).toMatchObject(
        identity ? { ok: false, code: 'ERR_SUPERSEDED' } : { ok: true },
      );

      // The service makes us active; we report the phone's item, never PLAYING, and the speaker stays silent.
      const reports = () =>
        sim
          .sent(rid)
          .slice(sent)
          .filter((m) => m.type === 23)
          .map(
            (m) =>
              (m.body as { state?: { playing_state?: number; current_queue_item_id?: number } }).state ?? {},
          );
      await sim.waitFor(
        () => reports().some((s) => s.playing_state === qobuz && s.current_queue_item_id === 1),
        {
          what: `our renderer active and reporting ${mqtt} on the phone's item`,
          timeoutMs: 20_000,
        },
      );
      const player = h.bridge.player('living_room')!;
      await player.idle();
      sim.setAnswerDelay(0);
      expect(reports().filter((s) => s.playing_state === State.PLAYING)).toEqual([]);
      expect(player.session.view()).toMatchObject({
        state: mqtt,
        qobuzSession: 'active',
        queue: { index: 1 },
      });
      // Taken over paused, the phone's track is loaded but not started: MPD says stop or pause, never play
      // (docs/architecture.md: a song loaded but never started is stopped in MPD and reported paused).
      expect(mpd === 'pause' ? ['pause', 'stop'] : ['stop']).toContain((await h.mpd.status()).state);

      // A later play is an ordinary one: it plays where the phone was.
      expect(await (await publish(r, { action: 'play' })).answer).toMatchObject({ ok: true });
      await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.2, 15_000);
      expect((await h.mpd.songs('currentsong'))[0]?.Title).toEqual(['Track 2']);
      await sim.waitFor(
        () => sim.renderers().find((x) => x.rendererId === rid)?.lastState?.playingState === State.PLAYING,
        { what: 'Qobuz hears the play', timeoutMs: 15_000 },
      );
    },
    90_000,
  );
});
