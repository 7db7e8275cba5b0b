import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpServer, type HttpLimits } from '../src/discovery/http-server.js';

/**
 * Issue #13 / README "HTTP endpoints": slow clients are cut off (headers 10 s, whole request 30 s), with a
 * cap on open connections. Real sockets on 127.0.0.1:0 held open by hand; the limits are shrunk
 * so the test does not wait 30 s, and every deadline is generous (a loaded 2-core machine).
 */
const uuid = randomUUID();
const servers: HttpServer[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await s.stop();
});

async function startServer(limits: Partial<HttpLimits>): Promise<number> {
  const server = new HttpServer({
    port: 0,
    bind: '127.0.0.1',
    players: [{ id: 'kitchen', name: 'Kitchen', uuid, deviceType: 'SPEAKER', maxAudioQuality: 'CD' }],
    appId: '1',
    model: 'MPD',
    allowedEndpointHosts: ['*.qobuz.com'],
    currentSessionId: () => '',
    onConnect: async () => {},
    resolveStream: async () => null,
    health: () => ({ ok: true }),
    metrics: async () => ({ contentType: 'text/plain', body: '' }),
    logger: pino({ level: 'silent' }),
    limits,
  });
  servers.push(server);
  return server.start();
}

/** An open socket; `closed` resolves with what the server sent before closing it. */
async function open(port: number): Promise<{ socket: Socket; closed: Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let received = '';
  socket.on('data', (c: Buffer) => (received += c.toString()));
  socket.on('error', () => {}); // a reset is one way of being closed
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, closed };
}

/** Resolves with the value, or rejects after `ms` (a generous ceiling, not a timing assertion). */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

async function get(port: number, path: string): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}${path}`)).status;
}

describe('slow clients and connection count (issue #13, README "HTTP endpoints")', () => {
  it('closes a connection whose headers never finish, and one that sends nothing at all', async () => {
    const port = await startServer({ headersTimeoutMs: 300, requestTimeoutMs: 2_000, checkIntervalMs: 100 });
    const trickle = await open(port);
    trickle.socket.write(`GET /devices/${uuid}/get-display-info HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
    // Keep it busy: a header line every 100 ms, never the blank line that ends them.
    const timer = setInterval(() => trickle.socket.writable && trickle.socket.write('X-Slow: 1\r\n'), 100);
    const silent = await open(port);
    try {
      const answer = await within(10_000, 'slow headers cut off', trickle.closed);
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      await within(10_000, 'silent connection cut off', silent.closed);
    } finally {
      clearInterval(timer);
    }
    // The server itself is fine.
    expect(await get(port, '/healthz')).toBe(200);
  });

  it('closes a request whose body never finishes within the whole-request limit', async () => {
    const port = await startServer({ headersTimeoutMs: 300, requestTimeoutMs: 800, checkIntervalMs: 100 });
    const slow = await open(port);
    slow.socket.write(
      `POST /devices/${uuid}/connect-to-qconnect HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n{`,
    );
    // A byte every 100 ms: never idle, never done.
    const timer = setInterval(() => slow.socket.writable && slow.socket.write(' '), 100);
    try {
      const answer = await within(10_000, 'slow body cut off', slow.closed);
      expect(answer === '' || /^HTTP\/1\.1 (408|400)/.test(answer)).toBe(true);
    } finally {
      clearInterval(timer);
    }
    expect(await get(port, '/healthz')).toBe(200);
  });

  it('closes connections over the cap at once and serves again once one is gone', async () => {
    const port = await startServer({ maxConnections: 3, headersTimeoutMs: 20_000, requestTimeoutMs: 30_000 });
    const held = [await open(port), await open(port), await open(port)];
    const extra = await open(port);
    await within(10_000, 'connection over the cap closed', extra.closed);
    // The three below the cap are still open.
    for (const h of held) expect(h.socket.destroyed).toBe(false);
    // One goes away: the next client is served.
    held[0]?.socket.destroy();
    await held[0]?.closed;
    const until = Date.now() + 10_000;
    const served = await within(15_000, 'served below the cap', (async () => {
      for (;;) {
        if (Date.now() > until) return 'never served';
        const c = await open(port);
        c.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
        const answer = await c.closed;
        if (answer.startsWith('HTTP/1.1 200')) return answer;
        // The server may not have seen the close yet: try again.
        await new Promise((r) => setImmediate(r));
      }
    })());
    expect(served).toMatch(/^HTTP\/1\.1 200/);
  });
});
