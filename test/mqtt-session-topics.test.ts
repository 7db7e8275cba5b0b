import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { AccountSessionCommand, AccountSessionView } from '../src/core/account-session-view.js';
import { QcbError } from '../src/core/qcb-error.js';
import { HaDiscovery, type HaPlayer } from '../src/mqtt/ha-discovery.js';
import { MqttAdapter, type MqttAdapterOptions } from '../src/mqtt/mqtt-adapter.js';
import { Topics } from '../src/mqtt/topics.js';
import { connectProbe, startMosquitto, type MosquittoServer, type MqttProbe } from './support/mosquitto-server.js';

/**
 * Issue #24 on a real Mosquitto: the account's session on `B/session/…` (one retained state, events,
 * commands answered on set/result), the identity entities and the session device only with a user
 * token (added and removed across restarts), and no retained leftovers of players no longer configured.
 */
const silent = pino({ level: 'silent' });
const PLAYERS: HaPlayer[] = [{ id: 'living_room', name: 'Living Room', uuid: '2c1d7a0e-5a41-4f7b-9c1e-0f6a1b2c3d4e' }];
const BRIDGE = { version: '0.1.0', name: 'Qobuz Connect Bridge' };
const phone = { rendererId: 7, name: 'Phone', label: 'Phone', type: 'mobile', playerId: null };
const VIEW: AccountSessionView = {
  sessionId: 'abc', via: 'living_room', devices: [phone],
  active: {
    ...phone, state: 'playing', positionMs: 1000, positionAtMs: Date.UTC(2026, 0, 1), durationMs: 9000, queueItemId: 0, connected: true,
    track: { id: 1, title: 'So What', artist: 'Miles Davis', album: 'Kind of Blue', coverUrl: 'https://static.qobuz.com/c.jpg', durationMs: 9000, sampleRateHz: null, bitDepth: null },
  },
};

let server: MosquittoServer;
let n = 0;
const cleanups: (() => Promise<void>)[] = [];
beforeAll(async () => {
  server = await startMosquitto();
});
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function names() {
  n++;
  return { base: `qcb_s${n}`, prefix: `ha_s${n}` };
}

async function probe(): Promise<MqttProbe> {
  const p = await connectProbe(server.url);
  cleanups.push(() => p.end());
  return p;
}

async function adapter(o: Partial<MqttAdapterOptions> & { base: string; prefix: string }): Promise<MqttAdapter & { halt(): Promise<void> }> {
  const a = new MqttAdapter({
    link: { url: server.url, reconnectPeriodMs: 200 },
    baseTopic: o.base,
    discovery: { enabled: true, prefix: o.prefix },
    bridge: BRIDGE,
    players: PLAYERS,
    onCommand: async () => {},
    logger: silent,
    haRepublishDelayMs: () => 0,
    sweepQuietMs: 100,
    ...o,
  });
  await a.start();
  let stopped = false;
  cleanups.push(async () => {
    if (!stopped) await a.stop();
  });
  return Object.assign(a, {
    async halt() {
      stopped = true;
      await a.stop();
    },
  });
}

/** What is retained now under `filters`: a fresh subscriber sees exactly that. */
async function retained(...filters: string[]): Promise<Map<string, string>> {
  const p = await probe();
  await p.subscribe(...filters);
  await p.flush();
  return new Map(p.messages.filter((m) => m.retain).map((m) => [m.topic, m.payload]));
}

