import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HttpServer } from '../src/discovery/http-server.js';

// README.md "HTTP endpoints", docs/protocol.md §2: the stream redirect MPD follows, /healthz and /metrics,
// on a real server.

// Of the length StreamTokens mints (22–64 url-safe characters).
const TOKEN = 'q7Hk2_xY-9aBcDeFgHiJkLmNoPqRsTu';
const SIGNED = 'https://streaming.example.test/file?eid=1&sig=abcdef';
const resolveStream = vi.fn(async (playerId: string, token: string) => (playerId === 'kitchen' && token === TOKEN ? SIGNED : null));
const logLines: string[] = [];
/** What the cover hook hands the route, per player (the office has none). */
const coverOf = new Map<string, { bytes: Buffer; contentType: string }>();
let server: HttpServer;
let port: number;

/** A GET with the path sent byte for byte (fetch would normalise `..`). */
function rawGet(path: string): Promise<{ status: number; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  server = new HttpServer({
    port: 0,
    bind: '127.0.0.1',
    players: [
      { id: 'kitchen', name: 'Kitchen', uuid: randomUUID(), deviceType: 'SPEAKER', maxAudioQuality: 'CD' },
      { id: 'office', name: 'Office', uuid: randomUUID(), deviceType: 'STREAMER', maxAudioQuality: 'MP3' },
    ],
    appId: '1',
    model: 'm',
    allowedEndpointHosts: ['*.qobuz.com'],
    currentSessionId: () => '',
    onConnect: async () => undefined,
    resolveStream,
    cover: async (playerId) => coverOf.get(playerId) ?? null,
    health: () => ({ players: { kitchen: { mpd: 'up' } } }),
    metrics: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'qcb_up 1\n' }),
    logger: pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) }),
  });
  port = await server.start();
});

afterAll(async () => {
  await server.stop();
});

describe('cover route (issue #26)', () => {
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, type: res.headers.get('content-type'), nosniff: res.headers.get('x-content-type-options'), body: await res.text() };
  };

  it('gives one answer for an unknown player and a player without a cover, so ids cannot be enumerated', async () => {
    coverOf.clear();
    const unknown = await get('/stream/nobody/cover.jpg');
    const none = await get('/stream/office/cover.jpg');
    expect(unknown.status).toBe(404);
    expect(none).toEqual(unknown);
    expect(unknown.nosniff).toBe('nosniff');
  });

  it('serves JPEG, PNG and WebP with nosniff, and refuses any other type (SVG, HTML) as "no cover"', async () => {
    const none = await get('/stream/office/cover.jpg');
    for (const type of ['image/jpeg', 'image/png', 'image/webp', 'IMAGE/PNG; charset=binary']) {
      coverOf.set('kitchen', { bytes: Buffer.from('\x89PNG fake'), contentType: type });
      const ok = await get('/stream/kitchen/cover.png');
      expect(ok.status, type).toBe(200);
      expect(ok.type, type).toBe(type.split(';')[0]!.toLowerCase());
      expect(ok.nosniff, type).toBe('nosniff');
    }
    for (const type of ['image/svg+xml', 'text/html', 'image/gif', '']) {
      coverOf.set('kitchen', { bytes: Buffer.from('<svg onload="alert(1)"/>'), contentType: type });
      expect(await get('/stream/kitchen/cover.jpg'), type).toEqual(none);
    }
    coverOf.clear();
  });
});

describe('stream route', () => {
  it('redirects a current queue item token with 302 to the signed URL', async () => {
    const res = await rawGet(`/stream/kitchen/${TOKEN}`);
    expect(res).toEqual({ status: 302, location: SIGNED });
    expect(resolveStream).toHaveBeenLastCalledWith('kitchen', TOKEN);
  });

  it('accepts the .flac suffix MPD picks its decoder by, resolving the bare token', async () => {
    const res = await rawGet(`/stream/kitchen/${TOKEN}.flac`);
    expect(res).toEqual({ status: 302, location: SIGNED });
    expect(resolveStream).toHaveBeenLastCalledWith('kitchen', TOKEN);
    expect((await rawGet(`/stream/kitchen/${TOKEN}.exe`)).status).toBe(404);
  });

  it('answers 404 for an unknown token and an unknown player', async () => {
    expect((await rawGet('/stream/kitchen/unknownToken')).status).toBe(404);
    resolveStream.mockClear();
    expect((await rawGet(`/stream/nobody/${TOKEN}`)).status).toBe(404);
    expect(resolveStream).not.toHaveBeenCalled();
  });

  it('answers 404 for traversal attempts and malformed paths without resolving anything', async () => {
    resolveStream.mockClear();
    const paths = [
      `/stream/kitchen/../kitchen/${TOKEN}`,
      `/stream/../stream/kitchen/${TOKEN}`,
      `/stream/kitchen/..%2F..%2Fetc%2Fpasswd`,
      `/stream/kitchen/%2e%2e`,
      `/stream/kitchen/${TOKEN}/extra`,
      `/stream/kitchen/`,
      `/stream/kitchen/${TOKEN}%00`,
    ];
    for (const path of paths) {
      expect({ path, status: (await rawGet(path)).status }).toEqual({ path, status: 404 });
    }
    // The only way a token reaches the resolver is as a clean path segment.
    for (const call of resolveStream.mock.calls) expect(call[1]).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('answers 502 when the stream URL cannot be resolved', async () => {
    resolveStream.mockRejectedValueOnce(new Error('Qobuz API down'));
    expect((await rawGet(`/stream/kitchen/${TOKEN}`)).status).toBe(502);
  });

  it('never logs the stream token or the signed URL', async () => {
    expect((await rawGet(`/stream/kitchen/${TOKEN}`)).status).toBe(302);
    expect((await rawGet('/stream/kitchen/otherToken')).status).toBe(404);
    const log = logLines.join('\n');
    expect(log).toContain('/stream/:player/:token');
    expect(log).not.toContain(TOKEN);
    expect(log).not.toContain('sig=abcdef');
  });
});

describe('health and metrics', () => {
  it('answers /healthz with 200 and the JSON the app layer gives', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toEqual({ players: { kitchen: { mpd: 'up' } } });
  });

  it('answers /metrics with the Prometheus text and its content type', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await res.text()).toBe('qcb_up 1\n');
  });

  it('answers an unknown route with a JSON 404', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ success: false, error: 'not found' });
  });
});
