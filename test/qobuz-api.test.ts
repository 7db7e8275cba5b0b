import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isQcbError, type QcbError } from '../src/core/qcb-error.js';
import { QobuzApi, type QobuzApiOptions } from '../src/qobuz/qobuz-api.js';
import { JwtApiToken, UserAuthToken, type TokenProvider } from '../src/qobuz/token-provider.js';
import { QobuzApiStub, type QobuzApiStubOptions } from './support/qobuz-api-stub.js';

const silent = pino({ level: 'silent' });
const HIRES = {
  id: 4242,
  title: 'So What',
  artist: 'Miles Davis',
  album: 'Kind of Blue',
  durationMs: 562_000,
};
const formats = {
  27: { bitDepth: 24, samplingRateKhz: 192 },
  7: { bitDepth: 24, samplingRateKhz: 96 },
  6: { bitDepth: 16, samplingRateKhz: 44.1 },
  5: { bitDepth: 16, samplingRateKhz: 44.1 },
};

let stub: QobuzApiStub;
/** One clock for the stub and the client, so expiry is tested without waiting. */
let clockMs: number;
const now = () => clockMs;

async function startStub(options: QobuzApiStubOptions = {}): Promise<void> {
  stub = new QobuzApiStub({ cdn: 'http://127.0.0.1:9/cdn', now, ...options });
  await stub.start();
  stub.addTrack({ ...HIRES, formats });
  stub.addTrack({
    id: 7,
    title: 'CD only',
    artist: 'A',
    album: 'B',
    durationMs: 61_500,
    formats: { 6: formats[6] },
  });
}

function makeApi(auth: TokenProvider, extra: Partial<QobuzApiOptions> = {}): QobuzApi {
  return new QobuzApi({
    baseUrl: stub.baseUrl,
    appId: stub.appId,
    appSecret: stub.appSecret,
    logger: silent,
    auth,
    retryDelayMs: 5,
    now,
    ...extra,
  });
}

async function failure(promise: Promise<unknown>): Promise<QcbError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isQcbError(err)) throw new Error(`expected a QcbError, got ${String(err)}`);
  return err;
}

beforeEach(async () => {
  clockMs = Date.now();
  await startStub();
});
afterEach(() => stub.stop());

