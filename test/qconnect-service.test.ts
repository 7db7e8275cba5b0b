import { describe, expect, it } from 'vitest';
import { type MessageBodies } from '../src/protocol/message-types.js';
import * as rm from '../src/protocol/renderer-messages.js';
import { deviceUuid, rawDevice, useSimService, versionOf } from './support/qconnect-harness.js';
import { uuidBytes } from './support/qconnect-records.js';
import { AUTH_ERRORS, SERVICE_ERRORS } from './support/qconnect-service.js';
import { SimRenderer } from './support/sim-renderer.js';

// Issue #4: the simulated Qobuz Connect service, driven by SimRenderer clients only.

const sim = useSimService();

describe('authentication and joins', () => {
  it('refuses a jwt it did not issue with an Error envelope, then closes', async () => {
    const refused = SimRenderer.connect(sim.options(1, { jwt: 'eyJ.foreign.jwt' }));
    await expect(refused).rejects.toThrow(`${AUTH_ERRORS.invalidToken.code} Invalid token`);
    const conn = sim.service.connections()[0];
    await sim.service.waitFor(() => conn?.closeCode !== null, { what: 'the close seen by the service' });
    expect([conn?.closedBy, conn?.closeCode, conn?.frames[0]?.type]).toEqual([
      'unauthorized',
      1008,
      'AUTHENTICATE',
    ]);
  });

  it('refuses a token that expired by time or by expireToken', async () => {
    const stale = sim.service.issueToken({ sessionId: sim.sessionId, expiresInSeconds: 0 });
    await expect(SimRenderer.connect(sim.options(1, { jwt: stale.jwt }))).rejects.toThrow('Token expired');
    const revoked = sim.service.issueToken({ sessionId: sim.sessionId });
    sim.service.expireToken(revoked.jwt);
    const refused = SimRenderer.connect(sim.options(1, { jwt: revoked.jwt }));
    await expect(refused).rejects.toThrow(`${AUTH_ERRORS.expiredToken.code} Token expired`);
    expect(sim.session.renderers()).toEqual([]);
  });

  it('closes a connection whose first frame is not Authenticate', async () => {
    const raw = await sim.rawClient();
    raw.ws.send(raw.writer.subscribe());
    expect(await raw.closed).toBe(1008);
    const frame = raw.frames[0];
    expect(frame?.type === 'ERROR' && frame.body.code).toBe(AUTH_ERRORS.notAuthenticated.code);
  });

  it('lets two renderers join and see each other (83) and the session state (81), recording the handshake headers', async () => {
    const a = await sim.join(1);
    const b = await sim.join(2);
    expect(a.rendererId).toBeGreaterThan(0);
    expect(b.rendererId).not.toBe(a.rendererId);
    expect(b.types()).toEqual([83, 83, 81]);
    expect(b.bodies(83).map((m) => m.renderer_id)).toEqual([a.rendererId, b.rendererId]);
    const state = b.bodies(81)[0];
    expect(Buffer.from(state?.session_uuid ?? []).equals(Buffer.from(uuidBytes(sim.sessionId)))).toBe(true);
    expect(state?.active_renderer_id).toBe(-1);
    expect(versionOf(state)).toBe('0.0');
    await a.waitFor(() => a.bodies(83).some((m) => m.renderer_id === b.rendererId), { what: "b's 83 at a" });
    const session = sim.session;
    expect(session.renderers().map((r) => [r.rendererId, r.name, r.connected])).toEqual([
      [a.rendererId, 'sim 1', true],
      [b.rendererId, 'sim 2', true],
    ]);
    expect(session.rendererIdOf(deviceUuid(2).toUpperCase())).toBe(b.rendererId);
    const conn = sim.service.connections()[0];
    expect([conn?.origin, conn?.protocol, conn?.userAgent]).toEqual([
      'https://play.qobuz.com',
      'qws',
      'Mozilla/5.0 (SimRenderer)',
    ]);
    expect(session.frames(a.rendererId).map((f) => f.type)).toEqual(['AUTHENTICATE', 'SUBSCRIBE', 'PAYLOAD']);
    expect(session.sentTypes(a.rendererId)).toEqual([61]);
  });

  it('makes a 21 join with is_active the active renderer, and refuses a 21 for another session', async () => {
    const a = await sim.join(1, { autoRespond: false });
    sim.session.pickRenderer(a.rendererId);
    const c = await sim.join(3, { join: 'renderer', isActive: true, autoRespond: false });
    await a.waitForMessage(43, { where: (m) => m.active !== true, after: 2 });
    expect(sim.session.activeRendererId).toBe(c.rendererId);
    await c.waitFor(() => c.active, { what: 'c active' });
    const other = sim.service.issueToken();
    await expect(
      SimRenderer.connect({
        endpoint: other.endpoint,
        jwt: other.jwt,
        sessionId: sim.sessionId,
        deviceUuid: deviceUuid(4),
        name: 'x',
        join: 'renderer',
      }),
    ).rejects.toThrow(SERVICE_ERRORS.join.message);
    expect(sim.service.session(other.sessionId).renderers()).toEqual([]);
    expect(sim.session.renderers()).toHaveLength(2);
  });

  it('answers a Payload before Subscribe with an Error envelope and keeps the connection', async () => {
    const raw = await sim.rawClient();
    const join = () => rm.ctrlJoinSession(uuidBytes(sim.sessionId), rawDevice(9));
    raw.ws.send(raw.writer.authenticate(sim.service.issueToken({ sessionId: sim.sessionId }).jwt));
    raw.ws.send(raw.writer.payload([join()]));
    const refused = await sim.service.waitFor(() => raw.frames[0], { what: 'the Error envelope' });
    expect(refused.type === 'ERROR' && refused.body.code).toBe(AUTH_ERRORS.notSubscribed.code);
    raw.ws.send(raw.writer.subscribe());
    raw.ws.send(raw.writer.payload([join()]));
    const id = await sim.session.waitForRenderer(deviceUuid(9));
    expect(sim.session.sentTypes(id)).toEqual([61, 61]);
  });
});

