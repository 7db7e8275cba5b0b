import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ConnectRequest } from '../src/core/connect-request.js';
import { HttpServer } from '../src/discovery/http-server.js';

// docs/protocol.md §2 and its "Our answers to bad input", against a real HttpServer on 127.0.0.1:0.

const uuid = randomUUID();
const SESSION_BEFORE = randomUUID();
const JWT_Q = `eyJqwt-qconnect.${randomUUID()}.sig`;
const JWT_API = `eyJjwt-api.${randomUUID()}.sig`;
const logLines: string[] = [];
const sessions = new Map<string, string>();
const onConnect = vi.fn(async (playerId: string, req: ConnectRequest) => {
  sessions.set(playerId, req.sessionId);
});
let server: HttpServer;
let base: string;
/** `player:reason` of every connect the route refused (the metrics hook). */
const refusals: string[] = [];

function goodBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    session_id: randomUUID(),
    jwt_qconnect: { jwt: JWT_Q, exp: Math.floor(Date.now() / 1000) + 3600, endpoint: 'wss://qws-eu-prod.qobuz.com/ws' },
    jwt_api: { jwt: JWT_API, exp: Math.floor(Date.now() / 1000) + 3600, endpoint: 'https://www.qobuz.com/api.json/0.2' },
    ...overrides,
  };
}

