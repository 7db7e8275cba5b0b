import { createServer, type Server, type Socket } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { followedGroups, groupVolume, scaledVolumes } from '../src/snapcast/group-volume.js';
import type { SnapServer } from '../src/snapcast/snapcast-messages.js';
import { SnapcastVolume } from '../src/snapcast/snapcast-volume.js';
import type { VolumeControlEvents } from '../src/core/volume-control.js';

/**
 * Issue #23, `players[].volume.mode: snapcast`: the Snapcast adapter against a scripted JSON-RPC
 * server on loopback (the real snapserver is test/e2e/snapcast-e2e.test.ts): group volume rules,
 * bad replies as errors, reconnects.
 */
const log = pino({ level: 'silent' });

function nextEvent<K extends keyof VolumeControlEvents & string>(
  v: SnapcastVolume,
  event: K,
  predicate: (...args: VolumeControlEvents[K]) => boolean = () => true,
): Promise<VolumeControlEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within 10 s`)), 10_000);
    const listener = (...args: VolumeControlEvents[K]) => {
      if (!predicate(...args)) return;
      clearTimeout(timer);
      v.events.off(event, listener);
      resolve(args);
    };
    v.events.on(event, listener);
  });
}

const client = (id: string, percent: number, connected = true) => ({
  id,
  connected,
  config: { volume: { percent, muted: false }, name: '' },
  host: { name: id },
});
const house = (): SnapServer => ({
  groups: [
    { id: 'g1', name: 'Downstairs', stream_id: 'qobuz', muted: false, clients: [client('kitchen', 80), client('lounge', 40)] },
    { id: 'g2', name: 'Upstairs', stream_id: 'radio', muted: false, clients: [client('bedroom', 10)] },
  ],
});

/** A scripted snapserver: answers each request with `answer(method, params)`; `null` sends nothing. */
class FakeSnapserver {
  readonly server: Server;
  readonly sockets = new Set<Socket>();
  readonly requests: Array<{ method: string; params: unknown }> = [];
  answer: (method: string, params: Record<string, unknown> | undefined) => string | null = () => null;
  port = 0;

  constructor() {
    this.server = createServer((s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      let buf = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        buf += d;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).trim();
          buf = buf.slice(i + 1);
          const req = JSON.parse(line) as { id: number; method: string; params?: Record<string, unknown> };
          this.requests.push({ method: req.method, params: req.params });
          const body = this.answer(req.method, req.params);
          if (body !== null) s.write(body.replace('"$ID"', String(req.id)) + '\r\n');
        }
      });
    });
  }

  async listen(port = 0): Promise<void> {
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', () => r()));
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
  }

  notify(method: string, params: unknown): void {
    for (const s of this.sockets) s.write(`${JSON.stringify({ jsonrpc: '2.0', method, params })}\r\n`);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

const result = (r: unknown) => `{"id":"$ID","jsonrpc":"2.0","result":${JSON.stringify(r)}}`;
let fake: FakeSnapserver | null = null;
let vol: SnapcastVolume | null = null;
afterEach(async () => {
  await vol?.stop();
  await fake?.close();
  vol = null;
  fake = null;
});

function honest(state: SnapServer) {
  return (method: string, params: Record<string, unknown> | undefined): string | null => {
    if (method === 'Server.GetStatus') return result({ server: state });
    if (method === 'Client.SetVolume') {
      const c = state.groups.flatMap((g) => g.clients).find((x) => x.id === params?.id);
      if (!c) return '{"id":"$ID","jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error","data":"Client not found"}}';
      c.config.volume = { ...c.config.volume, ...(params?.volume as object) };
      return result({ volume: c.config.volume });
    }
    if (method === 'Group.SetMute') {
      const g = state.groups.find((x) => x.id === params?.id);
      if (g) g.muted = params?.mute === true;
      return result({ mute: params?.mute });
    }
    return null;
  };
}

describe('the Snapcast group volume (issue #23)', () => {
  it('is the mean of the connected clients, and moves each client in proportion', () => {
    const s = house();
    expect(followedGroups(s, { group: 'Downstairs', stream: null }).map((g) => g.id)).toEqual(['g1']);
    expect(followedGroups(s, { group: 'g2', stream: null }).map((g) => g.id)).toEqual(['g2']);
    expect(followedGroups(s, { group: null, stream: 'qobuz' }).map((g) => g.id)).toEqual(['g1']);
    expect(groupVolume(followedGroups(s, { group: 'g1', stream: null }))).toEqual({ percent: 60, muted: false });
    const clients = [{ id: 'a', percent: 80 }, { id: 'b', percent: 40 }];
    expect(Object.fromEntries(scaledVolumes(clients, 30))).toEqual({ a: 40, b: 20 });
    // Up: each closes the same share of its way to 100 (60 → 80 is half the way).
    expect(Object.fromEntries(scaledVolumes(clients, 80))).toEqual({ a: 90, b: 70 });
    expect(Object.fromEntries(scaledVolumes([{ id: 'a', percent: 0 }, { id: 'b', percent: 0 }], 25))).toEqual({ a: 25, b: 25 });
    expect(Object.fromEntries(scaledVolumes(clients, 0))).toEqual({ a: 0, b: 0 });
    s.groups[0]!.clients[1]!.connected = false;
    expect(groupVolume([s.groups[0]!]).percent).toBe(80);
  });
});

describe('the Snapcast adapter (issue #23)', () => {
  it('follows a group: sets its clients, reports outside changes, and answers its own set with the level asked for', async () => {
    const state = house();
    fake = new FakeSnapserver();
    fake.answer = honest(state);
    await fake.listen();
    vol = new SnapcastVolume({ host: '127.0.0.1', port: fake.port, group: 'Downstairs', stream: null, logger: log });
    const first = nextEvent(vol, 'volumeChanged');
    await vol.start();
    expect(await first).toEqual([60, false]);
    const outside: number[] = [];
    vol.events.on('volumeChanged', (p) => outside.push(p));
    await vol.setVolume(45);
    expect(state.groups[0]!.clients.map((c) => c.config.volume.percent)).toEqual([60, 30]);
    expect(vol.snapshot()).toEqual({ volumePercent: 45, muted: false, available: true });
    expect(state.groups[1]!.clients[0]!.config.volume.percent).toBe(10);
    // Our own change is not echoed; another controller's is.
    expect(outside).toEqual([]);
    const changed = nextEvent(vol, 'volumeChanged');
    fake.notify('Client.OnVolumeChanged', { id: 'lounge', volume: { percent: 50, muted: false } });
    expect(await changed).toEqual([55, false]);
    await vol.setMuted(true);
    expect(state.groups.map((g) => g.muted)).toEqual([true, false]);
  });

  it('answers a bad reply with ERR_SNAPCAST, ignores lines that are not JSON-RPC, and keeps working', async () => {
    const state = house();
    fake = new FakeSnapserver();
    const good = honest(state);
    let broken = true;
    fake.answer = (m, p) => (m === 'Client.SetVolume' && broken ? result({ volume: 'loud' }) : good(m, p));
    await fake.listen();
    vol = new SnapcastVolume({ host: '127.0.0.1', port: fake.port, group: null, stream: 'qobuz', logger: log });
    await vol.start();
    for (const s of fake.sockets) s.write('not json\r\n{"foo": 1}\r\n');
    fake.notify('Client.OnVolumeChanged', { id: 'kitchen', volume: { percent: 'x' } });
    await expect(vol.setVolume(10)).rejects.toMatchObject({ code: 'ERR_SNAPCAST' });
    fake.answer = (m, p) => (m === 'Client.SetVolume' ? '{"id":"$ID","jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error","data":"Client not found"}}' : good(m, p));
    await expect(vol.setVolume(10)).rejects.toMatchObject({ code: 'ERR_SNAPCAST', message: expect.stringContaining('Client not found') });
    broken = false;
    fake.answer = good;
    await vol.setVolume(30);
    expect(state.groups[0]!.clients.map((c) => c.config.volume.percent)).toEqual([40, 20]);
  });

  it('refuses a volume while snapserver is away, and reconnects and reads the volume again when it is back', async () => {
    const state = house();
    fake = new FakeSnapserver();
    fake.answer = honest(state);
    await fake.listen();
    const port = fake.port;
    vol = new SnapcastVolume({ host: '127.0.0.1', port, group: 'g1', stream: null, logger: log, stepsMs: [50, 100] });
    await vol.start();
    const down = nextEvent(vol, 'availabilityChanged');
    await fake.close();
    expect(await down).toEqual([false]);
    await expect(vol.setVolume(20)).rejects.toMatchObject({ code: 'ERR_SNAPCAST_UNREACHABLE' });
    // Back, with the rooms changed meanwhile: the new level is announced.
    state.groups[0]!.clients[0]!.config.volume.percent = 20;
    state.groups[0]!.clients[1]!.config.volume.percent = 20;
    const back = nextEvent(vol, 'volumeChanged');
    fake = new FakeSnapserver();
    fake.answer = honest(state);
    await fake.listen(port);
    expect(await back).toEqual([20, false]);
    expect(vol.snapshot().available).toBe(true);
  });

  it('times a silent snapserver out and starts over on a new connection', async () => {
    const state = house();
    fake = new FakeSnapserver();
    const good = honest(state);
    let silent = false;
    fake.answer = (m, p) => (silent && m === 'Client.SetVolume' ? null : good(m, p));
    await fake.listen();
    vol = new SnapcastVolume({ host: '127.0.0.1', port: fake.port, group: 'g1', stream: null, logger: log, timeoutMs: 2000, stepsMs: [50] });
    await vol.start();
    silent = true;
    await expect(vol.setVolume(20)).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    silent = false;
    await nextEvent(vol, 'availabilityChanged', (up) => up === true);
    await vol.setVolume(30);
    expect(state.groups[0]!.clients.map((c) => c.config.volume.percent)).toEqual([40, 20]);
  });
});