describe('the account\'s session on MQTT (issue #24)', () => {
  it('publishes one retained state, cover and events, and answers each command on set/result', async () => {
    const { base, prefix } = names();
    const commands: AccountSessionCommand[] = [];
    const a = await adapter({
      base, prefix,
      session: async (c) => {
        commands.push(c);
        if ('playOn' in c && c.playOn === 'Garage') throw new QcbError('ERR_NOT_FOUND', 'no device "Garage"');
      },
    });
    const p = await probe();
    await p.subscribe(`${base}/session/#`, `${prefix}/device/+/config`);
    a.publishSessionState(VIEW);
    a.publishSessionEvent({ type: 'device_joined', atMs: Date.UTC(2026, 0, 1), fields: { rendererId: 7, name: 'Phone' } });
    const state = await p.waitFor((m) => m.topic === `${base}/session/state`);
    expect(state.retain).toBe(false); // live delivery; retained for later subscribers (below)
    expect(JSON.parse(state.payload)).toEqual({
      in_session: true, session_id: 'abc', via: 'living_room',
      devices: [{ renderer_id: 7, name: 'Phone', label: 'Phone', type: 'mobile', player: null }],
      active: {
        renderer_id: 7, name: 'Phone', label: 'Phone', type: 'mobile', player: null, state: 'playing', connected: true,
        position_ms: 1000, position_at: '2026-01-01T00:00:00.000Z', duration_ms: 9000, queue_item_id: 0,
        track: { id: 1, title: 'So What', artist: 'Miles Davis', album: 'Kind of Blue', cover_url: 'https://static.qobuz.com/c.jpg' },
      },
    });
    const event = await p.waitFor((m) => m.topic === `${base}/session/event`);
    expect(JSON.parse(event.payload)).toEqual({ type: 'device_joined', at: '2026-01-01T00:00:00.000Z', renderer_id: 7, name: 'Phone' });
    // The select's options follow the devices: the session device's config came before the state naming them.
    const configAt = p.messages.findIndex((m) => m.topic === `${prefix}/device/qcb_session_${base}/config` && m.payload.includes('"options":["Phone"]'));
    expect(configAt).toBeGreaterThanOrEqual(0);
    expect(configAt).toBeLessThan(p.messages.indexOf(state));
    const kept = await retained(`${base}/session/+`);
    expect([...kept.keys()].sort()).toEqual([`${base}/session/cover_url`, `${base}/session/state`]);
    expect(kept.get(`${base}/session/cover_url`)).toBe('https://static.qobuz.com/c.jpg');

    expect(await p.command(`${base}/session`, { play_on: 'Phone', id: 'x' })).toEqual({ ok: true, id: 'x' });
    expect(await p.command(`${base}/session`, { pause: false })).toEqual({ ok: true });
    expect(await p.command(`${base}/session`, { play_on: 'Garage' })).toMatchObject({ ok: false, code: 'ERR_NOT_FOUND' });
    expect(await p.command(`${base}/session`, { play_on: 5 })).toEqual({ ok: true });
    expect(await p.command(`${base}/session`, 'nope')).toMatchObject({ ok: false, code: 'ERR_BAD_COMMAND' });
    expect(commands).toEqual([{ playOn: 'Phone' }, { pause: false }, { playOn: 'Garage' }, { playOn: '5' }]);
  });

  it('without a user token offers neither the session nor the identity entities, and answers ERR_NO_USER_TOKEN', async () => {
    const { base, prefix } = names();
    const a = await adapter({ base, prefix });
    a.publishSessionState(VIEW);
    const p = await probe();
    await p.subscribe(`${base}/session/set/result`);
    expect(await p.command(`${base}/session`, { play_on: 'Phone' })).toMatchObject({ ok: false, code: 'ERR_NO_USER_TOKEN' });
    const kept = await retained(`${base}/session/+`, `${prefix}/device/+/config`);
    expect([...kept.keys()].filter((t) => t.includes('session'))).toEqual([]);
    const player = JSON.parse(kept.get(`${prefix}/device/${PLAYERS[0]!.uuid}/config`)!);
    expect(Object.keys(player.cmps)).not.toContain('play_media');
  });

  it('adds the session device and identity entities when a token is set, and removes them when it goes, across restarts', async () => {
    const { base, prefix } = names();
    const playerTopic = `${prefix}/device/${PLAYERS[0]!.uuid}/config`;
    const sessionTopic = `${prefix}/device/qcb_session_${base}/config`;
    const withToken = await adapter({ base, prefix, session: async () => {} });
    const first = await probe();
    await first.subscribe(`${base}/session/state`);
    withToken.publishSessionState(VIEW);
    await first.waitFor((m) => m.topic === `${base}/session/state`);
    let kept = await retained(`${prefix}/device/+/config`, `${base}/session/+`);
    expect(JSON.parse(kept.get(playerTopic)!).cmps).toHaveProperty('play_media');
    expect(kept.has(sessionTopic)).toBe(true);
    expect(kept.has(`${base}/session/state`)).toBe(true);
    await withToken.halt();

    // Restarted without the token: the session device and its topics are cleared, the identity entities marked removed.
    const without = await adapter({ base, prefix });
    kept = await retained(`${prefix}/device/+/config`, `${base}/session/+`);
    expect(kept.has(sessionTopic)).toBe(false);
    expect(kept.has(`${base}/session/state`)).toBe(false);
    expect(kept.has(`${base}/session/cover_url`)).toBe(false);
    const marked = JSON.parse(kept.get(playerTopic)!).cmps;
    expect([marked.play_media, marked.transfer, marked.session_event]).toEqual([{ p: 'text' }, { p: 'button' }, { p: 'event' }]);
    await without.halt();

    // Once more without: the markers were seen, the config is clean; then with the token again, all is back.
    await (await adapter({ base, prefix })).halt();
    kept = await retained(`${prefix}/device/+/config`);
    expect(JSON.parse(kept.get(playerTopic)!).cmps).not.toHaveProperty('play_media');
    const again = await adapter({ base, prefix, session: async () => {} });
    const watch = await probe();
    await watch.subscribe(sessionTopic);
    again.publishSessionState(VIEW);
    await watch.waitFor((m) => m.payload.includes('"options":["Phone"]'));
    kept = await retained(`${prefix}/device/+/config`);
    expect(JSON.parse(kept.get(playerTopic)!).cmps.play_media).toMatchObject({ p: 'text', name: 'Play Qobuz' });
    expect(kept.get(sessionTopic)).toBe(new HaDiscovery({ topics: new Topics(base, prefix), bridge: BRIDGE }).sessionConfig(['Phone']).payload);
  });

  it('clears at start every retained topic of a player no longer configured, and never another bridge\'s', async () => {
    const { base, prefix } = names();
    const seed = await probe();
    const leftovers = ['state', 'availability', 'queue', 'cover_url', 'set', 'anything'].map((leaf) => `${base}/attic/${leaf}`);
    const others = [`${base}/upstairs/attic/state`, `${base}/upstairs/bridge/state`, `other_${base}/attic/state`];
    const ours = [`${base}/living_room/state`, `${base}/living_room/availability`];
    for (const t of [...leftovers, ...others, ...ours]) await seed.publish(t, 'x', { retain: true });
    await adapter({ base, prefix });
    const kept = await retained(`${base}/#`, `other_${base}/#`);
    for (const t of leftovers) expect(kept.has(t), t).toBe(false);
    for (const t of others) expect(kept.get(t), t).toBe('x');
    expect(kept.get(`${base}/living_room/availability`)).toBe('offline'); // ours, re-published as it is now
    expect(kept.has(`${base}/living_room/state`)).toBe(true);
    expect(kept.get(`${base}/bridge/state`)).toBe('{"state":"online"}');
  });
});
