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
  const broker = new EmbeddedBroker({ port: 0, bind: '127.0.0.1', logger: silent });
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

  it('carries the whole adapter: MQTT 5 falls back to 3.1.1, state out, command in, result out, will on a crash', async () => {
    const broker = await startBroker();
    const onCommand = vi.fn<(id: string, c: PlayerCommand) => Promise<void>>(async () => {});
    const adapter = new MqttAdapter({
      link: { url: broker.url, reconnectPeriodMs: 200 },
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

    adapter.publishAvailability('den', true);
    expect((await p.waitFor((m) => m.topic === 'qc/den/availability')).payload).toBe('online');

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