describe('QobuzApi.getFileUrl (docs/protocol.md §7)', () => {
  it('streams with the handed-over jwt_api as Bearer, inside a session, with the browser headers', async () => {
    const api = makeApi(new JwtApiToken(stub.issueJwtApi()));
    const url = await api.getFileUrl(HIRES.id, 4);
    expect(url).toMatchObject({
      trackId: HIRES.id,
      formatId: 27,
      bitDepth: 24,
      samplingRateHz: 192_000,
      mimeType: 'audio/flac',
      durationMs: 562_000,
    });
    expect(url.expiresAtMs).toBe(Number(new URL(url.url).searchParams.get('etsp')) * 1000);
    expect(url.expiresAtMs - clockMs).toBeGreaterThan(3_500_000);
    const [session, call] = [stub.requestsTo('session/start')[0], stub.requestsTo('track/getFileUrl')[0]];
    expect(session?.status).toBe(200);
    expect(call).toMatchObject({
      status: 200,
      auth: 'jwt_api',
      params: { format_id: '27', intent: 'stream', track_id: '4242' },
    });
    expect(call?.headers).toMatchObject({
      'x-app-id': stub.appId,
      origin: 'https://play.qobuz.com',
      referer: 'https://play.qobuz.com/',
    });
    expect(call?.headers['user-agent']).toMatch(/^Mozilla\/5\.0 .*Chrome/);
    expect(call?.headers['x-session-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('streams with a configured user_auth_token sent as X-User-Auth-Token', async () => {
    const api = makeApi(new UserAuthToken(stub.issueUserAuthToken()));
    expect((await api.getFileUrl(HIRES.id, 2)).formatId).toBe(6);
    expect(stub.requests.map((r) => [r.path, r.auth, r.status])).toEqual([
      ['session/start', 'user_auth_token', 200],
      ['track/getFileUrl', 'user_auth_token', 200],
    ]);
  });

  it('mints a WebSocket token with qws/createToken and the user token (docs/protocol.md §8, issue #12)', async () => {
    await stub.stop();
    await startStub({ mintQwsToken: () => ({ jwt: 'qws-jwt-1', exp: 1_900_000_000, endpoint: 'wss://qws.example/ws' }) });
    const api = makeApi(new UserAuthToken(stub.issueUserAuthToken()));
    expect(await api.createQwsToken()).toEqual({ jwt: 'qws-jwt-1', expiresAtMs: 1_900_000_000_000, endpoint: 'wss://qws.example/ws' });
    expect(stub.requests.map((r) => [r.path, r.auth, r.status])).toEqual([['qws/createToken', 'user_auth_token', 200]]);
    // A refused user token says which kind of token was refused.
    const refused = await makeApi(new UserAuthToken('not-a-known-token')).createQwsToken().catch((e: unknown) => e);
    expect(isQcbError(refused, 'ERR_QOBUZ_AUTH')).toBe(true);
  });

  it('reports a fractional kHz rate in Hz and the lower format Qobuz chose to serve', async () => {
    const url = await makeApi(new JwtApiToken(stub.issueJwtApi())).getFileUrl(7, 4);
    expect(url).toMatchObject({ formatId: 6, samplingRateHz: 44_100, bitDepth: 16, durationMs: 62_000 });
    expect(stub.requestsTo('track/getFileUrl')).toHaveLength(1);
  });

  it('falls back 27 → 7 when 27 is refused with restrictions, and reports the served format', async () => {
    stub.refuseFormat(HIRES.id, 27);
    const url = await makeApi(new JwtApiToken(stub.issueJwtApi())).getFileUrl(HIRES.id, 4);
    expect(url).toMatchObject({ formatId: 7, samplingRateHz: 96_000, bitDepth: 24 });
    expect(stub.requestsTo('track/getFileUrl').map((r) => r.params['format_id'])).toEqual(['27', '7']);
  });

  it('falls back past formats refused with an HTTP 400 status error', async () => {
    stub.refuseFormat(HIRES.id, 27, 'error');
    stub.refuseFormat(HIRES.id, 7, 'error');
    const url = await makeApi(new JwtApiToken(stub.issueJwtApi())).getFileUrl(HIRES.id, 4);
    expect(url.formatId).toBe(6);
    expect(stub.requestsTo('track/getFileUrl').map((r) => [r.params['format_id'], r.status])).toEqual([
      ['27', 400],
      ['7', 400],
      ['6', 200],
    ]);
  });

  it('gives ERR_QOBUZ_UNAVAILABLE when every format is refused or the track is unknown', async () => {
    for (const f of [27, 7, 6, 5]) stub.refuseFormat(HIRES.id, f);
    const api = makeApi(new JwtApiToken(stub.issueJwtApi()));
    expect((await failure(api.getFileUrl(HIRES.id, 4))).code).toBe('ERR_QOBUZ_UNAVAILABLE');
    expect(stub.requestsTo('track/getFileUrl')).toHaveLength(4);
    expect((await failure(api.getFileUrl(999, 1))).code).toBe('ERR_QOBUZ_UNAVAILABLE');
  });

  it('retries a 5xx with backoff and then succeeds', async () => {
    stub.failNext(2, 503, { path: 'track/getFileUrl' });
    const url = await makeApi(new JwtApiToken(stub.issueJwtApi())).getFileUrl(HIRES.id, 4);
    expect(url.formatId).toBe(27);
    expect(stub.requestsTo('track/getFileUrl').map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('gives up after the configured retries with ERR_QOBUZ_API', async () => {
    stub.failNext(5, 502, { path: 'track/get' });
    const err = await failure(
      makeApi(new JwtApiToken(stub.issueJwtApi()), { retries: 1 }).getTrack(HIRES.id),
    );
    expect(err.code).toBe('ERR_QOBUZ_API');
    expect(err.message).toMatch(/after 2 attempts.*502/);
    expect(stub.requestsTo('track/get')).toHaveLength(2);
  });

  it('does not retry a 4xx and types it', async () => {
    stub.failNext(1, 400, { path: 'track/get', message: 'Invalid argument' });
    const err = await failure(makeApi(new JwtApiToken(stub.issueJwtApi())).getTrack(HIRES.id));
    expect(err.code).toBe('ERR_QOBUZ_API');
    expect(err.message).toContain('Invalid argument');
    expect(stub.requestsTo('track/get')).toHaveLength(1);
  });

  it('does not fall back through every format when the signature is refused', async () => {
    await stub.stop();
    await startStub({ requireSession: false });
    const api = makeApi(new JwtApiToken(stub.issueJwtApi()), {
      appSecret: 'not-the-secret',
      useSession: false,
    });
    const err = await failure(api.getFileUrl(HIRES.id, 4));
    expect(err.code).toBe('ERR_QOBUZ_API');
    expect(err.message).toContain('request_sig');
    expect(stub.requestsTo('track/getFileUrl')).toHaveLength(1);
  });

  it('treats a 429 as an API error, not as a refused format', async () => {
    stub.failNext(1, 429, { path: 'track/getFileUrl', message: 'Too many requests' });
    const err = await failure(makeApi(new JwtApiToken(stub.issueJwtApi())).getFileUrl(HIRES.id, 4));
    expect(err.code).toBe('ERR_QOBUZ_API');
    expect(stub.requestsTo('track/getFileUrl')).toHaveLength(1);
  });

  it('times out a stalled answer and retries it', async () => {
    // A timeout long enough for each request to reach the stub on a loaded machine (a 100 ms timer
    // could fire before the request was even written), and an answer far later than it.
    stub.setDelay(5000);
    const err = await failure(
      makeApi(new JwtApiToken(stub.issueJwtApi()), { timeoutMs: 1000, retries: 1 }).getTrack(HIRES.id),
    );
    expect(err.code).toBe('ERR_QOBUZ_API');
    expect(err.message).toContain('timed out after 1000 ms');
    expect(stub.requestsTo('track/get')).toHaveLength(2);
  });
});

describe('QobuzApi authentication (docs/protocol.md §7 "Token")', () => {
  it('renews jwt_api with qws/refreshToken shortly before its exp', async () => {
    const token = new JwtApiToken(stub.issueJwtApi({ ttlSeconds: 3600 }));
    const handedOver = token.current().token;
    const api = makeApi(token);
    await api.getTrack(HIRES.id);
    expect(stub.requestsTo('qws/refreshToken')).toHaveLength(0);

    clockMs += 57 * 60_000; // 3 minutes before exp: inside the 5-minute refresh margin
    await api.getFileUrl(HIRES.id, 4);
    const refresh = stub.requestsTo('qws/refreshToken');
    expect(refresh.map((r) => [r.method, r.status, r.params['jwt']])).toEqual([['POST', 200, '<redacted>']]);
    expect(token.current().token).not.toBe(handedOver);
    expect(token.current().expSeconds * 1000).toBeGreaterThan(clockMs + 3_000_000);
    expect(stub.requestsTo('track/getFileUrl')[0]?.status).toBe(200);
  });

  it('shares one refresh between concurrent calls', async () => {
    const api = makeApi(new JwtApiToken(stub.issueJwtApi({ ttlSeconds: 30 })));
    stub.addTrack({ ...HIRES, id: 1, formats });
    await Promise.all([api.getTrack(HIRES.id), api.getTrack(1), api.getFileUrl(HIRES.id, 3)]);
    expect(stub.requestsTo('qws/refreshToken')).toHaveLength(1);
    expect(stub.requests.every((r) => r.status === 200)).toBe(true);
  });

  it('names the token kind tried when refused, never the token', async () => {
    const jwt = stub.issueJwtApi();
    stub.expireTokens();
    const err = await failure(makeApi(new JwtApiToken(jwt)).getFileUrl(HIRES.id, 4));
    expect(err.code).toBe('ERR_QOBUZ_AUTH');
    expect(err.message).toContain('Bearer jwt_api');
    expect(err.message).toContain('401');
    expect(err.message).not.toContain(jwt.jwt);

    const unknownUserToken = 'u'.repeat(40);
    const userErr = await failure(makeApi(new UserAuthToken(unknownUserToken)).getTrack(HIRES.id));
    expect(userErr.code).toBe('ERR_QOBUZ_AUTH');
    expect(userErr.message).toContain('X-User-Auth-Token');
    expect(userErr.message).not.toContain(unknownUserToken);
  });

  it('refuses to call before the app handed a jwt_api over', async () => {
    const err = await failure(makeApi(new JwtApiToken()).getTrack(HIRES.id));
    expect(err.code).toBe('ERR_QOBUZ_AUTH');
    expect(stub.requests).toHaveLength(0);
  });
});

describe('QobuzApi session (docs/protocol.md §7 "session/start")', () => {
  it('starts one session, sends its X-Session-Id and renews it before expires_at', async () => {
    await stub.stop();
    await startStub({ sessionLifetimeSeconds: 600 });
    const api = makeApi(new JwtApiToken(stub.issueJwtApi({ ttlSeconds: 86_400 })));
    await api.getFileUrl(HIRES.id, 4);
    await api.getFileUrl(HIRES.id, 3);
    const calls = stub.requestsTo('track/getFileUrl');
    expect(stub.requestsTo('session/start')).toHaveLength(1);
    expect(calls[1]?.headers['x-session-id']).toBe(calls[0]?.headers['x-session-id']);

    clockMs += 9.5 * 60_000; // 30 s before expires_at: inside the 60 s renewal margin
    await api.getFileUrl(HIRES.id, 4);
    expect(stub.requestsTo('session/start')).toHaveLength(2);
    expect(stub.requestsTo('track/getFileUrl')[2]?.headers['x-session-id']).not.toBe(
      calls[0]?.headers['x-session-id'],
    );
  });

  it('starts a new session when the service forgot ours', async () => {
    const api = makeApi(new JwtApiToken(stub.issueJwtApi()));
    await api.getFileUrl(HIRES.id, 4);
    stub.expireSessions();
    const url = await api.getFileUrl(HIRES.id, 4);
    expect(url.formatId).toBe(27);
    expect(stub.requestsTo('track/getFileUrl').map((r) => r.status)).toEqual([200, 401, 200]);
    expect(stub.requestsTo('session/start')).toHaveLength(2);
  });
});

describe('QobuzApi.getTrack (docs/protocol.md §7 "track/get")', () => {
  it('maps track/get onto TrackInfo with the catalogue maximum, asking upstream once per track', async () => {
    const api = makeApi(new JwtApiToken(stub.issueJwtApi()));
    const [a, b] = await Promise.all([api.getTrack(HIRES.id), api.getTrack(HIRES.id)]);
    const c = await api.getTrack(HIRES.id);
    expect(a).toBe(b);
    expect(c).toBe(a);
    expect(stub.requestsTo('track/get')).toHaveLength(1);
    expect(a.info).toEqual({
      id: HIRES.id,
      title: 'So What',
      artist: 'Miles Davis',
      album: 'Kind of Blue',
      coverUrl: `https://static.example/${HIRES.id}_600.jpg`,
      durationMs: 562_000,
      sampleRateHz: 192_000,
      bitDepth: 24,
    });
    expect(a).toMatchObject({
      maxSamplingRateHz: 192_000,
      maxBitDepth: 24,
      streamable: true,
      hiresStreamable: true,
    });
  });

  it('does not cache failures', async () => {
    const api = makeApi(new JwtApiToken(stub.issueJwtApi()));
    stub.failNext(1, 404, { path: 'track/get' });
    expect((await failure(api.getTrack(HIRES.id))).code).toBe('ERR_QOBUZ_UNAVAILABLE');
    expect((await api.getTrack(HIRES.id)).info.title).toBe('So What');
  });

  it('refuses a wrong app id with ERR_QOBUZ_API', async () => {
    const err = await failure(
      makeApi(new JwtApiToken(stub.issueJwtApi()), { appId: '1' }).getTrack(HIRES.id),
    );
    expect(err.code).toBe('ERR_QOBUZ_API');
    expect(err.message).toContain('app_id');
  });
});
