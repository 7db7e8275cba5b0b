import { spawn } from 'node:child_process';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../src/mqtt/embedded-broker.js';
import { MqttAdapter } from '../src/mqtt/mqtt-adapter.js';
import { MqttPacketMeter } from '../src/mqtt/packet-size-guard.js';
import { describeGrowth, sampleMemory } from './support/fuzz-memory.js';
import { connectProbe } from './support/mosquitto-server.js';

/**
 * Issue #26 "A bounded embedded broker": aedes buffered a CONNECT of up to 256 MiB before
 * authentication, took any number of connections, let any client publish anywhere, and announced the
 * bridge's client id for anyone to kick it off. Real MQTT clients against a real broker on loopback.
 */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startBroker(o: { username?: string; password?: string; maxConnections?: number; lines?: string[] } = {}) {
  const logger = o.lines ? pino({ level: 'debug' }, { write: (l: string) => void o.lines!.push(l) }) : pino({ level: 'silent' });
  const broker = new EmbeddedBroker({
    port: 0,
    bind: '127.0.0.1',
    baseTopic: 'qc',
    discoveryPrefix: 'homeassistant',
    ...(o.username ? { username: o.username, password: o.password ?? null } : {}),
    ...(o.maxConnections ? { maxConnections: o.maxConnections } : {}),
    logger,
  });
  await broker.start();
  cleanups.push(() => broker.stop());
  return broker;
}

/** A client that connects, with what it is refused or how its connection ended. */
async function connectClient(url: string, options: mqtt.IClientOptions): Promise<mqtt.MqttClient> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000, ...options });
  cleanups.push(() => client.endAsync(true).then(() => undefined));
  return client;
}

describe('MqttPacketMeter (issue #26)', () => {
  it('passes packets up to the limit however they are split, and refuses one over it from its header alone', () => {
    const meter = new MqttPacketMeter(300);
    // A PUBLISH of 200 bytes of remaining length (header 0x30, length 0xC8 0x01), fed a byte at a time.
    const packet = Buffer.concat([Buffer.from([0x30, 0xc8, 0x01]), Buffer.alloc(200)]);
    for (const byte of packet) expect(meter.feed(Buffer.from([byte]))).toBeNull();
    expect(meter.feed(Buffer.concat([packet, packet]))).toBeNull();
    // 256 MiB announced: refused at the length bytes, before any body.
    expect(new MqttPacketMeter(300).feed(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]))).toMatch(/over 300/);
    expect(new MqttPacketMeter(1 << 30).feed(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe('malformed remaining length');
  });
});

