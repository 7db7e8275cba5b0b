import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, waitActive, type Harness } from '../support/session-harness.js';

let s: Harness | undefined;
afterEach(async () => s?.close());

describe('a silent service that recovers while a rejoin is pending (issue #8, faults)', () => {
  it('gives up on an unanswered join and rejoins once the service answers again', async () => {
    s = await startHarness(); // link: ping 1 s, dead after 3 s
    await waitActive(s);
    s.sim.loadQueue([111, 222]);
    s.sim.jump(0, { playing: true });
    await s.sim.waitFor(() => s!.player.status === 'playing', { what: 'playing' });
    const first = s.service.connections().length;
    s.sim.setUnresponsive(true);
    await s.service.waitFor(() => s!.service.connections()[first]?.frames.some((f) => f.type === 'PAYLOAD'), {
      what: 'an unanswered rejoin',
      timeoutMs: 15_000,
    });
    s.sim.setUnresponsive(false);
    await s.sim.waitFor(
      () => s!.sim.activeRendererId === s!.rendererId && s!.session.view().qobuzSession === 'active' && s!.sim.renderers()[0]?.connected,
      { what: 'rejoined and active', timeoutMs: 15_000 },
    );
    expect(s.sim.renderers()).toHaveLength(1);
    expect(s.player.status).toBe('playing');
  }, 60_000);
});