async function connect(body: unknown, init: { path?: string; contentType?: string } = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${init.path ?? `/devices/${uuid}/connect-to-qconnect`}`, {
    method: 'POST',
    headers: { 'content-type': init.contentType ?? 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function sessionIdNow(): Promise<unknown> {
  const res = await fetch(`${base}/devices/${uuid}/get-connect-info`);
  return ((await res.json()) as { current_session_id: unknown }).current_session_id;
}

/** Nothing happened: no connect hand-over and the advertised session is the one before. */
async function expectNoStateChange(): Promise<void> {
  expect(onConnect).not.toHaveBeenCalled();
  expect(await sessionIdNow()).toBe(SESSION_BEFORE);
}

beforeAll(async () => {
  const logger = pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) });
  server = new HttpServer({
    port: 0,
    bind: '127.0.0.1',
    players: [{ id: 'kitchen', name: 'Kitchen', uuid, deviceType: 'SPEAKER', maxAudioQuality: 'HIRES_L2' }],
    appId: '950096963',
    model: 'MPD bridge',
    allowedEndpointHosts: ['*.qobuz.com', '127.0.0.1', 'qws.example.net'],
    currentSessionId: (id) => sessions.get(id) ?? '',
    onConnect,
    resolveStream: async () => null,
    health: () => ({ ok: true }),
    metrics: async () => ({ contentType: 'text/plain; version=0.0.4', body: '' }),
    logger,
    onConnectRefused: (playerId, reason) => refusals.push(`${playerId}:${reason}`),
    // These tests send many connects from one address; the limit itself is tested below (issue #26).
    limits: { connectsPerMinute: 1000 },
  });
  const port = await server.start();
  expect(server.port).toBe(port);
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await server.stop();
});

beforeEach(() => {
  sessions.set('kitchen', SESSION_BEFORE);
  onConnect.mockClear();
});

describe('connect-to-qconnect (docs/protocol.md §2)', () => {
  it('answers 404 for an unknown device uuid and connects nowhere', async () => {
    const res = await connect(goodBody(), { path: `/devices/${randomUUID()}/connect-to-qconnect` });
    expect(res).toEqual({ status: 404, json: { success: false, error: 'unknown device' } });
    await expectNoStateChange();
  });

  it('answers 400 for a malformed device uuid', async () => {
    const res = await connect(goodBody(), { path: '/devices/not-a-uuid/connect-to-qconnect' });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ success: false, error: 'malformed device uuid' });
    await expectNoStateChange();
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await connect('{"session_id": ');
    expect(res).toEqual({ status: 400, json: { success: false, error: 'body is not valid JSON' } });
    await expectNoStateChange();
  });

  it('answers 400 naming the missing field', async () => {
    const body = goodBody();
    delete (body.jwt_qconnect as Record<string, unknown>).endpoint;
    const res = await connect(body);
    expect(res).toEqual({ status: 400, json: { success: false, error: 'jwt_qconnect.endpoint: Required' } });
    await expectNoStateChange();
  });

  it('answers 400 naming a field of the wrong type (exp in seconds as a string)', async () => {
    const body = goodBody({ jwt_api: { jwt: JWT_API, exp: '1700000000' } });
    const res = await connect(body);
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/^jwt_api\.exp: /);
    await expectNoStateChange();
  });

  it('answers 413 for a body over 64 KiB without buffering it', async () => {
    const res = await connect(goodBody({ padding: 'x'.repeat(70 * 1024) }));
    expect(res.status).toBe(413);
    expect(res.json.success).toBe(false);
    await expectNoStateChange();
  });

  it('answers 413 for an oversized body sent in chunks without a Content-Length', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${base}/devices/${uuid}/connect-to-qconnect`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 20; i += 1) req.write('x'.repeat(8 * 1024));
      req.end();
    });
    expect(status).toBe(413);
    await expectNoStateChange();
  });

  it('answers 405 with an Allow header for a GET on the POST route and a POST on a GET route', async () => {
    const get = await fetch(`${base}/devices/${uuid}/connect-to-qconnect`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toContain('POST');
    const post = await connect(goodBody(), { path: `/devices/${uuid}/get-display-info` });
    expect(post.status).toBe(405);
    await expectNoStateChange();
  });

  it('refuses with 403 an endpoint host outside the allow-list', async () => {
    const body = goodBody();
    (body.jwt_qconnect as Record<string, unknown>).endpoint = 'wss://qws.evil.example/ws';
    const res = await connect(body);
    expect(res.status).toBe(403);
    expect(res.json).toEqual({ success: false, error: 'endpoint host qws.evil.example is not allowed' });
    await expectNoStateChange();
  });

  it('refuses with 403 a look-alike host and the bare domain of a *. pattern', async () => {
    for (const endpoint of ['wss://qobuz.com.evil.example/ws', 'wss://evilqobuz.com/ws', 'wss://qobuz.com/ws']) {
      const body = goodBody();
      (body.jwt_qconnect as Record<string, unknown>).endpoint = endpoint;
      expect((await connect(body)).status).toBe(403);
    }
    await expectNoStateChange();
  });

  it('refuses with 403 plain ws:// to an allowed host that is not loopback', async () => {
    const body = goodBody();
    (body.jwt_qconnect as Record<string, unknown>).endpoint = 'ws://qws.example.net/ws';
    const res = await connect(body);
    expect(res.status).toBe(403);
    expect(res.json.error).toBe('endpoint scheme ws is not allowed for qws.example.net');
    await expectNoStateChange();
  });

  it('accepts plain ws:// to an allowed loopback host', async () => {
    const body = goodBody();
    (body.jwt_qconnect as Record<string, unknown>).endpoint = 'ws://127.0.0.1:9999/ws';
    const res = await connect(body);
    expect(res).toEqual({ status: 200, json: { success: true } });
    expect(onConnect).toHaveBeenCalledTimes(1);
  });

  it('accepts unknown extra fields at every level and joins without playback when become_active is false', async () => {
    const sessionId = randomUUID();
    const body = goodBody({ session_id: sessionId, become_active: false, future_field: { x: 1 } });
    (body.jwt_qconnect as Record<string, unknown>).extra = 'ignored';
    delete (body.jwt_api as Record<string, unknown>).endpoint;
    const res = await connect(body, { contentType: 'application/json; charset=utf-8' });
    expect(res).toEqual({ status: 200, json: { success: true } });
    expect(onConnect).toHaveBeenCalledTimes(1);
    const [playerId, req] = onConnect.mock.calls[0] ?? [];
    expect(playerId).toBe('kitchen');
    expect(req).toEqual({
      sessionId,
      jwtQconnect: { jwt: JWT_Q, exp: expect.any(Number), endpoint: 'wss://qws-eu-prod.qobuz.com/ws' },
      jwtApi: { jwt: JWT_API, exp: expect.any(Number), endpoint: null },
      becomeActive: false,
    });
    expect(await sessionIdNow()).toBe(sessionId);
  });

  it('answers 415 for a form-encoded body and connects nowhere', async () => {
    const res = await connect('session_id=x&jwt=y', { contentType: 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(415);
    await expectNoStateChange();
  });

  it('answers 500 without secrets when the hand-over fails', async () => {
    onConnect.mockImplementationOnce(async () => {
      throw new Error(`join failed for token ${JWT_Q}`);
    });
    const res = await connect(goodBody());
    expect(res).toEqual({ status: 500, json: { success: false, error: 'connect failed (ERR_CONNECT)' } });
    expect(await sessionIdNow()).toBe(SESSION_BEFORE);
  });

  it('never writes the JWTs to the log, even at trace level', async () => {
    await connect(goodBody());
    await connect(goodBody({ session_id: 'bad' }));
    onConnect.mockImplementationOnce(async () => {
      throw new Error(`boom ${JWT_API}`);
    });
    await connect(goodBody());
    const log = logLines.join('\n');
    expect(log).toContain('connect-to-qconnect');
    expect(log).not.toContain(JWT_Q);
    expect(log).not.toContain(JWT_API);
  });
});

/** One request with exactly these headers (fetch would add its own and refuses to set Host). */
function raw(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) }, setHost: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('a LAN surface a web page cannot drive (issue #13, README "HTTP endpoints")', () => {
  const port = () => new URL(base).port;
  const connectPath = () => `/devices/${uuid}/connect-to-qconnect`;

  it('refuses a no-CORS text/plain POST (what any web page can send) with 415 and connects nowhere', async () => {
    const res = await raw('POST', connectPath(), { host: `127.0.0.1:${port()}`, 'content-type': 'text/plain;charset=UTF-8' }, JSON.stringify(goodBody()));
    expect(res).toEqual({ status: 415, json: { success: false, error: 'Content-Type must be application/json' } });
    const none = await raw('POST', connectPath(), { host: `127.0.0.1:${port()}` }, JSON.stringify(goodBody()));
    expect(none.status).toBe(415);
    await expectNoStateChange();
  });

  it('refuses any request carrying an Origin header with 403, on every route', async () => {
    const origin = { host: `127.0.0.1:${port()}`, origin: 'http://evil.example', 'content-type': 'application/json' };
    expect((await raw('POST', connectPath(), origin, JSON.stringify(goodBody()))).status).toBe(403);
    expect((await raw('POST', connectPath(), { ...origin, origin: 'null' }, JSON.stringify(goodBody()))).status).toBe(403);
    expect((await raw('GET', `/devices/${uuid}/get-connect-info`, origin)).status).toBe(403);
    expect((await raw('GET', '/healthz', origin)).status).toBe(403);
    await expectNoStateChange();
  });

  it('refuses with 421 a Host that is not ours (DNS rebinding), on every route, without echoing it', async () => {
    for (const host of ['evil.example', `evil.example:${port()}`, 'localhost.evil.example', '127.0.0.1.nip.io', `qcb-${uuid.replace(/-/g, '')}.local.evil.example`, '[::1', '127.0.0.1:http']) {
      const res = await raw('POST', connectPath(), { host, 'content-type': 'application/json' }, JSON.stringify(goodBody()));
      expect(res.status, host).toBe(421);
      expect(JSON.stringify(res.json)).not.toContain('evil');
      expect((await raw('GET', '/healthz', { host })).status, host).toBe(421);
      expect((await raw('GET', `/devices/${uuid}/get-display-info`, { host })).status, host).toBe(421);
    }
    await expectNoStateChange();
  });

  it('answers under IP literals, localhost and our mDNS host name, as the app and MPD call it', async () => {
    const mdnsName = `qcb-${uuid.replace(/-/g, '').toUpperCase()}.local.`;
    for (const host of [`127.0.0.1:${port()}`, '192.168.1.20', `[::1]:${port()}`, '[fe80::1]', `localhost:${port()}`, 'LOCALHOST', `${mdnsName}:${port()}`]) {
      expect((await raw('GET', `/devices/${uuid}/get-connect-info`, { host })).status, host).toBe(200);
    }
    const res = await raw('POST', connectPath(), { host: `${mdnsName}:${port()}`, 'content-type': 'application/json' }, JSON.stringify(goodBody()));
    expect(res).toEqual({ status: 200, json: { success: true } });
  });

  it('refuses a JWT over 8 KiB with 400 and accepts one of exactly 8 KiB', async () => {
    const at = (n: number) => `eyJ${'a'.repeat(n - 3)}`;
    const tooLong = await connect(goodBody({ jwt_qconnect: { jwt: at(8 * 1024 + 1), exp: Math.floor(Date.now() / 1000) + 3600, endpoint: 'wss://qws-eu-prod.qobuz.com/ws' } }));
    expect(tooLong).toEqual({ status: 400, json: { success: false, error: 'jwt_qconnect.jwt: longer than 8192 bytes' } });
    const apiTooLong = await connect(goodBody({ jwt_api: { jwt: at(9000), exp: Math.floor(Date.now() / 1000) + 3600 } }));
    expect(apiTooLong.status).toBe(400);
    await expectNoStateChange();
    const exact = await connect(goodBody({ jwt_api: { jwt: at(8 * 1024), exp: Math.floor(Date.now() / 1000) + 3600 } }));
    expect(exact.status).toBe(200);
  });

  it('caps exp at now + 24 h and keeps a nearer one as given', async () => {
    const now = Math.floor(Date.now() / 1000);
    const body = goodBody();
    (body.jwt_qconnect as Record<string, unknown>).exp = now + 10 * 365 * 24 * 3600;
    (body.jwt_api as Record<string, unknown>).exp = now + 1800;
    expect((await connect(body)).status).toBe(200);
    const req = onConnect.mock.calls[0]?.[1];
    expect(req?.jwtQconnect.exp).toBeGreaterThanOrEqual(now + 24 * 3600);
    expect(req?.jwtQconnect.exp).toBeLessThanOrEqual(now + 24 * 3600 + 60);
    expect(req?.jwtApi.exp).toBe(now + 1800);
  });
});

