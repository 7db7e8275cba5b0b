import { afterEach, describe, expect, it } from 'vitest';
import { message } from '../src/protocol/frame-writer.js';
import { QconnectService, SERVICE_ERRORS } from './support/qconnect-service.js';
import { SimRenderer } from './support/sim-renderer.js';
import { lastReport, startHarness, waitActive, type Harness } from './support/session-harness.js';

let harnesses: Harness[] = [];
let services: QconnectService[] = [];
let others: SimRenderer[] = [];
afterEach(async () => {
  for (const o of others) await o.close();
  for (const h of harnesses) await h.close();
  for (const s of services) await s.stop();
  harnesses = [];
  services = [];
  others = [];
});

async function playingHarness(): Promise<Harness> {
  const h = await startHarness();
  harnesses.push(h);
  await waitActive(h);
  h.sim.loadQueue([111, 222, 333]);
  h.sim.addTracks([444]);
  h.sim.addTracks([555]);
  await h.sim.waitFor(() => h.session.queue.items.length === 5, { what: 'five items mirrored' });
  h.sim.jump(1, { positionMs: 10_000, playing: true });
  await h.sim.waitFor(() => h.player.current?.queueItemId === 1 && h.player.status === 'playing', {
    what: 'playing item 1',
  });
  return h;
}

function connectTo(h: Harness, sessionId?: string): { sessionId: string; done: Promise<void> } {
  const token = h.service.issueToken(sessionId ? { sessionId } : {});
  const done = h.session.connect({
    sessionId: token.sessionId,
    jwtQconnect: { jwt: token.jwt, exp: token.exp, endpoint: token.endpoint },
    jwtApi: { jwt: 'api-jwt', exp: token.exp, endpoint: null },
    becomeActive: true,
  });
  return { sessionId: token.sessionId, done };
}

