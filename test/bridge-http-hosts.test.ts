import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';

/**
 * Issue #26 "LAN surface, second pass", per-host limits on HTTP: one host used to be able to take all
 * 128 connection slots, and connections over the cap were dropped, MPD's stream redirects included.
 * Here one host (127.0.0.2) opens 140 idle sockets and another (127.0.0.3) its share too, with the
 * global cap shrunk to 20: each keeps at most its share, and meanwhile a real MPD on this host
 * (127.0.0.1, reserved: this host's own address and the configured MPD host) still gets its stream
 * redirect and plays, and /healthz still answers.
 */
const PER_HOST = 16;
const TOTAL = 20;
let h: BridgeHarness;
const sockets: Socket[] = [];

beforeAll(async () => {
  h = await startBridgeHarness({
    trackSeconds: [30, 30],
    // The idle sockets must outlive a slow MPD start on a loaded machine: no header deadline cuts them first.
    httpLimits: { maxConnections: TOTAL, maxConnectionsPerHost: PER_HOST, headersTimeoutMs: 120_000, requestTimeoutMs: 120_000 },
  });
}, 60_000);
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await h?.close();
});

/** Opens `count` idle sockets from `from`; resolves once each is connected and either closed by the server or still open. */
async function hold(from: string, count: number): Promise<{ open: () => number }> {
  const mine: Array<{ socket: Socket; closed: boolean }> = [];
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = connect({ host: '127.0.0.1', port: h.bridge.httpPort, localAddress: from });
          const entry = { socket, closed: false };
          mine.push(entry);
          sockets.push(socket);
          socket.on('error', () => {});
          socket.on('close', () => (entry.closed = true));
          socket.once('connect', () => resolve());
          socket.once('error', reject);
        }),
    ),
  );
  return { open: () => mine.filter((e) => !e.closed).length };
}

async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('per-host HTTP connection limits (issue #26)', () => {
  it('keeps 16 of 140 idle sockets from one host, the global cap for the others, and MPD still plays and /healthz answers', async () => {
    const a = await hold('127.0.0.2', 140);
    await until(() => a.open() <= PER_HOST, 'the server to close the sockets over the per-host cap');
    const b = await hold('127.0.0.3', PER_HOST);
    await until(() => b.open() <= TOTAL - PER_HOST, 'the server to close the sockets over the global cap');
    expect(a.open()).toBe(PER_HOST);
    expect(b.open()).toBe(TOTAL - PER_HOST);

    // MPD (on 127.0.0.1, a reserved host) fetches its stream redirect while both hosts hold their share.
    const { sim } = await h.connectApp({ loadQueue: true });
    sim.jump(0, { playing: true });
    await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.2, 15_000);
    // The bridge's view follows MPD through its idle watcher, a step behind the status read above:
    // /healthz is asked until it says playing (or the deadline), then asserted.
    const healthz = async () => {
      const res = await fetch(`http://127.0.0.1:${h.bridge.httpPort}/healthz`);
      return { status: res.status, state: ((await res.json()) as { players: Record<string, { state: string }> }).players.living_room?.state };
    };
    let health = await healthz();
    for (const deadline = Date.now() + 10_000; health.state !== 'playing' && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 50));
      health = await healthz();
    }
    expect(health.status).toBe(200);
    expect(health.state).toBe('playing');
    expect(h.cdn.requests.length).toBeGreaterThan(0);
    // The held sockets are still held: nothing made room by dropping them.
    expect(a.open()).toBe(PER_HOST);
    expect(b.open()).toBe(TOTAL - PER_HOST);
  });
});
