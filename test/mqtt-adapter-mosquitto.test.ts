import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import type { PlayerCommand, PlayerView, SessionEvent } from '../src/core/player-view.js';
import { QcbError } from '../src/core/qcb-error.js';
import { HaDiscovery, type HaPlayer } from '../src/mqtt/ha-discovery.js';
import { MqttAdapter, type MqttAdapterOptions } from '../src/mqtt/mqtt-adapter.js';
import { Topics } from '../src/mqtt/topics.js';
import { connectProbe, startMosquitto, type MosquittoServer, type MqttProbe } from './support/mosquitto-server.js';

const silent = pino({ level: 'silent' });
const PLAYERS: HaPlayer[] = [
  { id: 'living_room', name: 'Living Room', uuid: '2c1d7a0e-5a41-4f7b-9c1e-0f6a1b2c3d4e', deviceType: 'speaker' },
  { id: 'kitchen', name: 'Kitchen', uuid: '9e8d7c6b-5a49-4382-a716-f5e4d3c2b1a0', deviceType: 'speaker' },
];
const BRIDGE = { version: '0.1.0', name: 'Qobuz Connect Bridge' };

const view: PlayerView = {
  state: 'playing', qobuzSession: 'active', volume: 40, muted: false, positionMs: 61_234,
  positionAtMs: Date.UTC(2026, 0, 2, 3, 4, 5, 678), durationMs: 245_000, shuffle: false, repeat: 'all',
  track: {
    id: 59954869, title: 'So What', artist: 'Miles Davis', album: 'Kind of Blue',
    coverUrl: 'https://static.qobuz.com/images/covers/x_600.jpg', durationMs: 245_000, sampleRateHz: 96_000, bitDepth: 24,
  },
  queue: { length: 5, index: 1 }, available: true,
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

/** Each test gets its own base topic and discovery prefix on the shared broker: no test sees another's retained messages. */
function names() {
  n++;
  return { base: `qcb_t${n}`, prefix: `ha_t${n}` };
}

async function probe(url = server.url): Promise<MqttProbe> {
  const p = await connectProbe(url);
  cleanups.push(() => p.end());
  return p;
}

async function adapter(overrides: Partial<MqttAdapterOptions> & { base: string; prefix: string }) {
  const onCommand = vi.fn<(id: string, c: PlayerCommand) => Promise<void>>(async () => {});
  const a = new MqttAdapter({
    link: { url: server.url, reconnectPeriodMs: 200 },
    baseTopic: overrides.base,
    discovery: { enabled: true, prefix: overrides.prefix },
    bridge: BRIDGE,
    players: PLAYERS,
    onCommand,
    logger: silent,
    haRepublishDelayMs: () => 0,
    sweepQuietMs: 50,
    ...overrides,
  });
  cleanups.push(() => a.stop());
  await a.start();
  return { adapter: a, onCommand };
}

describe('MqttAdapter against a real Mosquitto (README.md "MQTT topics")', () => {
  it('publishes bridge online and info retained, and the broker publishes the offline will when the link dies without DISCONNECT', async () => {
    const { base, prefix } = names();
    const { adapter: a } = await adapter({ base, prefix });
    const p = await probe();
    await p.subscribe(`${base}/bridge/#`);
    const online = await p.waitFor((m) => m.topic === `${base}/bridge/state`);
    expect(online).toMatchObject({ payload: '{"state":"online"}', retain: true });
    const info = await p.waitFor((m) => m.topic === `${base}/bridge/info`);
    expect(info.retain).toBe(true);
    expect(JSON.parse(info.payload)).toEqual({
      version: '0.1.0', name: 'Qobuz Connect Bridge',
      players: PLAYERS.map(({ id, name, uuid }) => ({ id, name, uuid })),
    });
    const from = p.messages.length;
    await a.link.abort();
    const will = await p.waitFor((m) => m.topic === `${base}/bridge/state`, { from });
    expect(will.payload).toBe('{"state":"offline"}');
    // ...and it stays retained for whoever comes later.
    const late = await probe();
    await late.subscribe(`${base}/bridge/state`);
    expect((await late.waitFor(() => true)).payload).toBe('{"state":"offline"}');
  });

  it('stop() publishes bridge offline and every player offline, retained, then disconnects', async () => {
    const { base, prefix } = names();
    const { adapter: a } = await adapter({ base, prefix });
    a.publishAvailability('living_room', true);
    a.publishAvailability('kitchen', true);
    await a.stop();
    expect(a.connected).toBe(false);
    const p = await probe();
    await p.subscribe(`${base}/#`);
    await p.flush();
    const retained = Object.fromEntries(p.messages.filter((m) => m.retain).map((m) => [m.topic, m.payload]));
    expect(retained).toMatchObject({
      [`${base}/bridge/state`]: '{"state":"offline"}',
      [`${base}/living_room/availability`]: 'offline',
      [`${base}/kitchen/availability`]: 'offline',
    });
  });

  it('publishes retained discovery for the bridge and both players, and nothing again while it is unchanged', async () => {
    const { base, prefix } = names();
    const { adapter: a } = await adapter({ base, prefix });
    const p = await probe();
    await p.subscribe(`${prefix}/device/+/config`);
    await p.flush();
    // Without a session sink (no user token) the identity entities are not offered (issue #24).
    const expected = new HaDiscovery({ topics: new Topics(base, prefix), bridge: BRIDGE, identity: false }).all(PLAYERS);
    const got = p.messages.filter((m) => m.topic.startsWith(`${prefix}/`));
    expect(got.map((m) => [m.topic, m.payload, m.retain])).toEqual(expected.map((m) => [m.topic, m.payload, true]));
    const before = p.messages.length;
    expect(await a.publishDiscovery()).toBe(0);
    await p.flush();
    expect(p.messages.slice(before).filter((m) => m.topic.startsWith(`${prefix}/`))).toEqual([]);
  });

  it('re-publishes discovery and then the states after a random 0.5-2 s delay when Home Assistant says online', async () => {
    const { base, prefix } = names();
    const { adapter: a } = await adapter({ base, prefix, haRepublishDelayMs: undefined });
    a.publishState('living_room', view);
    a.publishAvailability('living_room', true);
    const p = await probe();
    await p.subscribe(`${prefix}/device/+/config`, `${base}/+/state`, `${base}/+/availability`);
    await p.flush();
    const from = p.messages.length;
    const sentAt = Date.now();
    await p.publish(`${prefix}/status`, 'online');
    const lastConfig = await p.waitFor((m) => m.topic === `${prefix}/device/${PLAYERS[1]!.uuid}/config`, { from, timeoutMs: 10_000 });
    const state = await p.waitFor((m) => m.topic === `${base}/living_room/state`, { from });
    const firstConfig = p.messages.slice(from).find((m) => m.topic.startsWith(`${prefix}/device/`))!;
    expect(firstConfig.at - sentAt).toBeGreaterThanOrEqual(450);
    expect(firstConfig.at - sentAt).toBeLessThan(2500);
    expect(p.messages.indexOf(state)).toBeGreaterThan(p.messages.indexOf(lastConfig));
    expect(p.messages.slice(from).filter((m) => m.topic.startsWith(`${prefix}/device/`))).toHaveLength(3);
    // HA going offline triggers nothing.
    const after = p.messages.length;
    await p.publish(`${prefix}/status`, 'offline');
    await p.flush();
    expect(p.messages.slice(after).filter((m) => !m.topic.startsWith('probe/'))).toEqual([]);
  });

  it('publishes the exact state JSON retained, the cover URL on its own topic, and skips an identical state', async () => {
    const { base, prefix } = names();
    const { adapter: a } = await adapter({ base, prefix });
    const p = await probe();
    await p.subscribe(`${base}/living_room/state`, `${base}/living_room/cover_url`);
    a.publishState('living_room', view);
    const state = await p.waitFor((m) => m.topic === `${base}/living_room/state`);
    expect(JSON.parse(state.payload)).toEqual({
      state: 'playing', qobuz_session: 'active', volume: 40, muted: false, position_ms: 61234,
      position_at: '2026-01-02T03:04:05.678Z', duration_ms: 245000, shuffle: false, repeat: 'all',
      track: {
        id: 59954869, title: 'So What', artist: 'Miles Davis', album: 'Kind of Blue',
        cover_url: 'https://static.qobuz.com/images/covers/x_600.jpg', sample_rate: 96000, bit_depth: 24,
      },
      queue: { length: 5, index: 1 }, source: 'qobuz',
      // README "The true format" (issue #23): null until MPD has said what its outputs play.
      format: null,
    });
    const cover = await p.waitFor((m) => m.topic === `${base}/living_room/cover_url`);
    expect(cover.payload).toBe('https://static.qobuz.com/images/covers/x_600.jpg');
    const before = p.messages.length;
    a.publishState('living_room', { ...view });
    a.publishState('living_room', { ...view, volume: 41 });
    // The adapter's own publishes keep their order; a flush through another client would not
    // (issue #11): once 41 is here, an identical state published before it would be here too.
    await p.waitFor((m) => m.topic === `${base}/living_room/state` && JSON.parse(m.payload).volume === 41, { from: before });
    const later = p.messages.slice(before).filter((m) => !m.topic.startsWith('probe/'));
    expect(later.map((m) => JSON.parse(m.payload).volume)).toEqual([41]);
    const retained = await probe();
    await retained.subscribe(`${base}/living_room/state`);
    const r = await retained.waitFor(() => true);
    expect(r.retain).toBe(true);
    expect(JSON.parse(r.payload).volume).toBe(41);
  });

  it('publishes events non-retained and in the order they happened', async () => {
    const { base, prefix } = names();
    const { adapter: a } = await adapter({ base, prefix });
    const p = await probe();
    await p.subscribe(`${base}/kitchen/event`);
    const events: SessionEvent[] = Array.from({ length: 30 }, (_, i) => ({
      type: i % 2 ? 'set_volume' : 'set_state', atMs: Date.UTC(2026, 0, 1) + i, fields: { seq: i, volumeLevel: i },
    }));
    for (const e of events) a.publishEvent('kitchen', e);
    await p.waitFor((m) => m.topic === `${base}/kitchen/event` && JSON.parse(m.payload).seq === 29);
    const got = p.messages.filter((m) => m.topic === `${base}/kitchen/event`);
    expect(got.map((m) => JSON.parse(m.payload).seq)).toEqual(events.map((_, i) => i));
    expect(got.every((m) => !m.retain)).toBe(true);
    expect(JSON.parse(got[1]!.payload)).toEqual({ type: 'set_volume', at: '2026-01-01T00:00:00.001Z', seq: 1, volume_level: 1 });
  });
});

describe('MqttAdapter commands (README.md "MQTT topics", B/<player>/set)', () => {
  async function setup() {
    const { base, prefix } = names();
    const ctx = await adapter({ base, prefix });
    const p = await probe();
    await p.subscribe(`${base}/+/set/result`);
    const send = async (player: string, payload: string | Buffer) => {
      const from = p.messages.length;
      await p.publish(`${base}/${player}/set`, payload);
      return JSON.parse((await p.waitFor((m) => m.topic === `${base}/${player}/set/result`, { from })).payload) as unknown;
    };
    return { ...ctx, send };
  }

  it('passes a good command to onCommand and answers {"ok":true}', async () => {
    const { onCommand, send } = await setup();
    expect(await send('living_room', '{"action":"pause","volume":25,"repeat":"one"}')).toEqual({ ok: true });
    expect(onCommand).toHaveBeenCalledExactlyOnceWith('living_room', { action: 'pause', volume: 25, repeat: 'one' });
    expect(await send('kitchen', '{"seek_ms":60000}')).toEqual({ ok: true });
    expect(onCommand).toHaveBeenLastCalledWith('kitchen', { seekMs: 60000 });
  });

  it.each([
    ['bad JSON', '{"action":', /not valid JSON/],
    ['an unknown action', '{"action":"dance"}', /action: must be one of/],
    ['volume 150', '{"volume":150}', /volume: must be 0-100/],
    ['seek -1', '{"seek_ms":-1}', /seek_ms: must be >= 0/],
    ['a wrong type', '{"muted":"yes"}', /muted: must be true or false/],
    ['an unknown key', '{"colour":"red"}', /unknown key \(by position: #1\)/],
    ['an empty object', '{}', /empty command/],
    ['a 1 MiB payload', Buffer.alloc(1024 * 1024, 0x20), /payload too large: 1048576 bytes/],
  ])('answers %s with ok false and never calls onCommand', async (_what, payload, error) => {
    const { onCommand, send } = await setup();
    const result = (await send('living_room', payload)) as { ok: boolean; error: string; code: string };
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(error);
    expect(result.code).toBe('ERR_BAD_COMMAND');
    expect(onCommand).not.toHaveBeenCalled();
  });

  it('answers "no Qobuz session" when the player has none, and keeps serving after a handler that throws anything', async () => {
    const { onCommand, send } = await setup();
    onCommand.mockRejectedValueOnce(new QcbError('ERR_NO_SESSION', 'player living_room has no session'));
    expect(await send('living_room', '{"action":"play"}')).toEqual({ ok: false, error: 'no Qobuz session', code: 'ERR_NO_SESSION' });
    onCommand.mockImplementationOnce(() => {
      throw new TypeError('boom');
    });
    expect(await send('living_room', '{"action":"play"}')).toEqual({ ok: false, error: 'boom', code: 'ERR_INTERNAL' });
    expect(await send('living_room', '{"action":"play"}')).toEqual({ ok: true });
    expect(onCommand).toHaveBeenCalledTimes(3);
  });

  it('answers in the order the commands came, a refused command behind a slow good one too (issue #22)', async () => {
    const { base, prefix } = names();
    const { onCommand } = await adapter({ base, prefix });
    const p = await probe();
    await p.subscribe(`${base}/living_room/set/result`);
    let release = () => {};
    const slowStarted = new Promise<void>((started) =>
      onCommand.mockImplementationOnce(() => {
        started();
        return new Promise<void>((resolve) => (release = resolve));
      }),
    );
    await p.publish(`${base}/living_room/set`, '{"action":"play","id":"slow"}');
    await slowStarted;
    // Refused at once, but its answer waits for the slow command's; the fast one's waits for both.
    await p.publish(`${base}/living_room/set`, '{"volume":150,"id":"bad"}');
    const fastCalled = new Promise<void>((called) => onCommand.mockImplementationOnce(async () => called()));
    await p.publish(`${base}/living_room/set`, '{"action":"pause","id":"fast"}');
    await fastCalled; // the adapter has read all three (MQTT delivers them in order)
    release();
    await p.waitFor((m) => m.topic === `${base}/living_room/set/result` && m.payload.includes('"fast"'));
    const answers = p.messages.filter((m) => m.topic === `${base}/living_room/set/result`).map((m) => JSON.parse(m.payload) as Record<string, unknown>);
    expect(answers.map((a) => a.id)).toEqual(['slow', 'bad', 'fast']);
    expect(answers[1]).toMatchObject({ ok: false, code: 'ERR_BAD_COMMAND' });
  });

  it('answers a command for an unknown player with an error', async () => {
    const { onCommand, send } = await setup();
    expect(await send('garage', '{"action":"play"}')).toEqual({ ok: false, error: 'unknown player "garage"', code: 'ERR_BAD_COMMAND' });
    expect(onCommand).not.toHaveBeenCalled();
  });

  it('echoes the command\'s id in its answer, good or bad, and refuses an id that is not a short string (issue #12)', async () => {
    const { onCommand, send } = await setup();
    expect(await send('living_room', '{"action":"pause","id":"ha-1"}')).toEqual({ ok: true, id: 'ha-1' });
    expect(onCommand).toHaveBeenLastCalledWith('living_room', { action: 'pause' });
    onCommand.mockRejectedValueOnce(new QcbError('ERR_NOT_ACTIVE', 'not the active renderer'));
    expect(await send('living_room', '{"action":"stop","id":"ha-2"}')).toEqual({ ok: false, error: 'not the active renderer', code: 'ERR_NOT_ACTIVE', id: 'ha-2' });
    expect(await send('living_room', '{"volume":150,"id":"ha-3"}')).toMatchObject({ ok: false, code: 'ERR_BAD_COMMAND', id: 'ha-3' });
    expect(await send('living_room', '{"id":"ha-4"}')).toMatchObject({ ok: false, error: expect.stringMatching(/empty command/), id: 'ha-4' });
    const long = 'x'.repeat(65);
    const refused = (await send('living_room', JSON.stringify({ action: 'play', id: long }))) as Record<string, unknown>;
    expect(refused).toMatchObject({ ok: false, code: 'ERR_BAD_COMMAND', error: expect.stringMatching(/id: must be at most 64/) });
    expect(refused).not.toHaveProperty('id');
    expect(await send('living_room', '{"action":"play","id":7}')).toMatchObject({ ok: false, error: expect.stringMatching(/id: must be a string/) });
    expect(onCommand).toHaveBeenCalledTimes(2);
  });
});

describe('MqttAdapter keeps Home Assistant whole (README.md "Home Assistant entities")', () => {
  it('removes at start the retained discovery of a player no longer configured, and only ours', async () => {
    const { base, prefix } = names();
    const topics = new Topics(base, prefix);
    const ours = new HaDiscovery({ topics, bridge: BRIDGE });
    const gone: HaPlayer = { id: 'attic', name: 'Attic', uuid: '11111111-2222-4333-8444-555555555555' };
    const stale = ours.playerConfig(gone);
    const foreign = new HaDiscovery({ topics: new Topics('someone_else', prefix), bridge: BRIDGE }).playerConfig({ ...gone, uuid: 'foreign-1' });
    const seed = await probe();
    await seed.publish(stale.topic, stale.payload, { retain: true });
    await seed.publish(foreign.topic, foreign.payload, { retain: true });
    await adapter({ base, prefix, sweepQuietMs: undefined });
    const p = await probe();
    await p.subscribe(`${prefix}/device/+/config`);
    await p.flush();
    const retainedTopics = p.messages.filter((m) => m.retain).map((m) => m.topic).sort();
    expect(retainedTopics).toEqual(
      [foreign.topic, ...ours.all(PLAYERS).map((m) => m.topic)].sort(),
    );
    expect(retainedTopics).not.toContain(stale.topic);
  });

  it('re-publishes everything retained within 5 s after Mosquitto restarts on the same port, with what changed while it was down', async () => {
    const own = await startMosquitto();
    cleanups.push(() => own.stop());
    const { base, prefix } = names();
    // Production reconnect period (link default), not a test-tuned one.
    const { adapter: a } = await adapter({ base, prefix, link: { url: own.url } });
    const linkEvents: string[] = [];
    a.link.on('disconnected', () => linkEvents.push('disconnected'));
    a.link.on('connected', () => linkEvents.push('connected'));
    a.publishState('living_room', view);
    a.publishAvailability('living_room', true);
    a.publishAvailability('kitchen', true);
    const down = new Promise<void>((resolve) => a.link.once('disconnected', () => resolve()));
    await own.kill();
    await down;
    // While offline nothing is queued: publishes are refused, the adapter keeps only the latest picture.
    expect(await a.link.publish(`${base}/x`, 'queued?')).toBe(false);
    a.publishState('living_room', { ...view, volume: 77 });
    a.publishAvailability('kitchen', false);
    a.publishEvent('living_room', { type: 'set_volume', atMs: 0, fields: {} });
    await own.restart();
    const restartedAt = Date.now();
    const p = await connectProbe(own.url);
    cleanups.push(() => p.end());
    await p.subscribe(`${base}/#`, `${prefix}/#`);
    const want = [
      `${base}/bridge/state`, `${base}/bridge/info`, `${base}/living_room/availability`, `${base}/kitchen/availability`,
      `${base}/living_room/state`, `${base}/living_room/cover_url`,
      ...new HaDiscovery({ topics: new Topics(base, prefix), bridge: BRIDGE }).all(PLAYERS).map((m) => m.topic),
    ];
    for (const topic of want) await p.waitFor((m) => m.topic === topic, { timeoutMs: 10_000 - (Date.now() - restartedAt) });
    expect(Date.now() - restartedAt).toBeLessThan(10_000);
    const latest = (t: string) => p.messages.filter((m) => m.topic === t).at(-1)?.payload;
    expect(latest(`${base}/bridge/state`)).toBe('{"state":"online"}');
    expect(latest(`${base}/kitchen/availability`)).toBe('offline');
    expect(JSON.parse(latest(`${base}/living_room/state`)!)).toMatchObject({ volume: 77, track: { title: 'So What' } });
    expect(p.messages.some((m) => m.topic === `${base}/x` || m.topic.endsWith('/event'))).toBe(false);
    expect(linkEvents).toEqual(['disconnected', 'connected']);
  });
});
