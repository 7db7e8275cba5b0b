import { afterEach, describe, expect, it } from 'vitest';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { lastReport, startHarness, typesSent, waitActive, type Harness } from './support/session-harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('joining and activation (issue #4, docs/protocol.md §5.1-§5.4)', () => {
  it('joins with 61, asks for queue and renderer state, takes playback with 63, then reports 29, 25, 28, 23 in that order', async () => {
    h = await startHarness();
    await waitActive(h);
    const types = typesSent(h);
    expect(types.slice(0, 4)).toEqual([61, 76, 77, 63]);
    expect(types.slice(4, 8)).toEqual([29, 25, 28, 23]);
    const join = h.sim.sent(h.rendererId)[0]?.body as qconnect.CtrlSrvrJoinSession;
    expect(join.device_info?.friendly_name).toBe('Living Room');
    expect(join.device_info?.brand).toBe('qobuz-connect-bridge');
    expect(Buffer.from(join.session_uuid ?? []).toString('hex')).toBe(h.token.sessionId.replace(/-/g, ''));
    const first = lastReport(h);
    expect(first?.current_queue_item_id).toBe(-1);
  });

  it('joins with 21 behind qobuz.join: renderer, active at once when picked', async () => {
    h = await startHarness({ joinMode: 'renderer' });
    await waitActive(h);
    const join = h.sim.sent(h.rendererId)[0];
    expect(join?.type).toBe(21);
    const body = join?.body as qconnect.RndrSrvrJoinSession;
    expect(body.is_active).toBe(true);
    expect(body.reason).toBe(1);
    expect(typesSent(h)).toContain(29);
  });

  it('joins without taking playback when become_active is false', async () => {
    h = await startHarness({ becomeActive: false });
    await h.sim.waitForMessage(h.rendererId, 77);
    expect(typesSent(h)).not.toContain(63);
    expect(h.sim.activeRendererId).not.toBe(h.rendererId);
    expect(h.session.view().qobuzSession).toBe('connected');
  });

  it('reports every state with the last queue version, current and next ids and a fresh timestamp', async () => {
    h = await startHarness();
    await waitActive(h);
    h.sim.loadQueue([111, 222, 333]);
    h.sim.jump(0, { positionMs: 0, playing: true });
    await h.sim.waitFor(() => lastReport(h!)?.playing_state === qconnect.PlayingState.PLAYING && lastReport(h!)?.next_queue_item_id === 1, { what: 'playing report' });
    const r = lastReport(h)!;
    const queueVersion = h.sim.queue().version;
    expect(r.queue_version).toMatchObject({ major: queueVersion.major });
    expect(r.current_queue_item_id ?? 0).toBe(0); // item 0 is valid and absent on the wire
    expect(Math.abs(Number(r.current_position?.timestamp?.toString()) - Date.now())).toBeLessThan(5000);
  });
});
