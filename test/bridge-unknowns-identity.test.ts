import { afterEach, describe, expect, it } from 'vitest';
import { messagesOf } from '../src/protocol/frame-codec.js';
import type { qconnect } from '../src/protocol/generated/qconnect.js';
import {
  startBridgeHarness,
  type BridgeHarness,
  type BridgeHarnessOptions,
} from './support/bridge-harness.js';
import { connectProbe, type MqttProbe } from './support/mosquitto-server.js';
import { waitForPlayingTitle } from './support/mpd-title.js';
import { BEHAVIOUR_VALUES, SimRenderer, type SimSession } from './support/qconnect-service.js';

/**
 * Issue #21 part 1 (docs/protocol.md "Unknowns"): what the production service was never seen
 * doing around the player's own identity, each behaviour a switch of the simulated service, each
 * scenario run under every setting, with a real MPD. transfer works whether or not the 90 echoes
 * the 76's action uuid; cloud presence works whether or not a 61 without a session uuid is taken
 * (falling back to the last session seen, one warning, retries on a backoff); and nothing hangs.
 */
const B = 'qobuz-connect/living_room';
const ALBUM = '0060254735180';
const PHONE_UUID = '5d1f0a3e-8c2b-4e6f-9a71-0b2c3d4e5f60';

interface Rig {
  readonly h: BridgeHarness;
  readonly probe: MqttProbe;
  readonly sim: SimSession;
}
const rigs: Rig[] = [];
const phones: SimRenderer[] = [];
afterEach(async () => {
  for (const p of phones.splice(0)) await p.close().catch(() => undefined);
  for (const r of rigs.splice(0)) {
    await r.probe.end();
    await r.h.close();
  }
});

async function startRig(o: BridgeHarnessOptions): Promise<Rig> {
  const h = await startBridgeHarness({ userAuthToken: true, trackSeconds: [12, 12, 12], ...o });
  const probe = await connectProbe(h.mosquitto!.url);
  await probe.subscribe(`${B}/#`);
  h.api.addAlbum({ id: ALBUM, title: 'Morning Jazz', trackIds: h.trackIds });
  const rig = { h, probe, sim: h.service.session(h.service.accountSessionId) };
  rigs.push(rig);
  return rig;
}

function command(r: Rig, payload: unknown): Promise<Record<string, unknown>> {
  return r.probe.command(B, payload, { timeoutMs: 30_000 });
}

async function joinPhone(r: Rig): Promise<SimRenderer> {
  const token = r.h.service.mintAccountToken();
  const phone = await SimRenderer.connect({
    endpoint: token.endpoint,
    jwt: token.jwt,
    sessionId: token.sessionId,
    deviceUuid: PHONE_UUID,
    name: 'Phone',
  });
  phones.push(phone);
  return phone;
}

/** Warning lines (pino level 40) whose message matches. */
const warnings = (h: BridgeHarness, re: RegExp): string[] =>
  h.logs
    .map((l) => JSON.parse(l) as { level: number; msg?: string })
    .filter((l) => l.level === 40 && re.test(l.msg ?? ''))
    .map((l) => l.msg ?? '');

/** The 61s the player sent on every connection so far (refused ones included: they join no renderer). */
function joinsSent(h: BridgeHarness): Array<qconnect.CtrlSrvrJoinSession.$Properties> {
  return h.service
    .connections()
    .flatMap((c) => c.frames)
    .filter((f) => f.type === 'PAYLOAD')
    .flatMap((f) => messagesOf(f.body as qconnect.Payload))
    .flatMap((m) => (m.type === 61 ? [m.body] : []))
    .filter(
      (b) => Buffer.from(b.device_info?.device_uuid ?? []).toString('hex') === h.playerUuid.replace(/-/g, ''),
    );
}

const hex = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('hex');

