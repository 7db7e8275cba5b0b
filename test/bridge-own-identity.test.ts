import { afterEach, describe, expect, it } from 'vitest';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import {
  startBridgeHarness,
  type BridgeHarness,
  type BridgeHarnessOptions,
} from './support/bridge-harness.js';
import { connectProbe, type MqttProbe } from './support/mosquitto-server.js';
import { waitForPlayingTitle } from './support/mpd-title.js';
import { SimRenderer, type SimSession } from './support/qconnect-service.js';

/**
 * Issue #15 (README "Own Qobuz identity"): with a user token each player mints its own WebSocket
 * token, joins the account's session at start without taking playback, and plays albums,
 * playlists and tracks from Home Assistant as a controller on its own link — with MPD, the
 * simulated Qobuz service (and an "app" in it) and MQTT agreeing at each step.
 */
const B = 'qobuz-connect/living_room';
const PHONE_UUID = '5d1f0a3e-8c2b-4e6f-9a71-0b2c3d4e5f60';

interface Rig {
  readonly h: BridgeHarness;
  readonly probe: MqttProbe;
  readonly sim: SimSession;
  /** Our renderer id in the account's session, once joined. */
  readonly rid: number;
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

async function startRig(o: BridgeHarnessOptions = {}): Promise<Rig> {
  const h = await startBridgeHarness({ userAuthToken: true, trackSeconds: [12, 12, 12], ...o });
  const probe = await connectProbe(h.mosquitto!.url);
  await probe.subscribe(`${B}/#`);
  h.api.addAlbum({ id: '0060254735180', title: 'Morning Jazz', trackIds: h.trackIds });
  const sim = h.service.session(h.service.accountSessionId);
  const rid = await sim.waitForRenderer(h.playerUuid);
  const rig = { h, probe, sim, rid };
  rigs.push(rig);
  return rig;
}

function command(r: Rig, payload: unknown): Promise<Record<string, unknown>> {
  return r.probe.command(B, payload, { timeoutMs: 30_000 });
}

function lastState(r: Rig): Record<string, unknown> | undefined {
  const m = r.probe.messages.filter((x) => x.topic === `${B}/state`).at(-1);
  return m ? (JSON.parse(m.payload) as Record<string, unknown>) : undefined;
}

function stateWhere(r: Rig, pred: (s: Record<string, unknown>) => boolean) {
  return r.probe.waitFor(
    (m) => m.topic === `${B}/state` && pred(JSON.parse(m.payload) as Record<string, unknown>),
    { timeoutMs: 10_000 },
  );
}

function eventTypes(r: Rig): string[] {
  return r.probe.messages
    .filter((m) => m.topic === `${B}/event`)
    .map((m) => (JSON.parse(m.payload) as { type: string }).type);
}

/** A phone of the same account, joined as the official app joins (61): it sees what the service broadcasts. */
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

describe("the bridge's own Qobuz identity (issue #15)", () => {
  it('joins the account at start with a minted token, in the background, without taking playback', async () => {
    const r = await startRig();
    await stateWhere(r, (s) => s.qobuz_session === 'connected');
    // 61 without a session uuid (the token names the account), then 76 / 77; never 63, never 21.
    const sent = r.sim.sentTypes(r.rid);
    expect(sent[0]).toBe(61);
    expect(sent).not.toContain(63);
    expect(sent).not.toContain(21);
    const join = r.sim.sentOfType(r.rid, 61)[0]!.body as qconnect.CtrlSrvrJoinSession.$Properties;
    expect(join.session_uuid?.length ?? 0).toBe(0);
    expect(join.device_info?.friendly_name).toBe(r.h.config.players[0]!.name);
    expect(r.sim.activeRendererId).toBe(-1);
    expect(r.h.minted).toHaveLength(1);
    expect(r.h.api.requestsTo('qws/createToken').map((q) => [q.auth, q.status])).toEqual([
      ['user_auth_token', 200],
    ]);
    expect((await r.h.mpd.status()).state).toBe('stop');
    expect(lastState(r)).toMatchObject({ state: 'idle', qobuz_session: 'connected' });
    // get-connect-info names the account's session, learned from the service (81).
    const info = (await (
      await fetch(`http://127.0.0.1:${r.h.bridge.httpPort}/devices/${r.h.playerUuid}/get-connect-info`)
    ).json()) as {
      current_session_id: string;
    };
    expect(info.current_session_id).toBe(r.h.service.accountSessionId);
    // The minted token never reaches a log line.
    expect(r.h.logs.join('\n')).not.toContain(r.h.minted[0]!.jwt);
  }, 30_000);

  it('replaces its own link when the app picks it: the app\'s link joins first (make before break), then one link is left', async () => {
    const r = await startRig();
    const before = r.h.service.connections().filter((c) => c.rendererId === r.rid);
    expect(before).toHaveLength(1);
    const app = await r.h.connectApp({ sessionId: r.h.service.accountSessionId, loadQueue: true });
    expect(app.sim).toBe(r.sim);
    expect(app.rendererId).toBe(r.rid);
    await r.sim.waitFor(() => before[0]!.phase === 'closed', { what: 'the cloud link closed' });
    const ours = r.h.service.connections().filter((c) => c.rendererId === r.rid);
    expect(ours).toHaveLength(2);
    // Issue #26: the cloud link ends once the app's joined (the service replaces it, or the bridge closes it).
    expect([1000, 4000]).toContain(before[0]!.closeCode);
    expect(ours.filter((c) => c.phase !== 'closed')).toHaveLength(1);
    // The app's connect took playback as usual.
    r.sim.jump(0);
    await r.h.mpd.waitForStatus((s) => s.state === 'play');
    expect(r.sim.activeRendererId).toBe(r.rid);
  }, 30_000);

  it('plays an album from Home Assistant: MPD plays its first track, the app sees the queue', async () => {
    const r = await startRig();
    const phone = await joinPhone(r);
    const fromPhone = phone.received().length;
    const t0 = Date.now();
    const answer = command(r, { play_media: { type: 'album', id: '0060254735180' }, id: 'kitchen-7am' });
    const status = await r.h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0, 10_000);
    const playingAfterMs = Date.now() - t0;
    expect(await answer).toEqual({ ok: true, id: 'kitchen-7am' });
    const answeredAfterMs = Date.now() - t0;
    console.log(`play_media → MPD playing: ${playingAfterMs} ms; → set/result: ${answeredAfterMs} ms`);
    // The time is printed, not asserted (a loaded 2-core machine took 2.1 s once, 130-225 ms alone):
    // the generous deadline is waitForStatus's 10 s above.
    expect(status.song).toBe('0');
    // Qobuz: the queue is the album's, we are the active renderer, playing its first item.
    expect(r.sim.queue().items.map((i) => i.trackId)).toEqual(r.h.trackIds);
    expect(r.sim.activeRendererId).toBe(r.rid);
    const loaded = await phone.waitForMessage(91, { after: fromPhone });
    expect(loaded.tracks?.map((t) => t.track_id)).toEqual(r.h.trackIds);
    expect(phone.bodies(86, fromPhone).at(-1)?.active_renderer_id).toBe(r.rid);
    await r.sim.waitFor(() => r.sim.savedState?.playingState === qconnect.PlayingState.PLAYING, {
      what: 'playing reported',
    });
    expect(r.sim.savedState?.currentQueueItemId).toBe(0);
    // What we sent, in order: the load (66, fresh context), 63 naming us, 62 PLAYING at item 0.
    const verbs = r.sim.sent(r.rid).filter((m) => [62, 63, 66].includes(m.type));
    expect(verbs.map((m) => m.type)).toEqual([66, 63, 62]);
    const load = verbs[0]!.body as qconnect.CtrlSrvrQueueLoadTracks.$Properties;
    expect(load.track_ids).toEqual(r.h.trackIds);
    expect(load.context_uuid?.length).toBe(16);
    expect((verbs[1]!.body as { renderer_id?: number }).renderer_id).toBe(r.rid);
    expect(verbs[2]!.body).toMatchObject({ playing_state: qconnect.PlayingState.PLAYING });
    // MQTT agrees, and the session event fired for Home Assistant's event entity.
    await stateWhere(
      r,
      (s) =>
        s.state === 'playing' &&
        s.qobuz_session === 'active' &&
        (s.track as { title?: string } | null)?.title === 'Track 1',
    );
    expect(eventTypes(r)).toContain('session_started');
  }, 30_000);

  it('transfers what a playing phone plays: the phone stops, MPD plays at its position', async () => {
    const r = await startRig();
    const phone = await joinPhone(r);
    phone.becomeActive();
    await r.sim.waitFor(() => r.sim.activeRendererId === phone.rendererId, { what: 'the phone active' });
    r.sim.loadQueue(r.h.trackIds);
    r.sim.jump(1, { positionMs: 3000 });
    await phone.waitFor(() => phone.state.playing === 'PLAYING' && phone.state.queueItemId === 1, {
      what: 'the phone playing',
    });
    // Our mirror hears the phone's reports (82) before the command.
    await r.sim.waitFor(() => r.sim.savedState?.currentQueueItemId === 1, { what: 'the phone reported' });
    const t0 = Date.now();
    const answer = await command(r, { transfer: true });
    expect(answer).toEqual({ ok: true });
    console.log(`transfer → set/result (MPD playing): ${Date.now() - t0} ms`);
    const phoneAt = phone.positionNow();
    expect(phone.active).toBe(false);
    expect(phone.state.playing).toBe('PAUSED');
    expect(r.sim.activeRendererId).toBe(r.rid);
    const status = await r.h.mpd.waitForStatus(
      (s) => s.state === 'play' && s.song === '1' && Number(s.elapsed) > 0,
    );
    // MPD holds one window around the taken-over item, Track 2 (id 5001), after its previous one
    // (issue #23), near where the phone was.
    // The stream's own tags may replace ours for a moment as its audio starts (until the bridge puts
    // them back, src/mpd/mpd-queue-window.ts keepTags): awaited, not read once.
    await waitForPlayingTitle(r.h.mpd, 'Track 2');
    expect(Math.abs(Number(status.elapsed) * 1000 - phoneAt)).toBeLessThan(1500);
    await stateWhere(r, (s) => s.state === 'playing' && s.qobuz_session === 'active');
    expect(eventTypes(r)).toContain('session_started');
    // And the phone taking it back is "taken over" for Home Assistant.
    phone.becomeActive();
    await r.h.mpd.waitForStatus((s) => s.state === 'pause');
    await r.probe.waitFor(
      (m) => m.topic === `${B}/event` && JSON.parse(m.payload).type === 'session_taken_over',
    );
  }, 30_000);

  it('takes over on "play" when Qobuz plays elsewhere (an idle player with an identity)', async () => {
    const r = await startRig();
    const phone = await joinPhone(r);
    phone.becomeActive();
    await r.sim.waitFor(() => r.sim.activeRendererId === phone.rendererId, { what: 'the phone active' });
    r.sim.loadQueue(r.h.trackIds);
    r.sim.jump(0, { positionMs: 2000 });
    await r.sim.waitFor(() => r.sim.savedState?.currentQueueItemId === 0, { what: 'the phone reported' });
    expect(await command(r, { action: 'play' })).toEqual({ ok: true });
    expect(r.sim.activeRendererId).toBe(r.rid);
    const status = await r.h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 1.5);
    expect(Number(status.elapsed)).toBeLessThan(5);
    expect(phone.active).toBe(false);
  }, 30_000);