describe('sessions that last for hours (issue #12)', () => {
  it('starts clean in a new session: no queue, version, item or peer of the old one, and the old item stops', async () => {
    const h = await playingHarness();
    const oldVersion = h.session.queue.version;
    expect(oldVersion?.minor).toBeGreaterThan(0);
    const b = connectTo(h);
    await b.done;
    const simB = h.service.session(b.sessionId);
    const rendererB = await simB.waitForRenderer(h.deviceUuid);
    // Make before break (issue #26): the session changes once the service named us in the new one.
    await simB.waitFor(() => h.session.sessionId === b.sessionId, { what: 'the new session ours' });
    await simB.waitFor(() => simB.activeRendererId === rendererB, { what: 'active in the new session' });
    await h.sim.waitFor(() => h.player.status === 'stopped', { what: 'the old item stopped' });
    await simB.waitForMessage(rendererB, 23);
    // Nothing of session A is reported into session B.
    const reportsB = simB
      .sentOfType(rendererB, 23)
      .map((m) => (m.body as { state?: { current_queue_item_id?: number } }).state);
    expect(reportsB.length).toBeGreaterThan(0);
    for (const r of reportsB) expect(r?.current_queue_item_id).toBe(-1);
    expect(h.session.view().state).toBe('idle');
    expect(h.session.view().queue.length).toBe(0);
    // Session B numbers its queue afresh, lower than A's: the mirror follows it.
    simB.loadQueue([777, 888]);
    await simB.waitFor(() => h.session.queue.items.map((i) => i.trackId).join() === '777,888', {
      what: 'mirror of session B',
    });
    expect(h.session.queue.version).toEqual(simB.queue().version);
    const first = simB.queue().items[0]!.queueItemId;
    simB.jump(first, { playing: true });
    await simB.waitFor(() => h.player.current?.trackId === 777 && h.player.status === 'playing', {
      what: 'playing in session B',
    });
  });

  it('keeps the queue and the item when the app picks us again in the same session', async () => {
    const h = await playingHarness();
    const again = connectTo(h, h.token.sessionId);
    await again.done;
    expect(h.session.queue.items.length).toBe(5);
    expect(h.session.view().queue.index).toBe(1);
    await h.sim.waitFor(
      () => h.sim.activeRendererId === h.rendererId && h.session.view().qobuzSession === 'active',
      { what: 'active again' },
    );
    expect(h.player.current?.queueItemId).toBe(1);
  });

  it('stops and forgets the current item when the queue is cleared (89), and never reports it again', async () => {
    const h = await playingHarness();
    h.sim.clearQueue();
    await h.sim.waitFor(() => h.player.status === 'stopped', { what: 'stopped' });
    await h.sim.waitFor(() => (lastReport(h)?.current_queue_item_id === -1 ? true : undefined), {
      what: 'report of no item',
    });
    const afterClear = h.sim.sent(h.rendererId).length;
    expect(h.session.view().state).toBe('idle');
    expect(h.session.view().track).toBeNull();
    // A play with nothing queued brings nothing back.
    h.sim.play();
    h.sim.loadQueue([999]);
    await h.sim.waitFor(() => h.session.queue.items.length === 1, { what: 'new queue mirrored' });
    await h.session.idle();
    const later = h.sim
      .sentOfType(h.rendererId, 23)
      .filter((m) => h.sim.sent(h.rendererId).indexOf(m) >= afterClear);
    for (const m of later)
      expect(
        (m.body as { state?: { current_queue_item_id?: number } }).state?.current_queue_item_id ?? -1,
      ).not.toBe(1);
    expect(h.player.current?.queueItemId ?? null).not.toBe(1);
  });

  it('forgets a renderer the service removed (85): a takeover uses the session position, not its last state', async () => {
    const service = new QconnectService();
    services.push(service);
    await service.start();
    const token = service.issueToken();
    const sim = service.session(token.sessionId);
    const phone = await SimRenderer.connect({
      endpoint: service.endpoint,
      jwt: service.issueToken({ sessionId: token.sessionId }).jwt,
      sessionId: token.sessionId,
      deviceUuid: '22222222-2222-2222-2222-222222222222',
      name: 'Phone',
    });
    others.push(phone);
    phone.becomeActive();
    await sim.waitFor(() => sim.activeRendererId === phone.rendererId, { what: 'phone active' });
    sim.loadQueue([111, 222, 333]);
    phone.reportState({ playing: 'PLAYING', positionMs: 30_000, queueItemId: 2, durationMs: 200_000 });
    await sim.waitFor(() => sim.renderers().find((r) => r.rendererId === phone.rendererId)?.lastState, {
      what: 'phone state',
    });
    const h = await startHarness({ service, sessionId: token.sessionId, becomeActive: false });
    harnesses.push(h);
    // The answers to our join: the queue (90) and the session position (82 for renderer -1).
    await sim.waitFor(
      () =>
        sim
          .delivered(h.rendererId)
          .some((m) => m.type === 82 && (m.body as { renderer_id?: number }).renderer_id === -1),
      { what: 'session position delivered' },
    );
    const delivered = sim.delivered(h.rendererId).length;
    phone.terminate();
    await sim.waitFor(
      () =>
        sim
          .delivered(h.rendererId)
          .slice(delivered)
          .some((m) => m.type === 82),
      { what: '82 of the lost phone' },
    );
    // The phone's last word names item 0; then the service removes it. The session position (item 2) stays.
    sim.sendMessages(h.rendererId, [
      message(82, {
        renderer_id: phone.rendererId,
        player_state: { playing_state: 2, current_position: { value: 5000 } },
      }),
      message(85, { renderer_id: phone.rendererId }),
    ]);
    await h.session.idle();
    sim.pickRenderer(h.rendererId);
    await waitActive(h);
    await h.sim.waitFor(() => h.player.current, { what: 'took over' });
    expect(h.player.current?.queueItemId).toBe(2);
  });

  it('seeks to 0 on a SetState that lost its only field, the zero position (docs/protocol.md §8)', async () => {
    const h = await playingHarness();
    const before30 = h.sim.sent(h.rendererId).length;
    h.sim.seek(30_000);
    await h.sim.waitForMessage(h.rendererId, 23, {
      after: before30,
      where: (b: { state?: { current_position?: { value?: number } } }) =>
        (b.state?.current_position?.value ?? 0) >= 30_000,
    });
    await h.sim.waitFor(() => (h.player.positionMs() >= 30_000 ? true : undefined), { what: 'at 30 s' });
    const from = h.sim.sent(h.rendererId).length;
    const delivered = h.sim.delivered(h.rendererId).length;
    h.sim.seek(0);
    // The answer to the seek: a report near the start (a heartbeat in between would still say 30 s).
    const report = await h.sim.waitForMessage(h.rendererId, 23, {
      after: from,
      where: (b: { state?: { current_position?: { value?: number } } }) =>
        (b.state?.current_position?.value ?? 0) < 5000,
    });
    // What the service sent: a 41 with no field at all.
    const sent41 = h.sim
      .delivered(h.rendererId)
      .slice(delivered)
      .find((m) => m.type === 41);
    expect(
      Object.values((sent41?.body ?? {}) as Record<string, unknown>).filter(
        (v) => v !== undefined && v !== null,
      ),
    ).toEqual([]);
    const state = (
      report.body as { state?: { current_position?: { value?: number }; current_queue_item_id?: number } }
    ).state;
    expect(state?.current_position?.value ?? 0).toBeLessThan(5000);
    expect(state?.current_queue_item_id).toBe(1);
    await h.sim.waitFor(() => (h.player.positionMs() < 5000 ? true : undefined), {
      what: 'the speaker back at the start',
    });
    expect(h.player.status).toBe('playing');
    // Information (queue version and next track only) still gets no answer.
    const before = h.sim.sent(h.rendererId).length;
    h.sim.sendInfoOnlySetState();
    h.sim.setVolume(33); // answered with 25, after anything the info could have caused
    await h.sim.waitForMessage(h.rendererId, 25, {
      after: before,
      where: (b: { volume?: number }) => b.volume === 33,
    });
    expect(h.sim.sentTypes(h.rendererId, before).filter((t) => t === 23)).toEqual([]);
  });

  it('subscribes and joins again on the same link when the service forgot us, at most once per 30 s (docs/protocol.md §8)', async () => {
    const h = await playingHarness();
    const subscribes = () => h.sim.frames(h.rendererId).filter((f) => f.type === 'SUBSCRIBE').length;
    const joins = () => h.sim.sentOfType(h.rendererId, 61).length;
    const connections = h.service.connections().length;
    expect(subscribes()).toBe(1);
    expect(joins()).toBe(1);
    const from = h.sim.sent(h.rendererId).length;
    // Our report refused as if we were not the active renderer, while we are.
    h.sim.sendError(h.rendererId, SERVICE_ERRORS.nonActive.code, SERVICE_ERRORS.nonActive.message);
    await h.sim.waitForMessage(h.rendererId, 61, { after: from });
    expect(subscribes()).toBe(2);
    // We had playback: we ask for it back (63) and are active again, still on our item, on the same socket.
    await h.sim.waitForMessage(h.rendererId, 63, { after: from });
    await h.sim.waitFor(
      () => h.sim.activeRendererId === h.rendererId && h.session.view().qobuzSession === 'active',
      { what: 'active again' },
    );
    expect(h.player.current?.queueItemId).toBe(1);
    expect(h.service.connections().length).toBe(connections);
    // More of the same within the window: no storm of joins.
    const again = h.sim.sent(h.rendererId).length;
    h.sim.sendError(h.rendererId, SERVICE_ERRORS.nonActive.code, SERVICE_ERRORS.nonActive.message);
    h.sim.sendError(h.rendererId, SERVICE_ERRORS.notJoined.code, SERVICE_ERRORS.notJoined.message);
    h.sim.setVolume(33);
    await h.sim.waitForMessage(h.rendererId, 25, {
      after: again,
      where: (b: { volume?: number }) => b.volume === 33,
    });
    expect(joins()).toBe(2);
    expect(subscribes()).toBe(2);
  });

  it('does not join again for a "non active renderer" error when it is not the active renderer', async () => {
    const h = await startHarness({ becomeActive: false });
    harnesses.push(h);
    await h.sim.waitForMessage(h.rendererId, 76);
    const from = h.sim.sent(h.rendererId).length;
    h.sim.sendError(h.rendererId, SERVICE_ERRORS.nonActive.code, SERVICE_ERRORS.nonActive.message);
    h.sim.sendMessages(h.rendererId, [message(42, { volume: 21 })]);
    await h.sim.waitForMessage(h.rendererId, 25, {
      after: from,
      where: (b: { volume?: number }) => b.volume === 21,
    });
    expect(h.sim.sentTypes(h.rendererId, from)).not.toContain(61);
    expect(h.sim.frames(h.rendererId).filter((f) => f.type === 'SUBSCRIBE').length).toBe(1);
  });

  it('says qobuz_session "expired" when the link ends because its token ran out, until the app connects again', async () => {
    let skewMs = 0;
    const h = await startHarness({ now: () => Date.now() + skewMs });
    harnesses.push(h);
    await waitActive(h);
    // An hour and more later (our clock only), the socket drops: no reconnect with a dead token.
    skewMs = 2 * 60 * 60 * 1000;
    h.sim.dropConnection(h.rendererId);
    await h.sim.waitFor(() => h.session.view().qobuzSession === 'expired', { what: 'expired' });
    await h.sim.waitFor(() => h.published.states.at(-1)?.qobuzSession === 'expired', {
      what: 'expired published',
    });
    expect(h.session.sessionId).toBe('');
    skewMs = 0;
    const again = connectTo(h);
    await again.done;
    // Make before break (issue #26): "expired" holds until the new connect has joined.
    await h.sim.waitFor(() => h.session.view().qobuzSession !== 'expired', { what: 'no longer expired' });
    expect(h.session.sessionId).toBe(again.sessionId);
  });

  it('renews an expired token when it can (qws/createToken with a user token) and rejoins instead of ending the session', async () => {
    let skewMs = 0;
    const now = (): number => Date.now() + skewMs;
    const renewed: string[] = [];
    let sessionId = '';
    let service: QconnectService | null = null;
    const h = await startHarness({
      now,
      renewToken: async () => {
        const t = service!.issueToken({ sessionId });
        renewed.push(t.jwt);
        return { jwt: t.jwt, expiresAtMs: now() + 3600_000, endpoint: t.endpoint };
      },
    });
    harnesses.push(h);
    service = h.service;
    sessionId = h.token.sessionId;
    await waitActive(h);
    skewMs = 2 * 3600_000;
    const from = h.sim.sent(h.rendererId).length;
    h.sim.dropConnection(h.rendererId);
    await h.sim.waitForMessage(h.rendererId, 61, { after: from });
    await h.sim.waitFor(
      () => h.sim.activeRendererId === h.rendererId && h.session.view().qobuzSession === 'active',
      { what: 'active again' },
    );
    expect(renewed).toHaveLength(1);
    const auths = h.sim.frames(h.rendererId).filter((f) => f.type === 'AUTHENTICATE');
    expect(auths).toHaveLength(2);
    expect((auths[1]?.body as { jwt?: string }).jwt).toBe(renewed[0]);
    expect(h.session.sessionId).toBe(sessionId);
    expect(h.published.events.some((e) => e.type === 'session_closed')).toBe(false);
  });

  it('mints the next token ahead of expiry on a live link, retries a failed mint, and reconnects on the fresh token', async () => {
    let sessionId = '';
    let service: QconnectService | null = null;
    const attempts: Array<'failed' | string> = [];
    const h = await startHarness({
      expiresInSeconds: 4,
      renewAheadMs: 2000,
      renewToken: async () => {
        if (attempts.length === 0) {
          attempts.push('failed');
          throw new Error('createToken answered 503');
        }
        const t = service!.issueToken({ sessionId, expiresInSeconds: 3600 });
        attempts.push(t.jwt);
        return { jwt: t.jwt, expiresAtMs: t.exp * 1000, endpoint: t.endpoint };
      },
    });
    harnesses.push(h);
    service = h.service;
    sessionId = h.token.sessionId;
    await waitActive(h);
    // Ahead of expiry (at 2 s of 4), on the link that stays up: one failure, then a token.
    await h.sim.waitFor(() => attempts.length === 2, {
      timeoutMs: 10_000,
      what: 'a token minted after one failed try',
    });
    expect(attempts[0]).toBe('failed');
    expect(h.sim.frames(h.rendererId).filter((f) => f.type === 'AUTHENTICATE')).toHaveLength(1);
    expect(h.service.connections().filter((c) => c.phase !== 'closed')).toHaveLength(1);
    // The next reconnect uses it at once: no further mint.
    const from = h.sim.sent(h.rendererId).length;
    h.sim.dropConnection(h.rendererId);
    await h.sim.waitForMessage(h.rendererId, 61, { after: from });
    const auths = h.sim.frames(h.rendererId).filter((f) => f.type === 'AUTHENTICATE');
    expect((auths.at(-1)?.body as { jwt?: string }).jwt).toBe(attempts[1]);
    expect(attempts).toHaveLength(2);
    await h.sim.waitFor(() => h.sim.activeRendererId === h.rendererId, { what: 'active again' });
  });

  it('says "disconnected", not "expired", when the service ends the session for another reason', async () => {
    const h = await playingHarness();
    h.sim.sendDisconnect(h.rendererId, false);
    await h.sim.waitFor(() => h.session.sessionId === '', { what: 'closed' });
    expect(h.session.view().qobuzSession).toBe('disconnected');
  });

  it('says no current session ("") once the link ended for good', async () => {
    const h = await playingHarness();
    expect(h.session.sessionId).toBe(h.token.sessionId);
    h.sim.sendDisconnect(h.rendererId, false);
    await h.sim.waitFor(() => h.session.sessionId === '', { what: 'session id cleared' });
    expect(h.session.view().qobuzSession).toBe('disconnected');
  });
});