describe('a bounded embedded broker (issue #26)', () => {
  it('closes a connection announcing a 200 MiB CONNECT at its header: RSS grows by no more than the 256 KiB limit', async () => {
    const lines: string[] = [];
    const broker = await startBroker({ username: 'u', password: 'p', lines });
    /** Another process sends a CONNECT header announcing 200 MiB, then up to 64 MiB of it, 1 MiB a write; resolves with what it got out. */
    const oversized = async (): Promise<number> => {
      const sender = `
        const s = require('node:net').connect(${broker.port}, '127.0.0.1');
        const chunk = Buffer.alloc(1 << 20, 0x61);
        let sent = 0;
        s.on('error', () => {});
        s.on('close', () => { process.stdout.write(String(sent)); process.exit(0); });
        s.on('connect', () => {
          s.write(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x64]));
          const more = () => { while (sent < 64 * (1 << 20)) { sent += chunk.length; if (!s.write(chunk)) return s.once('drain', more); } s.end(); };
          more();
        });`;
      const child = spawn(process.execPath, ['-e', sender], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await new Promise<void>((resolve) => child.on('exit', () => resolve()));
      return Number(out);
    };
    // A first one outside the measurement: the first use of every path (spawn, pipes, the guard) allocates once.
    expect(await oversized()).toBeLessThan(64 * (1 << 20));
    const before = await sampleMemory();
    const sent = await oversized();
    const after = await sampleMemory();
    const growth = after.rssBytes - before.rssBytes;
    console.log(`oversized CONNECT: the sender got ${(sent / (1 << 20)).toFixed(0)} MiB out before the close; RSS growth ${(growth / 1024).toFixed(0)} KiB; ${describeGrowth('broker', before, after)}`);
    // Closed at the header: the sender could not push the 64 MiB through, and nothing of it was kept.
    expect(sent).toBeLessThan(64 * (1 << 20));
    expect(growth).toBeLessThanOrEqual(256 * 1024);
    expect(lines.join('\n')).toContain('packet too large');
    // The broker still serves.
    const ok = await connectClient(broker.url, { username: 'u', password: 'p' });
    expect(ok.connected).toBe(true);
  });

  it('refuses connections over its limit and serves again once one closes', async () => {
    const broker = await startBroker({ maxConnections: 3 });
    /** true when the broker answers CONNACK, false when it closes the connection first. */
    const tryConnect = () =>
      new Promise<boolean>((resolve) => {
        const c = mqtt.connect(broker.url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000 });
        c.once('connect', () => {
          resolve(true);
          c.end(true);
        });
        c.once('close', () => resolve(false));
        c.on('error', () => {});
      });
    const clients = await Promise.all([0, 1, 2].map(() => connectClient(broker.url, {})));
    expect(clients.every((c) => c.connected)).toBe(true);
    expect(await tryConnect()).toBe(false);
    await clients[0]!.endAsync(true);
    await expect.poll(tryConnect, { timeout: 10_000 }).toBe(true);
  });

  it.each([
    { label: 'with credentials configured', username: 'ha', password: 'ha-pass-1' },
    { label: 'without credentials (anonymous clients allowed)', username: undefined, password: undefined },
  ])('lets no client but the bridge publish under homeassistant/ or qc/<player>/state, but commands and reading everything ($label)', async ({ username, password }) => {
    const broker = await startBroker(username ? { username, password } : {});
    const bridge = await connectProbe(broker.url, { ...broker.bridgeCredentials, protocolVersion: 4 });
    cleanups.push(() => bridge.end());
    await bridge.subscribe('#');
    await bridge.publish('qc/den/state', '{"state":"playing"}', { retain: true });

    const creds = username ? { username, password } : {};
    const reader = await connectProbe(broker.url, { ...creds, protocolVersion: 4 });
    cleanups.push(() => reader.end());
    await reader.subscribe('#');
    expect((await reader.waitFor((m) => m.topic === 'qc/den/state')).payload).toBe('{"state":"playing"}');

    for (const topic of ['homeassistant/device/den/config', 'qc/den/state', 'qc/bridge/state', 'qc/den/set/result', '$SYS/x']) {
      const forger = await connectClient(broker.url, creds);
      const closed = new Promise<void>((resolve) => forger.once('close', () => resolve()));
      forger.publish(topic, '{"forged":true}', { qos: 0, retain: true });
      await closed; // refused: the broker closes the connection (MQTT 3.1.1 has no refusal for a publish)
    }
    // Commands and Home Assistant's birth pass, and reach the bridge.
    const ha = await connectProbe(broker.url, { ...creds, protocolVersion: 4 });
    cleanups.push(() => ha.end());
    await ha.publish('qc/den/set', '{"action":"play"}');
    await ha.publish('homeassistant/status', 'online');
    await bridge.waitFor((m) => m.topic === 'qc/den/set');
    await bridge.waitFor((m) => m.topic === 'homeassistant/status');
    // Nothing forged reached anyone, retained or not.
    await bridge.publish('qc/flush', 'x');
    await bridge.waitFor((m) => m.topic === 'qc/flush');
    expect(bridge.messages.filter((m) => m.payload.includes('forged'))).toEqual([]);
    expect(reader.messages.filter((m) => m.payload.includes('forged'))).toEqual([]);
  });

  it("refuses a client that takes the bridge's client id, so no one can kick the bridge off", async () => {
    const broker = await startBroker({ username: 'ha', password: 'ha-pass-1' });
    const bridge = await connectClient(broker.url, { ...broker.bridgeCredentials, clientId: 'qcb_5ecret1d' });
    await expect(connectClient(broker.url, { username: 'ha', password: 'ha-pass-1', clientId: 'qcb_5ecret1d' })).rejects.toMatchObject({ code: 2 });
    expect(bridge.connected).toBe(true);
  });

  it('gives the bridge a new random client id at each start, and its own MQTT session cannot be taken over', async () => {
    const broker = await startBroker({ username: 'ha', password: 'ha-pass-1' });
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const adapter = new MqttAdapter({
        link: { url: broker.url, ...broker.bridgeCredentials, protocolVersion: EmbeddedBroker.protocolVersion, reconnectPeriodMs: 200 },
        baseTopic: 'qc',
        discovery: { enabled: false, prefix: 'homeassistant' },
        bridge: { version: '0.1.0', name: 'Bridge' },
        players: [{ id: 'den', name: 'Den', uuid: 'den-uuid' }],
        onCommand: async () => {},
        logger: pino({ level: 'silent' }),
      });
      await adapter.start();
      expect(adapter.connected).toBe(true);
      ids.push(adapter.link.clientId ?? '');
      // Someone who learnt the id (aedes announces it on $SYS) cannot take it over while the bridge is on.
      await expect(connectClient(broker.url, { username: 'ha', password: 'ha-pass-1', clientId: ids[i]! })).rejects.toMatchObject({ code: 2 });
      expect(adapter.connected).toBe(true);
      await adapter.stop();
    }
    for (const id of ids) expect(id).toMatch(/^qcb_[0-9a-f]{16}$/);
    expect(ids[0]).not.toBe(ids[1]);
  });
});