  it('plays a long playlist (read page by page) and a shuffled album, each as the app would load it', async () => {
    const r = await startRig();
    // 120 tracks: two real ones first, then ids the stub lists without knowing them (never played here).
    const ids = [...r.h.trackIds.slice(0, 2), ...Array.from({ length: 118 }, (_, i) => 700_000 + i)];
    r.h.api.addPlaylist({ id: '1141084', title: 'Long', trackIds: ids });
    expect(await command(r, { play_media: 'https://open.qobuz.com/playlist/1141084' })).toEqual({ ok: true });
    expect(r.h.api.requestsTo('playlist/get').map((q) => q.params.offset)).toEqual(['0', '50', '100']);
    expect(r.sim.queue().items.map((i) => i.trackId)).toEqual(ids);
    await waitForPlayingTitle(r.h.mpd, 'Track 1');

    const from = r.sim.sent(r.rid).length;
    expect(await command(r, { play_media: { type: 'album', id: '0060254735180', shuffle: true } })).toEqual({
      ok: true,
    });
    const load = r.sim
      .sent(r.rid)
      .slice(from)
      .find((m) => m.type === 66)!.body as qconnect.CtrlSrvrQueueLoadTracks.$Properties;
    expect(load.shuffle_mode).toBe(true);
    // The first track played is the pivot the service shuffled the rest around.
    const start = load.queue_position ?? 0;
    expect(load.shuffle_pivot_index ?? 0).toBe(start);
    expect(r.sim.queue().shuffle).toBe(true);
    expect(r.sim.queue().items.map((i) => i.trackId)).toEqual(r.h.trackIds);
    await stateWhere(r, (s) => s.shuffle === true && s.state === 'playing');
    await waitForPlayingTitle(r.h.mpd, `Track ${start + 1}`);
  }, 40_000);

