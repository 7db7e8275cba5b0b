import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorMessage } from '../src/core/qcb-error.js';
import { QobuzApi } from '../src/qobuz/qobuz-api.js';
import { StreamUrlResolver } from '../src/qobuz/stream-url-resolver.js';
import { JwtApiToken, UserAuthToken, type TokenProvider } from '../src/qobuz/token-provider.js';
import { QobuzApiStub } from './support/qobuz-api-stub.js';

// README.md "Command line" + docs/conventions.md principle 9: tokens, JWTs, secrets and URL signatures
// never reach a log line.

let stub: QobuzApiStub;
let lines: string[];
let clockMs: number;
const now = () => clockMs;

function makeApi(auth: TokenProvider): QobuzApi {
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  return new QobuzApi({
    baseUrl: stub.baseUrl,
    appId: stub.appId,
    appSecret: stub.appSecret,
    logger,
    auth,
    retryDelayMs: 1,
    now,
  });
}

beforeEach(async () => {
  lines = [];
  clockMs = Date.now();
  stub = new QobuzApiStub({ cdn: 'http://127.0.0.1:9/cdn', now });
  await stub.start();
  const formats = { 27: { bitDepth: 24, samplingRateKhz: 192 }, 7: { bitDepth: 24, samplingRateKhz: 96 } };
  stub.addTrack({ id: 1, title: 'One', artist: 'A', album: 'B', durationMs: 60_000, formats });
});
afterEach(() => stub.stop());

describe('Qobuz logging at debug level', () => {
  it('logs paths and statuses but no token, secret, signature or signed query', async () => {
    const handedOver = stub.issueJwtApi({ ttlSeconds: 60 }); // forces a refresh
    const token = new JwtApiToken(handedOver);
    const api = makeApi(token);
    const resolver = new StreamUrlResolver({
      api,
      logger: pino({ level: 'debug' }, { write: (l: string) => void lines.push(l) }),
      now,
    });
    stub.refuseFormat(1, 27); // fallback logs
    stub.failNext(1, 503, { path: 'track/getFileUrl' }); // retry logs
    const resolved = await resolver.resolve(1, 4);
    await resolver.resolve(1, 4); // cache hit log
    await api.getTrack(1);
    stub.expireTokens();
    stub.expireSessions();
    const refusal = await api.getFileUrl(1, 4).then(
      () => 'no error',
      (e: unknown) => errorMessage(e),
    );
    const userToken = 'secret-user-token-0123456789abcdef';
    await makeApi(new UserAuthToken(userToken))
      .getTrack(1)
      .catch(() => undefined);

    const secrets = [
      handedOver.jwt,
      token.current().token, // the refreshed jwt
      userToken,
      stub.appSecret,
      new URL(resolved.url).search.slice(1),
      new URL(resolved.url).searchParams.get('hmac') ?? 'missing hmac',
      ...stub.requests.map((r) => r.params['request_sig']).filter((s): s is string => s !== undefined),
      ...stub.requests.map((r) => r.headers['x-session-id']).filter((s): s is string => s !== undefined),
    ];
    expect(secrets.length).toBeGreaterThan(8);
    expect(token.current().token).not.toBe(handedOver.jwt);
    const text = lines.join('');
    // The scenario did log: requests, the refresh, the fallback, the retry, the resolved URL path.
    expect(text).toContain('"path":"track/getFileUrl"');
    expect(text).toContain('jwt_api renewed');
    expect(text).toContain('refused format, falling back');
    expect(text).toContain('"status":503');
    expect(text).toContain('"cdn":"127.0.0.1:9/cdn/file/1-7.flac"');
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toContain('etsp=');
    expect(refusal).toContain('Bearer jwt_api');
    for (const secret of secrets) expect(refusal).not.toContain(secret);
  });
});
