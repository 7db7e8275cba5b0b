import { afterEach, describe, expect, it } from 'vitest';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { QconnectService } from './support/qconnect-service.js';
import { SimRenderer } from './support/sim-renderer.js';
import { lastReport, startHarness, waitActive, type Harness } from './support/session-harness.js';

let harnesses: Harness[] = [];
let services: QconnectService[] = [];
afterEach(async () => {
  for (const h of harnesses) await h.close();
  for (const s of services) await s.stop();
  harnesses = [];
  services = [];
});

async function track(h: Harness): Promise<Harness> {
  harnesses.push(h);
  return h;
}

async function playingHarness(opts: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  const h = await track(await startHarness(opts));
  await waitActive(h);
  h.sim.loadQueue([111, 222, 333]);
  h.sim.jump(1, { positionMs: 10_000, playing: true });
  await h.sim.waitFor(() => h.player.current?.queueItemId === 1 && h.player.status === 'playing', { what: 'playing item 1' });
  return h;
}

describe('hand-over, reconnects and hostile input (issue #4, §5.5, §5.11-§5.12)', () => {
  it('takes over from another renderer mid-track within 1 s of its position', async () => {
    const service = new QconnectService();
    services.push(service);
    await service.start();
    const token = service.issueToken();
    const sim = service.session(token.sessionId);
    const other = await SimRenderer.connect({ endpoint: service.endpoint, jwt: service.issueToken({ sessionId: token.sessionId }).jwt, sessionId: token.sessionId, deviceUuid: '22222222-2222-2222-2222-222222222222', name: 'Phone' });
    other.becomeActive();
    await sim.waitFor(() => sim.activeRendererId === other.rendererId, { what: 'phone active' });
    sim.loadQueue([111, 222, 333]);
    other.reportState({ playing: 'PLAYING', positionMs: 30_000, queueItemId: 2, durationMs: 200_000 });
    await sim.waitFor(() => sim.renderers().find((r) => r.rendererId === other.rendererId)?.lastState, { what: 'phone state' });
    const h = await track(await startHarness({ service, sessionId: token.sessionId }));
    await h.sim.waitFor(() => h.player.current?.queueItemId === 2 && h.player.status === 'playing', { what: 'we play item 2' });
    const expected = 30_000 + (Date.now() - (h.sim.sent(h.rendererId)[0]?.at ?? Date.now()));
    expect(Math.abs(h.player.positionMs() - expected)).toBeLessThan(2500);
    await other.close();
  });

  it('stops reporting and pauses when the app hands playback to another renderer, leaving our last position with the service', async () => {
    const h = await playingHarness();
    const other = await SimRenderer.connect({ endpoint: h.service.endpoint, jwt: h.service.issueToken({ sessionId: h.token.sessionId }).jwt, sessionId: h.token.sessionId, deviceUuid: '33333333-3333-3333-3333-333333333333', name: 'Other' });
    const ourLast = lastReport(h);
    h.sim.pickRenderer(other.rendererId);
    await h.sim.waitFor(() => h.player.status === 'paused', { what: 'we paused' });
    expect(h.session.view().qobuzSession).toBe('connected');
    const count = h.sim.sent(h.rendererId).filter((m) => m.type === 23).length;
    h.player.externally('playing');
    await h.session.idle();
    expect(h.sim.sent(h.rendererId).filter((m) => m.type === 23).length).toBe(count);
    const saved = h.sim.renderers().find((r) => r.rendererId === h.rendererId)?.lastState;
    expect(saved?.currentQueueItemId ?? saved).toBeDefined();
    expect(ourLast?.current_queue_item_id).toBe(1);
    await other.close();
  });

  it('rejoins after a dropped connection with the same renderer id, resyncs the queue and takes playback back', async () => {
    const h = await playingHarness();
    const before = h.sim.renderers().length;
    const sentBefore = h.sim.sent(h.rendererId).length;
    h.sim.dropConnection(h.rendererId);
    await h.sim.waitForMessage(h.rendererId, 61, { after: sentBefore - 1, timeoutMs: 15_000 });
    await h.sim.waitForMessage(h.rendererId, 76, { after: sentBefore });
    await h.sim.waitFor(() => h.sim.activeRendererId === h.rendererId && h.session.view().qobuzSession === 'active', { what: 'active again' });
    expect(h.sim.renderers().length).toBe(before);
    expect(h.player.status).toBe('playing');
    await h.sim.waitFor(() => (lastReport(h)?.current_queue_item_id === 1 ? true : undefined), { what: 'fresh report' });
  });

  it('rejoins in the background without taking playback when it was not active', async () => {
    const h = await track(await startHarness({ becomeActive: false }));
    await h.sim.waitForMessage(h.rendererId, 77);
    const sentBefore = h.sim.sent(h.rendererId).length;
    h.sim.dropConnection(h.rendererId);
    await h.sim.waitForMessage(h.rendererId, 77, { after: sentBefore, timeoutMs: 15_000 });
    expect(h.sim.sent(h.rendererId).slice(sentBefore).map((m) => m.type)).not.toContain(63);
  });

  it('goes idle without a reconnect storm when the token has expired', async () => {
    let skewMs = 0;
    const h = await track(await startHarness({ now: () => Date.now() + skewMs }));
    await waitActive(h);
    skewMs = 2 * 3600_000; // the session's clock is past the token's expiry (an hour)
    const connectsBefore = h.sim.frames(h.rendererId).filter((f) => f.type === 'AUTHENTICATE').length;
    h.sim.dropConnection(h.rendererId);
    await h.sim.waitFor(() => h.published.events.find((e) => e.type === 'session_closed'), { what: 'session closed' });
    expect(h.session.view().qobuzSession).toBe('expired'); // README "MQTT topics" (issue #12)
    await h.session.idle();
    expect(h.sim.frames(h.rendererId).filter((f) => f.type === 'AUTHENTICATE').length).toBe(connectsBefore);
    await expect(h.session.command({ action: 'play' })).rejects.toThrow('no Qobuz session');
  });

  it('survives 10 000 malformed frames and still answers SetState correctly', async () => {
    const h = await playingHarness();
    let seed = 1;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 10_000; i++) {
      const len = 1 + Math.floor(rnd() * 40);
      const bytes = Uint8Array.from({ length: len }, () => Math.floor(rnd() * 256));
      if (i % 2 === 0) bytes[0] = 6; // a Payload envelope with garbage inside
      h.sim.sendRaw(h.rendererId, bytes);
    }
    h.sim.pause();
    await h.sim.waitFor(() => (lastReport(h)?.playing_state === qconnect.PlayingState.PAUSED ? true : undefined), { what: 'paused after the garbage', timeoutMs: 10_000 });
    expect(h.player.status).toBe('paused');
  });

  it('runs two players in two sessions at once with no cross-talk', async () => {
    const service = new QconnectService();
    services.push(service);
    await service.start();
    const a = await track(await startHarness({ service, deviceUuid: 'aaaaaaaa-0000-4000-8000-000000000001' }));
    const b = await track(await startHarness({ service, deviceUuid: 'bbbbbbbb-0000-4000-8000-000000000002' }));
    await waitActive(a);
    await waitActive(b);
    a.sim.loadQueue([1, 2]);
    b.sim.loadQueue([7, 8, 9]);
    a.sim.jump(0);
    b.sim.jump(2);
    await a.sim.waitFor(() => a.player.current?.trackId === 1, { what: 'a plays 1' });
    await b.sim.waitFor(() => b.player.current?.trackId === 9, { what: 'b plays 9' });
    a.sim.pause();
    await a.sim.waitFor(() => a.player.status === 'paused', { what: 'a paused' });
    expect(b.player.status).toBe('playing');
    expect(a.sim.sessionId).not.toBe(b.sim.sessionId);
  });
});