  it("plays from Home Assistant in the app's session without a user token (controller verbs on the app's link)", async () => {
    const r0 = await startBridgeHarness({ trackSeconds: [12, 12] });
    const probe = await connectProbe(r0.mosquitto!.url);
    await probe.subscribe(`${B}/#`);
    r0.api.addAlbum({ id: '0060254735180', title: 'Morning Jazz', trackIds: r0.trackIds });
    const app = await r0.connectApp({ becomeActive: false });
    const r: Rig = { h: r0, probe, sim: app.sim, rid: app.rendererId };
    rigs.push(r);
    expect(await command(r, { play_media: 'album:0060254735180' })).toEqual({ ok: true });
    expect(r.sim.activeRendererId).toBe(r.rid);
    expect(r.sim.queue().items.map((i) => i.trackId)).toEqual(r0.trackIds);
    expect(r0.api.requestsTo('qws/createToken')).toHaveLength(0);
    expect(r0.service.connections()).toHaveLength(1);
  }, 30_000);

  it('renews an expired token and stays joined', async () => {
    // The first minted token lives 3 s, the next ones an hour.
    const r = await startRig({ mintLifetimeSeconds: (n) => (n === 0 ? 3 : 3600) });
    const first = r.h.minted[0]!;
    await r.sim.waitFor(() => Date.now() >= first.exp * 1000 + 100, {
      timeoutMs: 10_000,
      what: 'the first token expired',
    });
    // A drop after expiry: the link mints a new token instead of giving up (the service refuses the old one).
    const from = r.sim.sent(r.rid).length;
    if (r.sim.renderers().find((x) => x.rendererId === r.rid)?.connected) r.sim.dropConnection(r.rid);
    await r.sim.waitForMessage(r.rid, 61, { after: from, timeoutMs: 10_000 });
    await r.sim.waitFor(() => r.sim.renderers().find((x) => x.rendererId === r.rid)?.connected === true, {
      what: 'joined again',
    });
    expect(r.h.minted.length).toBeGreaterThanOrEqual(2);
    const auths = r.sim.frames(r.rid).filter((f) => f.type === 'AUTHENTICATE');
    expect((auths.at(-1)?.body as { jwt?: string }).jwt).toBe(r.h.minted.at(-1)!.jwt);
    await stateWhere(r, (s) => s.qobuz_session === 'connected');
    expect(eventTypes(r)).not.toContain('session_closed');
    // Still useful: an album plays on the renewed link.
    expect(await command(r, { play_media: 'https://play.qobuz.com/album/0060254735180' })).toEqual({
      ok: true,
    });
    await r.h.mpd.waitForStatus((s) => s.state === 'play');
  }, 40_000);
});
