import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { message } from '../src/protocol/frame-writer.js';
import { uuidBytes } from '../src/protocol/renderer-messages.js';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import { connectProbe } from './support/mosquitto-server.js';
import { BASE, startSessionRig, type SessionRig } from './support/session-rig.js';

/**
 * Issue #24 (README "The Qobuz session"): with a user token the bridge shows the account's whole
 * Qobuz Connect session as one "Qobuz" device, whoever plays (a phone, a Connect speaker it does
 * not drive, one of its own players), and moves playback between them with "Play on" — against
 * the simulated service, with two players on two real MPDs, a phone and a foreign speaker.
 */

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed MQTT JSON in assertions
const MOBILE = 6;
const STREAMER = 2;

const rigs: SessionRig[] = [];
const harnesses: BridgeHarness[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
  for (const h of harnesses.splice(0)) await h.close();
});

async function rig(): Promise<SessionRig> {
  const r = await startSessionRig();
  rigs.push(r);
  return r;
}

function states(r: SessionRig, from = 0): Json[] {
  return r.probe.messages
    .slice(from)
    .filter((m) => m.topic === `${BASE}/session/state`)
    .map((m) => JSON.parse(m.payload) as Json);
}

/** The first session state since `from` (a probe index taken before the action) that matches. */
async function stateWhere(r: SessionRig, pred: (s: Json) => boolean, from = 0, timeoutMs = 15_000): Promise<Json> {
  const m = await r.probe.waitFor((x) => x.topic === `${BASE}/session/state` && pred(JSON.parse(x.payload) as Json), {
    from,
    timeoutMs,
  });
  return JSON.parse(m.payload) as Json;
}

const mark = (r: SessionRig) => r.probe.messages.length;

function events(r: SessionRig, from: number): string[] {
  return r.probe.messages
    .slice(from)
    .filter((m) => m.topic === `${BASE}/session/event`)
    .map((m) => {
      const e = JSON.parse(m.payload) as Json;
      return e.type === 'active_device_changed' ? `${e.type}:${e.from?.name ?? '-'}>${e.to?.name ?? '-'}` : `${e.type}:${e.name}`;
    });
}

const command = (r: SessionRig, payload: unknown) => r.probe.command(`${BASE}/session`, payload, { timeoutMs: 25_000 });

/** Where the active device is now, from its report (position_ms held at position_at). */
function positionNow(s: Json): number {
  const a = s.active as Json;
  return a.state === 'playing' ? a.position_ms + (Date.now() - Date.parse(a.position_at as string)) : a.position_ms;
}

/** Both of our players joined, and the view says so through the first configured one. */
async function bothJoined(r: SessionRig): Promise<{ living: number; kitchen: number }> {
  const living = await r.sim.waitForRenderer(r.players.living_room.uuid, { timeoutMs: 15_000 });
  const kitchen = await r.sim.waitForRenderer(r.players.kitchen.uuid, { timeoutMs: 15_000 });
  await stateWhere(r, (s) => s.via === 'living_room' && s.devices.length === 2);
  return { living, kitchen };
}

