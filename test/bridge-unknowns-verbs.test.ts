import { afterEach, describe, expect, it } from 'vitest';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import { connectProbe, type MqttProbe } from './support/mosquitto-server.js';
import { waitForPlayingTitle } from './support/mpd-title.js';
import { BEHAVIOUR_VALUES, type SimSession } from './support/qconnect-service.js';

/**
 * Issue #21 part 1 (docs/protocol.md "Unknowns"): the service may refuse a controller verb with a
 * type-1 error, which names no verb. Whatever verb waits is then answered at once with
 * ERR_QOBUZ_REFUSED and the service's text: never the 10 s ERR_TIMEOUT. And the same verb, once the
 * service takes it, works as before. Run on the app's link, with a real MPD playing.
 */
const B = 'qobuz-connect/living_room';
const ALBUM = '0060254728578';

interface Rig {
  readonly h: BridgeHarness;
  readonly probe: MqttProbe;
  readonly sim: SimSession;
  readonly rid: number;
}
const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.probe.end();
    await r.h.close();
  }
});

/** The app picked the speaker and it plays Track 1 (queue item 0) of three. */
async function playingRig(): Promise<Rig> {
  const h = await startBridgeHarness({ trackSeconds: [12, 12, 12] });
  const probe = await connectProbe(h.mosquitto!.url);
  await probe.subscribe(`${B}/#`);
  h.api.addAlbum({ id: ALBUM, title: 'Morning Jazz', trackIds: [h.trackIds[2]!, h.trackIds[1]!] });
  const { sim, rendererId: rid } = await h.connectApp({ loadQueue: true });
  const r = { h, probe, sim, rid };
  rigs.push(r);
  sim.jump(0);
  await playsTitle(r, 'Track 1');
  return r;
}

const command = (r: Rig, payload: unknown) => r.probe.command(B, payload, { timeoutMs: 30_000 });

const playsTitle = (r: Rig, title: string) => waitForPlayingTitle(r.h.mpd, title);

const VERBS: Array<{ type: number; payload: Record<string, unknown>; applied: (r: Rig) => Promise<void> }> = [
  { type: 62, payload: { play_item: 1 }, applied: (r) => playsTitle(r, 'Track 2') },
  {
    type: 65,
    payload: { queue_clear: true },
    applied: async (r) => {
      expect(r.sim.queue().items).toEqual([]);
      await r.h.mpd.waitForStatus((s) => s.state === 'stop', 10_000);
    },
  },
  {
    type: 68,
    payload: { queue_add: { type: 'album', id: ALBUM } },
    applied: async (r) => expect(r.sim.queue().items).toHaveLength(5),
  },
  {
    type: 67,
    payload: { queue_add: { type: 'album', id: ALBUM, next: true } },
    applied: async (r) =>
      expect(
        r.sim
          .queue()
          .items.slice(0, 3)
          .map((i) => i.trackId),
      ).toEqual([r.h.trackIds[0], r.h.trackIds[2], r.h.trackIds[1]]),
  },
  {
    type: 66,
    payload: { play_media: { type: 'album', id: ALBUM } },
    applied: (r) => playsTitle(r, 'Track 3'),
  },
];

describe('a controller verb refused with a type-1 error is answered at once (issue #21, docs/protocol.md "Unknowns")', () => {
  it.each(VERBS)(
    'refuses verb $type with ERR_QOBUZ_REFUSED while the service refuses it, changing nothing; applies it once the service takes it',
    async ({ type, payload, applied }) => {
      const r = await playingRig();
      const queueBefore = r.sim.queue();
      r.h.service.behaviours.refuseVerbs = [type];
      const t0 = Date.now();
      const refused = await command(r, payload);
      console.log(`verb ${type} refused → set/result: ${Date.now() - t0} ms`);
      // ERR_QOBUZ_REFUSED with the service's own words, not ERR_TIMEOUT after 10 s.
      expect(refused).toMatchObject({ ok: false, code: 'ERR_QOBUZ_REFUSED' });
      expect(String(refused.error)).toContain('Action not allowed');
      expect(r.sim.queue()).toEqual(queueBefore);
      await playsTitle(r, 'Track 1');
      r.h.service.behaviours.refuseVerbs = [];
      expect(await command(r, payload)).toEqual({ ok: true });
      await applied(r);
    },
    60_000,
  );
});

describe('play_item on an autoplay suggestion, taken or refused (issue #21, docs/protocol.md "Unknowns")', () => {
  it.each(BEHAVIOUR_VALUES.playAutoplayItem)(
    'with playAutoplayItem = %s: the suggestion plays, or the command is refused at once and Track 1 plays on',
    async (mode) => {
      const r = await playingRig();
      r.h.service.behaviours.playAutoplayItem = mode;
      r.sim.setLoop('OFF');
      r.sim.setAutoplay(true);
      const [suggestion] = r.sim.loadAutoplay([r.h.trackIds[2]!]) as [number];
      // The mirror holds the suggestion before the command names it.
      await r.probe.waitFor((m) => m.topic === `${B}/event` && m.payload.includes('autoplay_changed'), {
        timeoutMs: 10_000,
      });
      const answer = await command(r, { play_item: suggestion });
      if (mode === 'accepted') {
        expect(answer).toEqual({ ok: true });
        await playsTitle(r, 'Track 3');
      } else {
        expect(answer).toMatchObject({ ok: false, code: 'ERR_QOBUZ_REFUSED' });
        expect(String(answer.error)).toContain('Current track not found in queue nor autoplay');
        await playsTitle(r, 'Track 1');
      }
    },
    60_000,
  );
});