describe('active renderer and reports', () => {
  it('picks a renderer in two phases: 43 {} to the previous, 43 {active: true} to the new, then 86 to all', async () => {
    const a = await sim.join(1, { autoRespond: false });
    const b = await sim.join(2, { autoRespond: false });
    const session = sim.session;
    session.pickRenderer(a.rendererId);
    await a.waitForMessage(86);
    await b.waitForMessage(86);
    const fromA = a.received().length;
    const fromB = b.received().length;
    session.pickRenderer(b.rendererId);
    await a.waitForMessage(86, { after: fromA });
    await b.waitForMessage(86, { after: fromB });
    expect(a.types(fromA)).toEqual([43, 86]);
    expect(a.bodies(43, fromA)[0]?.active).toBeNull();
    expect(b.types(fromB)).toEqual([43, 86]);
    expect(b.bodies(43, fromB)[0]?.active).toBe(true);
    expect(b.bodies(86, fromB)[0]?.active_renderer_id).toBe(b.rendererId);
    const toA = session.delivered(a.rendererId).at(-2);
    const toB = session.delivered(b.rendererId).at(-2);
    expect(toA?.type).toBe(43);
    expect(toB?.type).toBe(43);
    expect((toA?.seq ?? 0) < (toB?.seq ?? 0)).toBe(true);
    expect(session.activeRendererId).toBe(b.rendererId);
  });

  it('activates on 63 and broadcasts the new active renderer reports (98, 87, 99, 82) to everyone', async () => {
    const a = await sim.join(1, { volume: 40, maxAudioQuality: 3 });
    const b = await sim.join(2, { autoRespond: false });
    a.becomeActive();
    await b.waitForMessage(82, { where: (m) => m.renderer_id === a.rendererId });
    expect(b.types(3).filter((t) => t !== 83)).toEqual([86, 98, 87, 99, 82]);
    expect(b.bodies(87)[0]).toMatchObject({ renderer_id: a.rendererId, volume: 40 });
    const view = sim.session.renderers().find((r) => r.rendererId === a.rendererId);
    expect(view).toMatchObject({ active: true, volume: 40, muted: false, maxAudioQuality: 3 });
    expect(sim.session.sentTypes(a.rendererId)).toEqual([61, 63, 29, 25, 28, 23]);
    await a.waitForMessage(82, { where: (m) => m.renderer_id === a.rendererId }); // the echo of its own report (§5.10)
  });

  it('re-broadcasts a 23 of the active renderer as 82 and answers a 23 of an inactive one with an error', async () => {
    const a = await sim.join(1, { autoRespond: false });
    const b = await sim.join(2, { autoRespond: false });
    const session = sim.session;
    session.pickRenderer(a.rendererId);
    a.reportState({
      playing: 'PLAYING',
      positionMs: 12_000,
      queueItemId: 1,
      durationMs: 200_000,
      nextQueueItemId: 2,
    });
    const seen = await b.waitForMessage(82);
    expect(seen).toMatchObject({ renderer_id: a.rendererId, status: 1 });
    expect(seen.player_state).toMatchObject({
      playing_state: 2,
      buffer_state: 2,
      duration: 200_000,
      current_queue_item_id: 1,
    });
    // The broadcast carries the position as of its own timestamp: 12 s plus the few ms in flight.
    expect(seen.player_state?.current_position?.value).toBeGreaterThanOrEqual(12_000);
    expect(seen.player_state?.current_position?.value).toBeLessThan(12_250);
    await a.waitForMessage(82); // its own report echoed (§5.10)
    expect(session.renderers()[0]?.lastState).toMatchObject({ playingState: 2, currentQueueItemId: 1, nextQueueItemId: 2 });
    // Kept as of the service's clock: 12 s plus the time in flight, never an exact millisecond (issue #11).
    expect(session.renderers()[0]?.lastState?.positionMs).toBeGreaterThanOrEqual(12_000);
    expect(session.renderers()[0]?.lastState?.positionMs).toBeLessThan(12_250);
    const before = a.received().length;
    b.reportState({ playing: 'PAUSED', positionMs: 1, queueItemId: 0 });
    const err = await b.waitForMessage(1);
    expect(err.message).toBe(SERVICE_ERRORS.nonActive.message);
    await session.waitForMessage(b.rendererId, 23);
    a.send([rm.askForQueueState(null)]);
    await a.waitForMessage(90, { after: before });
    expect(a.types(before)).toEqual([90]);
  });

  it('answers 77 with a renderer last state, and -1 with the saved session position', async () => {
    const a = await sim.join(1, { autoRespond: false });
    const b = await sim.join(2, { autoRespond: false });
    sim.session.pickRenderer(a.rendererId);
    a.reportState({ playing: 'PAUSED', positionMs: 7000, queueItemId: 3 });
    await b.waitForMessage(82);
    const from = b.received().length;
    b.send([rm.askForRendererState(a.rendererId), rm.askForRendererState(-1)]);
    await b.waitFor(() => b.bodies(82, from).length === 2, { what: 'two 82 answers' });
    const [own, saved] = b.bodies(82, from);
    expect(own).toMatchObject({
      renderer_id: a.rendererId,
      status: 1,
      player_state: { playing_state: 3, current_queue_item_id: 3 },
    });
    expect(saved).toMatchObject({
      renderer_id: -1,
      player_state: { playing_state: 3, current_queue_item_id: 3 },
    });
    expect(saved?.player_state?.current_position?.value).toBe(7000);
  });

  it('answers a batch older than staleAfterMs with "Message too old" and does not apply it', async () => {
    const a = await sim.join(1, { autoRespond: false });
    sim.session.pickRenderer(a.rendererId);
    a.clockOffsetMs = -5000;
    a.reportState({ playing: 'PLAYING', positionMs: 1, queueItemId: 0 });
    expect((await a.waitForMessage(1)).message).toBe('Message too old');
    expect(sim.session.renderers()[0]?.lastState).toBeNull();
    expect(a.bodies(82)).toEqual([]);
  });
});

