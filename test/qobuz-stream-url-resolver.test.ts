import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { QcbError } from '../src/core/qcb-error.js';
import { QobuzApi, type StreamUrl } from '../src/qobuz/qobuz-api.js';
import { StreamUrlResolver, type FileUrlSource } from '../src/qobuz/stream-url-resolver.js';
import { JwtApiToken } from '../src/qobuz/token-provider.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioHttpServer } from './support/audio-http-server.js';
import { QobuzApiStub } from './support/qobuz-api-stub.js';

const silent = pino({ level: 'silent' });
let clockMs = 1_700_000_000_000;
const now = () => clockMs;

/** A FileUrlSource whose URLs live `lifetimeMs`; counts calls, can be told to fail. */
class FakeSource implements FileUrlSource {
  calls: { trackId: number; maxLevel: number }[] = [];
  failWith: Error | null = null;
  gate: Promise<void> = Promise.resolve();

  constructor(private readonly lifetimeMs: number) {}

  async getFileUrl(trackId: number, maxLevel: number): Promise<StreamUrl> {
    this.calls.push({ trackId, maxLevel });
    const n = this.calls.length;
    await this.gate;
    if (this.failWith) throw this.failWith;
    return {
      trackId,
      url: `https://cdn.example/file/${trackId}?n=${n}`,
      formatId: maxLevel >= 4 ? 27 : 6,
      bitDepth: 24,
      samplingRateHz: 96_000,
      channels: 2,
      mimeType: 'audio/flac',
      durationMs: 1000,
      expiresAtMs: clockMs + this.lifetimeMs,
    };
  }
}

describe('StreamUrlResolver (docs/protocol.md §9.2: the stream route is hit at every start and seek)', () => {
  it('answers from the cache while the URL is fresh', async () => {
    const source = new FakeSource(10 * 60_000);
    const resolver = new StreamUrlResolver({ api: source, logger: silent, now });
    const first = await resolver.resolve(5, 4);
    clockMs += 8 * 60_000; // 2 minutes left: still fresh
    expect(await resolver.resolve(5, 4)).toBe(first);
    expect(source.calls).toHaveLength(1);
  });

  it('resolves a new URL within 60 s of expiry', async () => {
    const source = new FakeSource(10 * 60_000);
    const resolver = new StreamUrlResolver({ api: source, logger: silent, now });
    const first = await resolver.resolve(5, 4);
    clockMs += 9 * 60_000 + 1_000; // 59 s left
    const second = await resolver.resolve(5, 4);
    expect(second.url).not.toBe(first.url);
    expect(source.calls).toHaveLength(2);
  });

  it('shares one resolution between concurrent requests (MPD start and an immediate seek)', async () => {
    const source = new FakeSource(10 * 60_000);
    let open!: () => void;
    source.gate = new Promise((r) => (open = r));
    const resolver = new StreamUrlResolver({ api: source, logger: silent, now });
    const both = Promise.all([resolver.resolve(5, 4), resolver.resolve(5, 4)]);
    open();
    const [a, b] = await both;
    expect(a).toBe(b);
    expect(source.calls).toHaveLength(1);
  });

  it('keeps levels apart, since the allowed quality can change mid-session', async () => {
    const source = new FakeSource(10 * 60_000);
    const resolver = new StreamUrlResolver({ api: source, logger: silent, now });
    expect((await resolver.resolve(5, 4)).formatId).toBe(27);
    expect((await resolver.resolve(5, 2)).formatId).toBe(6);
    expect(source.calls.map((c) => c.maxLevel)).toEqual([4, 2]);
  });

  it('serves the still-valid URL when renewal fails, and fails once it has expired', async () => {
    const source = new FakeSource(10 * 60_000);
    const resolver = new StreamUrlResolver({ api: source, logger: silent, now });
    const first = await resolver.resolve(5, 4);
    source.failWith = new QcbError('ERR_QOBUZ_API', 'HTTP 503');
    clockMs += 9.5 * 60_000;
    expect(await resolver.resolve(5, 4)).toBe(first);
    clockMs += 60_000;
    await expect(resolver.resolve(5, 4)).rejects.toMatchObject({ code: 'ERR_QOBUZ_API' });
  });

  it('resolves again after invalidate()', async () => {
    const source = new FakeSource(10 * 60_000);
    const resolver = new StreamUrlResolver({ api: source, logger: silent, now });
    await resolver.resolve(5, 4);
    await resolver.resolve(6, 4);
    resolver.invalidate(5);
    await resolver.resolve(5, 4);
    await resolver.resolve(6, 4);
    expect(source.calls.map((c) => c.trackId)).toEqual([5, 6, 5]);
  });
});

describe('StreamUrlResolver against the simulated Qobuz service', () => {
  let stub: QobuzApiStub | null = null;
  afterEach(async () => stub?.stop());

  it('re-resolves from the etsp expiry of real-looking signed URLs', async () => {
    stub = new QobuzApiStub({ cdn: 'http://127.0.0.1:9/cdn', urlLifetimeSeconds: 300, now });
    await stub.start();
    stub.addTrack({
      id: 11,
      title: 't',
      artist: 'a',
      album: 'b',
      durationMs: 1000,
      formats: { 7: { bitDepth: 24, samplingRateKhz: 88.2 } },
    });
    const api = new QobuzApi({
      baseUrl: stub.baseUrl,
      appId: stub.appId,
      appSecret: stub.appSecret,
      logger: silent,
      auth: new JwtApiToken(stub.issueJwtApi({ ttlSeconds: 86_400 })),
      now,
    });
    const resolver = new StreamUrlResolver({ api, logger: silent, now });
    const first = await resolver.resolve(11, 4);
    expect(first).toMatchObject({ formatId: 7, samplingRateHz: 88_200 });
    clockMs += 200_000;
    expect(await resolver.resolve(11, 4)).toBe(first);
    clockMs += 41_000; // 59 s left
    const second = await resolver.resolve(11, 4);
    expect(second.url).not.toBe(first.url);
    expect(second.expiresAtMs).toBeGreaterThan(first.expiresAtMs);
    expect(stub.requestsTo('track/getFileUrl')).toHaveLength(2);
  });

  it('plugs into the range-capable CDN: the resolved URL serves byte ranges of the track file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qcb-cdn-'));
    const cdn = new AudioHttpServer();
    try {
      await cdn.start();
      const file = join(dir, 'track.flac');
      await writeFile(file, Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 256)));
      stub = new QobuzApiStub({ cdn, now });
      await stub.start();
      stub.addTrack({
        id: 12,
        title: 't',
        artist: 'a',
        album: 'b',
        durationMs: 1000,
        formats: { 6: { file, bitDepth: 16, samplingRateKhz: 44.1 } },
      });
      const auth = new JwtApiToken(stub.issueJwtApi({ ttlSeconds: 86_400 }));
      const api = new QobuzApi({
        baseUrl: stub.baseUrl,
        appId: stub.appId,
        appSecret: stub.appSecret,
        logger: silent,
        auth,
        now,
      });
      const resolved = await new StreamUrlResolver({ api, logger: silent, now }).resolve(12, 4);
      expect(resolved.formatId).toBe(6);
      const response = await fetch(resolved.url, { headers: { Range: 'bytes=100-103' } });
      expect(response.status).toBe(206);
      expect([...new Uint8Array(await response.arrayBuffer())]).toEqual([100, 101, 102, 103]);
    } finally {
      await cdn.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
