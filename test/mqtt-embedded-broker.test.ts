import mqtt from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import type { PlayerCommand } from '../src/core/player-view.js';
import { EmbeddedBroker } from '../src/mqtt/embedded-broker.js';
import { MqttAdapter } from '../src/mqtt/mqtt-adapter.js';
import { connectProbe } from './support/mosquitto-server.js';

const silent = pino({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startBroker() {
  const broker = new EmbeddedBroker({ port: 0, bind: '127.0.0.1', baseTopic: 'qc', logger: silent });
  await broker.start();
  cleanups.push(() => broker.stop());
  return broker;
}

describe('EmbeddedBroker (README.md "Configuration": no mqtt.url runs aedes)', () => {
  it('listens on the asked address and serves MQTT 3.1.1 clients', async () => {
    const broker = await startBroker();
    expect(broker.port).toBeGreaterThan(0);
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
    const p = await connectProbe(broker.url, { protocolVersion: EmbeddedBroker.protocolVersion });
    cleanups.push(() => p.end());
    await p.subscribe('x/#');
    await p.publish('x/y', 'hello', { retain: true });
    expect((await p.waitFor((m) => m.topic === 'x/y')).payload).toBe('hello');
  });

  it('delivers a retained publish live to a wildcard subscriber that gets a plain publish right after it', async () => {
    const broker = await startBroker();
    // A plain client, publishing back to back as the bridge's link does (no round trip in between).
    const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: EmbeddedBroker.protocolVersion });
    const p = await connectProbe(broker.url, { protocolVersion: EmbeddedBroker.protocolVersion });
    cleanups.push(() => publisher.endAsync(), () => p.end());
    // Another topic under the subscription already holds a retained message, as a bridge's do.
    publisher.publish('z/den/availability', 'online', { retain: true });
    await p.subscribe('z/#');
    await p.waitFor((m) => m.topic === 'z/den/availability');
    // What the bridge does on every state change: the retained state, then a plain answer or event.
    for (let i = 1; i <= 5; i++) {
      publisher.publish('z/den/state', `{"volume":${i}}`, { retain: true });
      publisher.publish('z/den/set/result', `{"ok":true,"id":"${i}"}`);
    }
    await p.waitFor((m) => m.topic === 'z/den/set/result' && m.payload.includes('"5"'));
    await p.waitFor((m) => m.topic === 'z/den/state' && m.payload === '{"volume":5}');
    const states = p.messages.filter((m) => m.topic === 'z/den/state').map((m) => m.payload);
    expect(states).toEqual([1, 2, 3, 4, 5].map((i) => `{"volume":${i}}`));
  });

  it('carries the whole adapter: MQTT 5 falls back to 3.1.1, state out, command in, result out, will on a crash', async () => {
    const broker = await startBroker();
    const onCommand = vi.fn<(id: string, c: PlayerCommand) => Promise<void>>(async () => {});
    const adapter = new MqttAdapter({
      // The bridge's own credentials (issue #26): the ACL lets only it publish state and discovery.
      link: { url: broker.url, reconnectPeriodMs: 200, ...broker.bridgeCredentials },
      baseTopic: 'qc',
      discovery: { enabled: true, prefix: 'homeassistant' },
      bridge: { version: '0.1.0', name: 'Bridge' },
      players: [{ id: 'den', name: 'Den', uuid: 'den-uuid' }],
      onCommand,
      logger: silent,
      sweepQuietMs: 50,
    });
    cleanups.push(() => adapter.stop());
    await adapter.start();
    expect(adapter.connected).toBe(true);
    expect(adapter.link.protocolVersion).toBe(4);

    const p = await connectProbe(broker.url, { protocolVersion: 4 });
    cleanups.push(() => p.end());
    await p.subscribe('qc/#', 'homeassistant/device/+/config');
    await p.waitFor((m) => m.topic === 'homeassistant/device/den-uuid/config' && m.retain);
    expect((await p.waitFor((m) => m.topic === 'qc/bridge/state')).payload).toBe('{"state":"online"}');

    // Retained offline from the start (issue #12), online once the player says so.
    expect((await p.waitFor((m) => m.topic === 'qc/den/availability')).payload).toBe('offline');
    const before = p.messages.length;
    adapter.publishAvailability('den', true);
    expect((await p.waitFor((m) => m.topic === 'qc/den/availability', { from: before })).payload).toBe('online');

    await p.publish('qc/den/set', '{"muted":true}');
    expect(JSON.parse((await p.waitFor((m) => m.topic === 'qc/den/set/result')).payload)).toEqual({ ok: true });
    expect(onCommand).toHaveBeenCalledWith('den', { muted: true });

    const from = p.messages.length;
    await adapter.link.abort();
    expect((await p.waitFor((m) => m.topic === 'qc/bridge/state', { from })).payload).toBe('{"state":"offline"}');
  });

  it('refuses a port out of range at construction and reports a port in use at start', async () => {
    expect(() => new EmbeddedBroker({ port: 70000, bind: '127.0.0.1', logger: silent })).toThrow(/port/);
    const first = await startBroker();
    const second = new EmbeddedBroker({ port: first.port, bind: '127.0.0.1', logger: silent });
    await expect(second.start()).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('EmbeddedBroker credentials (issue #13, README "MQTT topics": the embedded broker honours mqtt.username/password)', () => {
  const USER = 'bridge';
  const PASSWORD = 'broker-pass-8f3a';

  async function startLockedBroker(lines: string[]) {
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const broker = new EmbeddedBroker({ port: 0, bind: '127.0.0.1', username: USER, password: PASSWORD, baseTopic: 'qc', logger });
    await broker.start();
    cleanups.push(() => broker.stop());
    return broker;
  }

  /** A real MQTT client's CONNACK: resolves with the refusal code (0 when accepted). */
  async function connackCode(url: string, options: { username?: string; password?: string }): Promise<number> {
    try {
      const client = await mqtt.connectAsync(url, { ...options, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000 });
      await client.endAsync();
      return 0;
    } catch (err) {
      return (err as { code?: number }).code ?? -1;
    }
  }

  it('refuses a wrong password, a wrong user and no credentials with "bad user name or password", and accepts the right ones', async () => {
    const lines: string[] = [];
    const broker = await startLockedBroker(lines);
    expect(await connackCode(broker.url, { username: USER, password: 'wrong-password' })).toBe(4);
    expect(await connackCode(broker.url, { username: 'someone', password: PASSWORD })).toBe(4);
    expect(await connackCode(broker.url, { username: USER, password: `${PASSWORD}x` })).toBe(4);
    expect(await connackCode(broker.url, {})).toBe(4);
    expect(await connackCode(broker.url, { username: USER, password: PASSWORD })).toBe(0);

    // The accepted client really is served: it can command through the broker.
    const p = await connectProbe(broker.url, { username: USER, password: PASSWORD, protocolVersion: 4 });
    cleanups.push(() => p.end());
    await p.subscribe('qc/#');
    await p.publish('qc/den/set', '{"action":"play"}');
    expect((await p.waitFor((m) => m.topic === 'qc/den/set')).payload).toBe('{"action":"play"}');
    // The refusal is logged, never with what the client offered.
    const log = lines.join('\n');
    expect(log).toContain('refused a client');
    expect(log).not.toContain('wrong-password');
    expect(log).not.toContain(PASSWORD);
  });

  it("lets the bridge's own adapter in with the credentials it makes at each start (issue #26)", async () => {
    const broker = await startLockedBroker([]);
    expect(broker.bridgeCredentials.username).toMatch(/^qcb-bridge-[0-9a-f]{8}$/);
    expect(broker.bridgeCredentials.password).toMatch(/^[0-9a-f]{48}$/);
    const adapter = new MqttAdapter({
      link: { url: broker.url, ...broker.bridgeCredentials, protocolVersion: EmbeddedBroker.protocolVersion, reconnectPeriodMs: 200 },
      baseTopic: 'qc',
      discovery: { enabled: false, prefix: 'homeassistant' },
      bridge: { version: '0.1.0', name: 'Bridge' },
      players: [{ id: 'den', name: 'Den', uuid: 'den-uuid' }],
      onCommand: async () => {},
      logger: silent,
    });
    cleanups.push(() => adapter.stop());
    await adapter.start();
    expect(adapter.connected).toBe(true);
  });
});