describe('queue', () => {
  it('bumps the version on a load and on each delta (89, 91-95) and broadcasts it to every client', async () => {
    const a = await sim.join(1, { autoRespond: false });
    const b = await sim.join(2, { autoRespond: false });
    const session = sim.session;
    const from = b.received().length;
    session.loadQueue([10, 20, 30]);
    session.insertTracks([40], 0);
    session.addTracks([50]);
    session.removeTracks([1]);
    session.reorderTracks([2], -1);
    expect(session.queue().items.map((i) => `${i.queueItemId}:${i.trackId}`)).toEqual([
      '2:30',
      '0:10',
      '3:40',
      '4:50',
    ]);
    session.clearQueue();
    await b.waitForMessage(89);
    await a.waitForMessage(89);
    const deltas = b.received().slice(from);
    expect(deltas.map((m) => m.type)).toEqual([91, 92, 93, 94, 95, 89]);
    const deltaBodies = deltas.map((m) => (m as unknown as { body: MessageBodies[89] }).body);
    expect(deltaBodies.map(versionOf)).toEqual(['1.0', '1.1', '1.2', '1.3', '1.4', '2.0']);
    expect(deltaBodies.map((d) => d.action_uuid?.length)).toEqual([16, 16, 16, 16, 16, 16]);
    const loaded = b.bodies(91)[0]?.tracks?.map((t) => `${t.queue_item_id ?? 0}:${t.track_id}`);
    expect(loaded).toEqual(['0:10', '1:20', '2:30']);
    expect(b.bodies(92)[0]).toMatchObject({ tracks: [{ queue_item_id: 3, track_id: 40 }] });
    expect(b.bodies(95)[0]).toMatchObject({ queue_item_ids: [2], insert_after: -1 });
    expect(a.types(from)).toEqual(b.types(from));
    expect(session.queue()).toMatchObject({ version: { major: 2, minor: 0 }, items: [] });
  });

  it('answers 76 to the asker only, with tracks, shuffle mode and shuffled indexes', async () => {
    const a = await sim.join(1, { autoRespond: false });
    const b = await sim.join(2, { autoRespond: false });
    const session = sim.session;
    session.loadQueue([11, 22, 33, 44, 55, 66], { startIndex: 2, shuffle: true, seed: 7 });
    const loaded = await a.waitForMessage(91);
    await b.waitForMessage(91);
    expect(loaded).toMatchObject({
      queue_position: 2,
      shuffle_mode: true,
      shuffle_seed: 7,
      shuffle_pivot_queue_item_id: 2,
    });
    const fromB = b.received().length;
    a.send([rm.askForQueueState({ major: 1, minor: 0 })]);
    const state = await a.waitForMessage(90);
    const q = session.queue();
    expect(state.tracks?.map((t) => t.track_id)).toEqual([11, 22, 33, 44, 55, 66]);
    expect(state.shuffle_mode).toBe(true);
    expect(state.shuffled_track_indexes).toEqual(q.shuffledIndexes);
    expect([...q.shuffledIndexes].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(q.shuffledIndexes[0]).toBe(2);
    expect(q.shuffledIndexes).not.toEqual([2, 0, 1, 3, 4, 5]);
    expect(versionOf(state)).toBe('1.0');
    a.send([rm.askForQueueState(null)]);
    await a.waitFor(() => a.bodies(90).length === 2, { what: 'second 90' });
    expect(b.types(fromB)).toEqual([]);
  });

  it('advances on 24 NEXT along loop OFF, REPEAT_ALL, REPEAT_ONE and the shuffled order', async () => {
    const a = await sim.join(1, { autoRespond: false });
    const session = sim.session;
    session.loadQueue([10, 20, 30]);
    session.pickRenderer(a.rendererId);
    const next = async () => {
      const from = a.received().length;
      a.send([rm.rendererAction(2)]);
      return a.waitForMessage(41, { after: from });
    };
    const ref = (t: { queue_item_id?: number | null; track_id?: number | null } | null | undefined) =>
      t ? `${t.queue_item_id ?? 0}:${t.track_id}` : null;
    session.jump(1);
    const jumped = await a.waitForMessage(41);
    expect(jumped).toMatchObject({ playing_state: 2, queue_version: { major: 1 } });
    expect([ref(jumped.current_track), ref(jumped.next_track)]).toEqual(['1:20', '2:30']);
    const toLast = await next();
    expect([ref(toLast.current_track), ref(toLast.next_track)]).toEqual(['2:30', null]);
    const end = await next();
    expect(end).toMatchObject({ playing_state: 1, current_track: { queue_item_id: -1 } });

    session.setLoop('REPEAT_ALL');
    await a.waitForMessage(45, { where: (m) => m.loop_mode === 3 });
    session.jump(2);
    const wrapped = await a.waitForMessage(41, {
      where: (m) => m.current_track?.queue_item_id === 2 && m.next_track != null,
    });
    expect(ref(wrapped.next_track)).toBe('0:10');
    expect(ref((await next()).current_track)).toBe('0:10');

    session.setLoop('REPEAT_ONE');
    const info = await a.waitForMessage(41, {
      where: (m) => m.current_track == null && m.playing_state == null,
    });
    expect(ref(info.next_track)).toBe('0:10'); // info-only: what follows item 0 is item 0 again
    const skipped = await next();
    expect([ref(skipped.current_track), ref(skipped.next_track)]).toEqual(['1:20', '1:20']);

    session.setLoop('OFF');
    session.setShuffle(true, { seed: 99 });
    const shuffled = await a.waitForMessage(46);
    expect(shuffled.shuffle_mode).toBe(true);
    const order = session.queue().shuffledIndexes.map((i) => session.queue().items[i]?.queueItemId);
    expect(order[0]).toBe(1); // the current item is the pivot
    const s1 = await next();
    expect(s1.current_track?.queue_item_id ?? 0).toBe(order[1]);
    expect(s1.next_track?.queue_item_id ?? 0).toBe(order[2]);
    expect(a.bodies(97).map((m) => m.loop_mode)).toEqual([3, 2, 1]);
    expect(a.bodies(96)[0]).toMatchObject({
      shuffle_mode: true,
      shuffle_seed: 99,
      shuffle_pivot_queue_item_id: 1,
    });
  });
});