describe('transfer when the 90 does or does not echo the 76 (issue #21, docs/protocol.md "Unknowns")', () => {
  it.each(BEHAVIOUR_VALUES.echoQueueStateAction)(
    "takes over what the phone plays with echoQueueStateAction = %s: answered ok, MPD plays the phone's item",
    async (echo) => {
      const r = await startRig({ behaviours: { echoQueueStateAction: echo } });
      const rid = await r.sim.waitForRenderer(r.h.playerUuid);
      const phone = await joinPhone(r);
      phone.becomeActive();
      await r.sim.waitFor(() => r.sim.activeRendererId === phone.rendererId, { what: 'the phone active' });
      r.sim.loadQueue(r.h.trackIds);
      r.sim.jump(1, { positionMs: 3000 });
      await r.sim.waitFor(() => r.sim.savedState?.currentQueueItemId === 1, { what: 'the phone reported' });
      const t0 = Date.now();
      const answer = await command(r, { transfer: true });
      expect(answer).toEqual({ ok: true });
      console.log(`transfer (echo ${echo}) → set/result: ${Date.now() - t0} ms`);
      // The 76 named an action uuid; the 90 after it echoed it only when the service does.
      const asked = r.sim.sentOfType(rid, 76).find((m) => (m.body.action_uuid?.length ?? 0) > 0);
      expect(asked).toBeDefined();
      const echoed = r.sim
        .deliveredOfType(rid, 90)
        .some((m) => hex(m.body.action_uuid) === hex(asked?.body.action_uuid));
      expect(echoed).toBe(echo);
      expect(r.sim.activeRendererId).toBe(rid);
      // The stream's own tags may replace ours for a moment as its audio starts: awaited, not read once.
      await waitForPlayingTitle(r.h.mpd, 'Track 2');
    },
    30_000,
  );

  it.each([76, 63])(
    'answers transfer at once with ERR_QOBUZ_REFUSED when the service refuses its %s with a type-1 error',
    async (verb) => {
      const r = await startRig({});
      await r.sim.waitForRenderer(r.h.playerUuid);
      const phone = await joinPhone(r);
      phone.becomeActive();
      await r.sim.waitFor(() => r.sim.activeRendererId === phone.rendererId, { what: 'the phone active' });
      r.sim.loadQueue(r.h.trackIds);
      r.sim.jump(0);
      await r.sim.waitFor(() => r.sim.savedState?.currentQueueItemId === 0, { what: 'the phone reported' });
      // Refused from now on (the phone's own 63 went through).
      r.h.service.behaviours.refuseVerbs = [verb];
      const answer = await command(r, { transfer: true });
      // Refused, not timed out (ERR_TIMEOUT would be the 10 s wait), with the service's text.
      expect(answer).toMatchObject({ ok: false, code: 'ERR_QOBUZ_REFUSED' });
      expect(String(answer.error)).toContain('Action not allowed');
      expect(r.sim.activeRendererId).toBe(phone.rendererId);
      expect((await r.h.mpd.status()).state).toBe('stop');
    },
    30_000,
  );
});

describe('cloud presence when a 61 without a session uuid is taken or refused (issue #21, docs/protocol.md "Unknowns")', () => {
  it.each(BEHAVIOUR_VALUES.joinWithoutSession)(
    'with joinWithoutSession = %s: present or off with one warning, the app still picks it, and presence comes back after the app leaves',
    async (mode) => {
      const r = await startRig({
        behaviours: { joinWithoutSession: mode },
        cloudRetryStepsMs: [200, 400, 800],
      });
      const refusedLine = /refused to join the account's session without a session uuid/;
      if (mode === 'accepted') {
        await r.sim.waitForRenderer(r.h.playerUuid);
        expect(warnings(r.h, refusedLine)).toEqual([]);
      } else {
        // Refused, retried on the backoff (each retry a new link), said once.
        await r.sim.waitFor(() => joinsSent(r.h).length >= 3, {
          timeoutMs: 15_000,
          what: 'three refused joins',
        });
        expect(joinsSent(r.h).every((j) => (j.session_uuid?.length ?? 0) === 0)).toBe(true);
        expect(r.sim.rendererIdOf(r.h.playerUuid)).toBeUndefined();
        expect(warnings(r.h, refusedLine)).toHaveLength(1);
        // A command needing the account's session fails fast and says why.
        const answer = await command(r, { play_media: { type: 'album', id: ALBUM } });
        expect(answer).toMatchObject({ ok: false, code: 'ERR_QOBUZ_REFUSED' });
        expect((await r.h.mpd.status()).state).toBe('stop');
      }
      // The app picks the speaker (its connect names the session): that always works.
      const app = await r.h.connectApp({ sessionId: r.h.service.accountSessionId, loadQueue: true });
      r.sim.jump(0);
      await r.h.mpd.waitForStatus((s) => s.state === 'play');
      // The app's session ends for good; the player joins the account again by itself.
      const joinsBefore = joinsSent(r.h).length;
      r.sim.sendDisconnect(app.rendererId, false);
      await r.sim.waitFor(
        () =>
          joinsSent(r.h).length > joinsBefore &&
          r.sim.renderers().find((x) => x.rendererId === app.rendererId)?.connected,
        { timeoutMs: 15_000, what: 'joined the account again' },
      );
      const rejoin = joinsSent(r.h).at(-1)!;
      // Without a session uuid when the service takes that; else with the last one seen (the app's).
      expect(hex(rejoin.session_uuid)).toBe(
        mode === 'accepted' ? '' : r.h.service.accountSessionId.replace(/-/g, ''),
      );
      await r.probe.waitFor(
        (m) =>
          m.topic === `${B}/state` &&
          (JSON.parse(m.payload) as { qobuz_session: string }).qobuz_session === 'connected',
        { from: r.probe.messages.length - 1, timeoutMs: 10_000 },
      );
      expect(warnings(r.h, refusedLine)).toHaveLength(mode === 'accepted' ? 0 : 1);
    },
    60_000,
  );
});
