import { afterEach, describe, expect, it } from 'vitest';
import { SimRenderer } from './support/qconnect-service.js';
import { startHarness, waitActive, type Harness } from './support/session-harness.js';

/**
 * Issue #15 (README "MQTT topics", events): whether Qobuz plays *here*, for Home Assistant's
 * "Qobuz session" event entity — session_started, session_taken_over, session_ended — and a
 * dropped link that comes back is none of them.
 */
let h: Harness | undefined;
let phone: SimRenderer | undefined;
afterEach(async () => {
  await phone?.close();
  await h?.close();
  phone = undefined;
  h = undefined;
});

const sessionEvents = (x: Harness) =>
  x.published.events
    .filter((e) => e.type.startsWith('session_') && !['session_connected', 'session_closed'].includes(e.type))
    .map((e) => e.type);

describe('the session events of the player (issue #15)', () => {
  it('started when picked, nothing for a dropped link that comes back, taken_over by another device, started again, ended with the session', async () => {
    h = await startHarness();
    await waitActive(h);
    expect(sessionEvents(h)).toEqual(['session_started']);

    // A drop and a background rejoin that takes playback back (§5.12): no event.
    const from = h.sim.sent(h.rendererId).length;
    h.sim.dropConnection(h.rendererId);
    await h.sim.waitForMessage(h.rendererId, 63, { after: from });
    await h.sim.waitFor(() => h!.session.view().qobuzSession === 'active', { what: 'active again' });
    expect(sessionEvents(h)).toEqual(['session_started']);

    phone = await SimRenderer.connect({
      endpoint: h.token.endpoint,
      jwt: h.service.issueToken({ sessionId: h.token.sessionId }).jwt,
      sessionId: h.token.sessionId,
      deviceUuid: '5d1f0a3e-8c2b-4e6f-9a71-0b2c3d4e5f60',
      name: 'Phone',
    });
    h.sim.pickRenderer(phone.rendererId);
    await h.sim.waitFor(() => h!.session.view().qobuzSession === 'connected', { what: 'taken over' });
    expect(sessionEvents(h)).toEqual(['session_started', 'session_taken_over']);

    h.sim.pickRenderer(h.rendererId);
    await h.sim.waitFor(() => h!.session.view().qobuzSession === 'active', { what: 'ours again' });
    h.sim.sendDisconnect(h.rendererId, false);
    await h.sim.waitFor(() => h!.session.view().qobuzSession === 'disconnected', { what: 'ended' });
    expect(sessionEvents(h)).toEqual([
      'session_started',
      'session_taken_over',
      'session_started',
      'session_ended',
    ]);
    const ended = h.published.events.find((e) => e.type === 'session_ended');
    expect(ended?.fields).toEqual({ reason: 'service said not to reconnect' });
  });

  it('says nothing while the player only listens in a session and never plays', async () => {
    h = await startHarness({ becomeActive: false });
    await h.sim.waitForMessage(h.rendererId, 77);
    h.sim.sendDisconnect(h.rendererId, false);
    await h.sim.waitFor(() => h!.session.view().qobuzSession === 'disconnected', { what: 'closed' });
    expect(h.published.events.map((e) => e.type)).toContain('session_closed');
    expect(sessionEvents(h)).toEqual([]);
  });
});