describe('the Qobuz session device (issue #24)', () => {
  it('follows a phone, a foreign speaker and two of ours, and moves playback phone → ours → other ours → foreign speaker, each move answered', async () => {
    const r = await rig();
    const { living, kitchen } = await bothJoined(r);
    const from = r.probe.messages.length;
    const phone = await r.join('Phone', { deviceType: MOBILE, takeOver: true });
    const den = await r.join('Den Streamer', { deviceType: STREAMER, takeOver: true });
    const joined = await stateWhere(r, (s) => s.devices.length === 4);
    expect(joined.devices.map((d: Json) => [d.name, d.type, d.player])).toEqual([
      [r.players.living_room.name, 'speaker', 'living_room'],
      [r.players.kitchen.name, 'speaker', 'kitchen'],
      ['Phone', 'mobile', null],
      ['Den Streamer', 'streamer', null],
    ]);
    expect(joined.active).toBeNull();

    // The phone plays: the view shows it, with the track's metadata from Qobuz, and follows a pause.
    r.sim.loadQueue(r.trackIds);
    phone.becomeActive();
    await r.sim.waitFor(() => r.sim.activeRendererId === phone.rendererId, { what: 'the phone active' });
    r.sim.jump(0, { positionMs: 5000 });
    const onPhone = await stateWhere(r, (s) => s.active?.name === 'Phone' && s.active.state === 'playing' && s.active.track !== null);
    expect(onPhone.active).toMatchObject({
      renderer_id: phone.rendererId, type: 'mobile', player: null, queue_item_id: 0,
      track: { id: r.trackIds[0], title: 'Session Track 1', artist: 'Session Artist', album: 'Session Album' },
    });
    let at = mark(r);
    r.sim.pause();
    await stateWhere(r, (s) => s.active?.name === 'Phone' && s.active.state === 'paused', at);
    at = mark(r);
    r.sim.play();
    await stateWhere(r, (s) => s.active?.name === 'Phone' && s.active.state === 'playing', at);

    // Phone → living room, by name: answered once the service names it active; MPD plays where the phone was.
    const atPhone = phone.positionNow();
    const movedAt = Date.now();
    expect(await command(r, { play_on: r.players.living_room.name, id: 'to-living' })).toEqual({ ok: true, id: 'to-living' });
    expect(r.sim.activeRendererId).toBe(living);
    await phone.waitFor(() => phone.state.playing === 'PAUSED', { what: 'the phone paused' });
    await r.mpds[0].waitForStatus((st) => st.state === 'play' && Number(st.elapsed) > 0, 15_000);
    const onLiving = await stateWhere(r, (s) => s.active?.player === 'living_room' && s.active.state === 'playing');
    expect(Math.abs(positionNow(onLiving) - (atPhone + (Date.now() - movedAt)))).toBeLessThan(3000);

    // Living room → kitchen: the first pauses, the second plays on.
    expect(await command(r, { play_on: r.players.kitchen.name })).toEqual({ ok: true });
    expect(r.sim.activeRendererId).toBe(kitchen);
    await r.mpds[1].waitForStatus((st) => st.state === 'play' && Number(st.elapsed) > 0, 15_000);
    await r.mpds[0].waitForStatus((st) => st.state === 'pause', 10_000);
    await stateWhere(r, (s) => s.active?.player === 'kitchen' && s.active.state === 'playing');

    // Kitchen → the foreign speaker, by renderer id: it continues the same track.
    expect(await command(r, { play_on: den.rendererId })).toEqual({ ok: true });
    await den.waitFor(() => den.active, { what: 'the speaker active' });
    await r.mpds[1].waitForStatus((st) => st.state === 'pause', 10_000);
    const onDen = await stateWhere(r, (s) => s.active?.name === 'Den Streamer' && s.active.state === 'playing');
    expect(onDen.active).toMatchObject({ type: 'streamer', player: null, track: { title: 'Session Track 1' } });
    expect(den.state.queueItemId).toBe(0);

    // "Pause everything": whatever is active pauses; pausing again is answered at once, nothing sent.
    at = mark(r);
    expect(await command(r, { pause: true })).toEqual({ ok: true });
    expect(den.state.playing).toBe('PAUSED');
    await stateWhere(r, (s) => s.active?.name === 'Den Streamer' && s.active.state === 'paused', at);
    const sent62 = r.sim.sentOfType(living, 62).length;
    expect(await command(r, { pause: true })).toEqual({ ok: true });
    expect(r.sim.sentOfType(living, 62)).toHaveLength(sent62);

    // One link answered for the session throughout, and each change was told once.
    expect(new Set(states(r, from).map((s) => s.via))).toEqual(new Set(['living_room']));
    expect(r.sim.sentOfType(living, 63).map((m) => m.body.renderer_id)).toEqual([living, kitchen, den.rendererId]);
    expect(r.sim.sentOfType(kitchen, 63)).toHaveLength(0);
    expect(events(r, from)).toEqual([
      'device_joined:Phone',
      'device_joined:Den Streamer',
      'active_device_changed:->Phone',
      `active_device_changed:Phone>${r.players.living_room.name}`,
      `active_device_changed:${r.players.living_room.name}>${r.players.kitchen.name}`,
      `active_device_changed:${r.players.kitchen.name}>Den Streamer`,
    ]);
  }, 120_000);

  it('refuses an unknown device, a bad command and a move the service refuses with clear codes, changing nothing', async () => {
    const r = await rig();
    const { living } = await bothJoined(r);
    const phone = await r.join('Phone', { deviceType: MOBILE });
    r.sim.loadQueue(r.trackIds);
    phone.becomeActive();
    await r.sim.waitFor(() => r.sim.activeRendererId === phone.rendererId, { what: 'the phone active' });
    r.sim.jump(1);
    await stateWhere(r, (s) => s.active?.name === 'Phone' && s.active.state === 'playing');
    const sent = r.sim.sentOfType(living, 63).length;

    expect(await command(r, { play_on: 'Garage', id: 'g' })).toMatchObject({
      ok: false, code: 'ERR_NOT_FOUND', id: 'g', error: expect.stringMatching(/no device "Garage".*Phone/),
    });
    expect(await command(r, { play_on: '' })).toMatchObject({ ok: false, code: 'ERR_BAD_COMMAND' });
    expect(await command(r, { play_on: 'Phone', pause: true })).toMatchObject({ ok: false, code: 'ERR_BAD_COMMAND' });
    expect(await command(r, { volume: 3 })).toMatchObject({ ok: false, code: 'ERR_BAD_COMMAND', error: expect.stringMatching(/unknown key: volume/) });

    // A renderer the service does not know (announced to our link only): it refuses the 63.
    r.sim.sendMessages(living, [message(83, { renderer_id: 999, device_info: { device_uuid: uuidBytes(randomUUID()), friendly_name: 'Ghost' } })]);
    await stateWhere(r, (s) => s.devices.some((d: Json) => d.name === 'Ghost'));
    expect(await command(r, { play_on: 'ghost' })).toMatchObject({
      ok: false, code: 'ERR_QOBUZ_REFUSED', error: expect.stringMatching(/Renderer not found/),
    });
    expect(r.sim.sentOfType(living, 63).map((m) => m.body.renderer_id).slice(sent)).toEqual([999]);
    expect(r.sim.activeRendererId).toBe(phone.rendererId);
    expect(phone.state.playing).toBe('PLAYING');
    expect((await r.mpds[0].status()).state).not.toBe('play');
    expect((await r.mpds[1].status()).state).not.toBe('play');
    expect(states(r).at(-1)?.active).toMatchObject({ name: 'Phone', state: 'playing' });
  }, 90_000);

  it('fails over to the next player when the answering link goes, and back when it returns', async () => {
    const r = await rig();
    const { living, kitchen } = await bothJoined(r);
    const phone = await r.join('Phone', { deviceType: MOBILE });
    await stateWhere(r, (s) => s.devices.length === 3);
    const from = r.probe.messages.length;
    // The living room's link goes and cannot come back for now: the kitchen's answers, with the same session.
    r.sim.rejectConnections(true);
    r.sim.dropConnection(living);
    const viaKitchen = await stateWhere(r, (s) => s.via === 'kitchen' && s.devices.length === 2, from);
    expect(viaKitchen.devices.map((d: Json) => d.name)).toEqual([r.players.kitchen.name, 'Phone']);
    r.sim.loadQueue(r.trackIds);
    expect(await command(r, { play_on: 'Phone' })).toEqual({ ok: true });
    expect(r.sim.sentOfType(kitchen, 63).map((m) => m.body.renderer_id)).toEqual([phone.rendererId]);
    expect(r.sim.activeRendererId).toBe(phone.rendererId);
    r.sim.rejectConnections(false);
    await stateWhere(r, (s) => s.via === 'living_room' && s.devices.length === 3, from, 20_000);
    // The event follows the state it describes (the select's options are published before both).
    await r.probe.waitFor((m) => m.topic === `${BASE}/session/event` && m.payload.includes('device_joined'), { from });
    expect(events(r, from)).toEqual([
      `device_left:${r.players.living_room.name}`,
      'active_device_changed:->Phone',
      `device_joined:${r.players.living_room.name}`,
    ]);
  }, 90_000);

  it('answers ERR_NO_SESSION while no player of the bridge is in a session, sending nothing', async () => {
    // A user token but no cloud presence: nothing joins until the app picks a player.
    const h = await startBridgeHarness({ userAuthToken: true, cloud: false });
    harnesses.push(h);
    const probe = await connectProbe(h.mosquitto!.url);
    try {
      await probe.subscribe(`${BASE}/session/#`);
      const idle = await probe.waitFor((m) => m.topic === `${BASE}/session/state`);
      expect(JSON.parse(idle.payload)).toEqual({ in_session: false, session_id: null, via: null, devices: [], active: null });
      for (const payload of [{ play_on: 'Phone' }, { pause: false }])
        expect(await probe.command(`${BASE}/session`, payload)).toMatchObject({ ok: false, code: 'ERR_NO_SESSION' });
      // Even a pause: with no session there is no one to ask.
      expect(await probe.command(`${BASE}/session`, { pause: true })).toMatchObject({ ok: false, code: 'ERR_NO_SESSION' });
      expect(h.service.connections()).toHaveLength(0);
    } finally {
      await probe.end();
    }
  }, 60_000);
});