describe('connects that prove nothing, or come too often (issue #26, README "Security")', () => {
  it('refuses an expired jwt_qconnect or jwt_api with 400 and hands nothing over', async () => {
    refusals.length = 0;
    const past = Math.floor(Date.now() / 1000) - 1;
    const q = await connect(goodBody({ jwt_qconnect: { jwt: JWT_Q, exp: past, endpoint: 'wss://qws-eu-prod.qobuz.com/ws' } }));
    expect(q).toEqual({ status: 400, json: { success: false, error: 'jwt_qconnect.exp: the token has expired' } });
    const a = await connect(goodBody({ jwt_api: { jwt: JWT_API, exp: past } }));
    expect(a).toEqual({ status: 400, json: { success: false, error: 'jwt_api.exp: the token has expired' } });
    await expectNoStateChange();
    expect(refusals).toEqual(['kitchen:expired_token', 'kitchen:expired_token']);
  });

  it('answers 429 past a few connects a minute from one address, per player, while other addresses go on', async () => {
    const limited = new HttpServer({
      port: 0,
      bind: '127.0.0.1',
      players: [
        { id: 'kitchen', name: 'Kitchen', uuid, deviceType: 'SPEAKER', maxAudioQuality: 'HIRES_L2' },
        { id: 'office', name: 'Office', uuid: SESSION_BEFORE, deviceType: 'SPEAKER', maxAudioQuality: 'CD' },
      ],
      appId: '950096963',
      model: 'MPD bridge',
      allowedEndpointHosts: ['*.qobuz.com'],
      currentSessionId: () => '',
      onConnect,
      onConnectRefused: (playerId, reason) => refusals.push(`${playerId}:${reason}`),
      resolveStream: async () => null,
      health: () => ({ ok: true }),
      metrics: async () => ({ contentType: 'text/plain; version=0.0.4', body: '' }),
      logger: pino({ level: 'silent' }),
    });
    const port = await limited.start();
    refusals.length = 0;
    /** One connect from `from` (a loopback address of its own: the route sees the socket's address). */
    const post = (from: string, device: string) =>
      new Promise<{ status: number; retryAfter: string | undefined }>((resolve, reject) => {
        const body = JSON.stringify(goodBody());
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            localAddress: from,
            method: 'POST',
            path: `/devices/${device}/connect-to-qconnect`,
            headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await post('127.0.0.2', uuid)).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
      const refused = await post('127.0.0.2', uuid);
      expect(refused.status).toBe(429);
      expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
      // Another player from the same address, and the same player from another address, go on.
      expect((await post('127.0.0.2', SESSION_BEFORE)).status).toBe(200);
      expect((await post('127.0.0.3', uuid)).status).toBe(200);
      expect(refusals).toEqual(['kitchen:rate_limited', 'kitchen:rate_limited', 'kitchen:rate_limited']);
    } finally {
      await limited.stop();
    }
  });
});
