import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AccountSession } from '../src/session/account/account-session.js';
import type { AccountSessionEvent, AccountSessionView } from '../src/core/account-session-view.js';
import type { SessionController } from '../src/core/session-observer.js';

/**
 * The account-level owner on its own (issue #24, docs/architecture.md "The account's session"):
 * fed facts as the players' links would, it picks one answering link, labels devices, derives
 * events only from real changes, and answers commands with stable codes.
 */
const UUID = { a: 'aaaaaaaa-0000-4000-8000-000000000001', b: 'bbbbbbbb-0000-4000-8000-000000000002' };

function owner(o: { stepTimeoutMs?: number } = {}) {
  const states: AccountSessionView[] = [];
  const events: AccountSessionEvent[] = [];
  const sent: Array<[string, string, number | boolean]> = [];
  const s = new AccountSession({
    players: [
      { id: 'a', uuid: UUID.a },
      { id: 'b', uuid: UUID.b },
    ],
    publisher: () => ({ publishSessionState: (v) => states.push(v), publishSessionEvent: (e) => events.push(e) }),
    trackInfo: null,
    logger: pino({ level: 'silent' }),
    stepTimeoutMs: o.stepTimeoutMs ?? 200,
  });
  const controller = (id: string): SessionController => ({
    setActiveRenderer: async (r) => void sent.push([id, '63', r]),
    setPlaying: async (p) => void sent.push([id, '62', p]),
  });
  s.attach('a', controller('a'));
  s.attach('b', controller('b'));
  s.start();
  /** The view as last published on MQTT (`B/session/state`). */
  const view = (): AccountSessionView => states.at(-1)!;
  return { s, view, states, events, sent };
}

const renderer = (rendererId: number, name: string, deviceUuid = '') => ({ rendererId, name, deviceUuid, type: 'speaker' });
const playing = { status: 'playing' as const, positionMs: 0, atMs: 1, durationMs: null, queueItemId: 0, trackId: null };

/** Player `id` joins session `sid` and hears the same renderers (83s and 81, as the join batch brings them). */
function join(s: AccountSession, id: string, sid: string, own: boolean, names: string[]): void {
  names.forEach((n, i) => s.rendererAdded(id, renderer(100 + i, n, n === 'A' ? UUID.a : n === 'B' ? UUID.b : '')));
  s.activeChanged(id, -1);
  s.link(id, { sessionId: sid, ownRendererId: 100, own });
}

// Facts are inputs of the owner's loop (issue #22): a test reads the view once the loop is idle.
describe('AccountSession (issue #24)', () => {
  it('answers through the first own link, else the first joined player, and fails over without announcing a new picture', async () => {
    const { s, view, events } = owner();
    join(s, 'b', 'S', true, ['A', 'B', 'Phone']);
    await s.idle();
    expect(view().via).toBe('b');
    join(s, 'a', 'S', false, ['A', 'B', 'Phone']);
    await s.idle();
    expect(view().via).toBe('b'); // an own link wins over config order
    s.link('b', null);
    await s.idle();
    expect(view().via).toBe('a');
    expect(view().devices.map((d) => [d.label, d.playerId])).toEqual([['A', 'a'], ['B', 'b'], ['Phone', null]]);
    expect(events).toEqual([]); // the same devices seen through another link: nothing happened
    s.link('a', null);
    await s.idle();
    expect(view()).toMatchObject({ sessionId: null, via: null, devices: [], active: null });
  });

  it('tells devices of one name apart by renderer id, and finds a device by label, name, id or player id', async () => {
    const { s, view, sent } = owner();
    join(s, 'a', 'S', true, ['A', 'Phone', 'Phone', 'B']);
    await s.idle();
    expect(view().devices.map((d) => d.label)).toEqual(['A', 'Phone (101)', 'Phone (102)', 'B']);
    s.activeChanged('a', 100);
    const moves = ['phone (102)', '101', 'b', 'A'];
    for (const [i, target] of moves.entries()) {
      const done = s.command({ playOn: target });
      await Promise.resolve();
      s.activeChanged('a', [102, 101, 103, 100][i]!);
      await done;
    }
    expect(sent.map((x) => x[2])).toEqual([102, 101, 103, 100]);
    await expect(s.command({ playOn: 'Phone' })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });

  it('refuses on a service error after the verb, ignores the renderer-side "non active renderer" one, and times out with ERR_TIMEOUT', async () => {
    const { s, view } = owner({ stepTimeoutMs: 300 });
    join(s, 'a', 'S', true, ['A', 'Phone']);
    const refused = s.command({ playOn: 'Phone' });
    s.serviceError('a', 'Renderer state updated message received from non active renderer');
    s.serviceError('a', 'Renderer not found');
    await expect(refused).rejects.toMatchObject({ code: 'ERR_QOBUZ_REFUSED', message: expect.stringMatching(/Renderer not found/) });
    await expect(s.command({ playOn: 'Phone' })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(view().active).toBeNull();
    s.activeChanged('a', 101);
    s.rendererState('a', 101, playing, true);
    const paused = s.command({ pause: true });
    s.rendererState('a', 101, { ...playing, status: 'paused' }, true);
    await paused;
    await s.idle();
    expect(view().active?.state).toBe('paused');
    await expect(s.command({ pause: true })).resolves.toBeUndefined();
  });

  it('announces joins, departures and the active device only for changes within one session', async () => {
    const { s, view, events } = owner();
    join(s, 'a', 'S', true, ['A']);
    s.rendererAdded('a', renderer(150, 'Phone'));
    s.activeChanged('a', 150);
    s.rendererState('a', 150, null, false); // the active phone lost its connection: still active
    await s.idle();
    expect(view().active).toMatchObject({ name: 'Phone', connected: false, state: 'idle' });
    s.rendererRemoved('a', 150);
    s.activeChanged('a', 100);
    await s.idle();
    const name = (d: unknown) => (d as { name?: string } | null)?.name ?? '-';
    expect(events.map((e) => [e.type, e.fields.name ?? `${name(e.fields.from)}>${name(e.fields.to)}`])).toEqual([
      ['device_joined', 'Phone'],
      ['active_device_changed', '->Phone'],
      ['device_left', 'Phone'],
      ['active_device_changed', 'Phone>-'],
      ['active_device_changed', '->A'],
    ]);
    // Another session: a new picture, not a change.
    s.link('a', { sessionId: 'T', ownRendererId: 100, own: true });
    await s.idle();
    expect(view().devices).toEqual([]);
    expect(events).toHaveLength(5);
  });

  it('keeps what it heard when the session id comes after the renderers (81 after the 83s)', async () => {
    const { s, view, events } = owner();
    s.rendererAdded('a', renderer(100, 'A', UUID.a));
    s.rendererAdded('a', renderer(101, 'Phone'));
    s.link('a', { sessionId: null, ownRendererId: 100, own: true });
    s.link('a', { sessionId: 'S', ownRendererId: 100, own: true });
    await s.idle();
    expect(view()).toMatchObject({ sessionId: 'S', via: 'a' });
    expect(view().devices.map((d) => d.name)).toEqual(['A', 'Phone']);
    expect(events).toEqual([]);
  });
});
