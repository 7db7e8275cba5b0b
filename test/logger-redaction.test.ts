import type { DestinationStream } from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger, type LogFormat } from '../src/util/logger.js';
import { defaultRedactor, Redactor, registerSecret } from '../src/util/redactor.js';

/**
 * README.md "Command line": tokens (JWTs, user auth tokens, app secret, MQTT password)
 * never appear in any log line at any level. Every secret below goes through child
 * loggers at debug, in every place a secret can hide; none may reach the output.
 */

function capture(): { destination: DestinationStream; text: () => string } {
  let out = '';
  return { destination: { write: (line: string) => void (out += line) }, text: () => out };
}

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLXNlY3JldA';
const SECRETS = {
  appSecret: 'appsecret-5f1e9c0d',
  lateToken: 'late-arriving-token-31337',
  mqttPassword: 'mqtt-hunter2-pass',
  plainPassword: 'pw-plain-777x',
  authHeader: 'dXNlcjpzZWNyZXQtYmFzaWM',
  deepToken: 'uat-deep-888x',
  requestSig: '9f8e7d6c5b4a3f2e',
  hmac: 'ZmFrZWhtYWMtdmFsdWU',
  urlToken: 'tok-in-url-123x',
  urlPassword: 'urlpass-444x',
  errToken: 'err-prop-token-555x',
  bindingSig: 'binding-sig-666x',
};

function logEverything(format: LogFormat): string {
  const out = capture();
  const redactor = new Redactor();
  redactor.registerSecret(SECRETS.appSecret);
  redactor.registerSecret(SECRETS.mqttPassword);
  const root = createLogger({ level: 'debug', format, destination: out.destination, redactor });
  const mpd = root.child({ module: 'mpd', player: 'living_room' });
  const cloud = root.child({
    module: 'cloud',
    player: 'kitchen',
    endpoint: `https://www.qobuz.com/api.json/0.2/track/getFileUrl?track_id=42&request_sig=${SECRETS.bindingSig}`,
  });
  // A token that arrives after the children were made is still censored.
  redactor.registerSecret(SECRETS.lateToken);

  mpd.debug(`connecting with app secret ${SECRETS.appSecret} and late token ${SECRETS.lateToken}`);
  mpd.debug('auth header %s for %s', `Basic ${SECRETS.authHeader}`, 'living_room');
  mpd.debug({ password: SECRETS.plainPassword, host: '127.0.0.1', port: 6600 }, 'mpd password field');
  mpd.debug(
    { headers: { authorization: `Basic ${SECRETS.authHeader}`, accept: 'application/json' } },
    'headers',
  );
  mpd.debug({ a: { b: { c: { user_auth_token: SECRETS.deepToken, kept: 'visible-deep' } } } }, 'deep');
  mpd.debug(
    { note: `the app sent ${JWT} as jwt_api`, connect: { jwt_qconnect: { jwt: JWT, exp: 1700000000 } } },
    'connect',
  );
  cloud.debug(
    {
      url: `https://streaming-qobuz-std.akamaized.net/file?uid=1&eid=42&fmt=27&etsp=1700000000&hmac=${SECRETS.hmac}`,
      api: new URL(
        `https://www.qobuz.com/api.json/0.2/x?request_ts=1&request_sig=${SECRETS.requestSig}&token=${SECRETS.urlToken}`,
      ),
      broker: `mqtt://bridge:${SECRETS.urlPassword}@broker:1883`,
      list: [`password is ${SECRETS.mqttPassword}`],
    },
    'urls',
  );
  const cause = new Error(`upstream said ${JWT}`);
  const err = Object.assign(new Error(`login failed for ${SECRETS.mqttPassword}`, { cause }), {
    token: SECRETS.errToken,
    status: 401,
  });
  cloud.error({ err }, 'request failed');
  cloud.error(err);
  return out.text();
}

describe.each(['json', 'pretty'] as const)('logger redaction, %s format', (format) => {
  const text = logEverything(format);

  it('lets no secret string through, anywhere in any line', () => {
    for (const [name, secret] of Object.entries({ ...SECRETS, jwt: JWT })) {
      expect(text.includes(secret), `${name} leaked`).toBe(false);
    }
    expect(text).not.toContain('eyJ');
  });

  it('keeps everything that is not secret, including parameter names and hosts', () => {
    for (const visible of [
      'connecting with app secret [redacted]',
      'living_room',
      'kitchen',
      'mpd password field',
      '127.0.0.1',
      'application/json',
      'visible-deep',
      'eid=42',
      'hmac=[redacted]',
      'request_sig=[redacted]',
      'token=[redacted]',
      'mqtt://bridge:[redacted]@broker:1883',
      'Basic [redacted]',
      'login failed for [redacted]',
      'upstream said [redacted]',
      'track_id=42',
      '401',
    ]) {
      expect(text, visible).toContain(visible);
    }
  });
});

describe('logger output shape', () => {
  it('writes JSON lines with the child bindings as fields', () => {
    const out = capture();
    createLogger({ level: 'info', format: 'json', destination: out.destination })
      .child({ module: 'mqtt', player: 'kitchen' })
      .info({ topic: 'qobuz-connect/kitchen/state' }, 'published');
    const line = JSON.parse(out.text()) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 30,
      module: 'mqtt',
      player: 'kitchen',
      topic: 'qobuz-connect/kitchen/state',
      msg: 'published',
    });
    expect(typeof line['time']).toBe('string');
  });

  it('writes human-readable lines led by module and player in pretty format, without colour codes', () => {
    const out = capture();
    const log = createLogger({ level: 'debug', format: 'pretty', destination: out.destination }).child({
      module: 'mpd',
      player: 'living_room',
    });
    log.debug('connected');
    log.trace('not shown at debug');
    expect(out.text()).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] DEBUG: \[mpd\/living_room\] connected\n$/);
  });

  it('censors values registered with the process-wide registerSecret', () => {
    const out = capture();
    const log = createLogger({ level: 'info', format: 'json', destination: out.destination });
    registerSecret('process-wide-secret-9999');
    log.info({ detail: 'has process-wide-secret-9999 inside' }, 'x process-wide-secret-9999');
    expect(out.text()).not.toContain('process-wide-secret-9999');
    expect(out.text()).toContain('has [redacted] inside');
    expect(defaultRedactor.scrubString('process-wide-secret-9999')).toBe('[redacted]');
  });

  it('survives circular objects', () => {
    const out = capture();
    const loop: Record<string, unknown> = { name: 'loop' };
    loop['self'] = loop;
    createLogger({ level: 'info', format: 'json', destination: out.destination }).info({ loop }, 'circular');
    expect(JSON.parse(out.text())).toMatchObject({ loop: { name: 'loop', self: '[Circular]' } });
  });
});

describe('runtime secrets are bounded (issue #13)', () => {
  const token = (n: number, len = 8192) => `eyJ${String(n).padStart(6, '0')}`.padEnd(len, 'x');

  it('replaces an owner\'s secrets on each set, so a flood of connects leaves one set behind', () => {
    const r = new Redactor();
    r.registerSecret('config-secret-1234');
    for (let i = 0; i < 500; i++) r.setSecrets('player:living_room', [`sess-a-${i}`, `sess b ${i}`]);
    // The fixed secret, the last pair and the URL-encoded form of the one with spaces.
    expect(r.secretCount).toBe(4);
    expect(r.scrubString('old sess-a-10 new sess-a-499')).toBe('old sess-a-10 new [redacted]');
    expect(r.scrubString('encoded sess%20b%20499')).toBe('encoded [redacted]');
    expect(r.scrubString('config-secret-1234')).toBe('[redacted]');
    r.setSecrets('player:living_room', []);
    expect(r.secretCount).toBe(1);
    expect(r.scrubString('sess-a-499')).toBe('sess-a-499');
  });

  it('keeps owners apart: one player\'s connect does not forget another\'s tokens', () => {
    const r = new Redactor();
    r.setSecrets('player:a', ['token-of-a-1111']);
    r.setSecrets('player:b', ['token-of-b-2222']);
    r.setSecrets('player:a', ['token-of-a-3333']);
    expect(r.scrubString('token-of-b-2222 token-of-a-3333')).toBe('[redacted] [redacted]');
  });

  it('censors a secret containing another whole, and applies named rules', () => {
    const r = new Redactor();
    r.setSecrets('p', ['abc-secret', 'abc-secret-longer']);
    r.setRule('digits', (t) => t.replace(/\d{6}/g, '######'));
    r.setRule('digits', (t) => t.replace(/\d{6}/g, '######'));
    expect(r.scrubString('x abc-secret-longer y 123456')).toBe('x [redacted] y ######');
  });

  it('leaves user text alone in scrubKnown (titles like "Basic Instinct") but still censors registered values', () => {
    const r = new Redactor();
    r.setSecrets('p', ['tok-9999-abcd']);
    expect(r.scrubKnown('{"title":"Basic Instinct","x":"tok-9999-abcd"}')).toBe('{"title":"Basic Instinct","x":"[redacted]"}');
    expect(r.scrubString('Basic Instinct')).toBe('Basic [redacted]');
  });

  it('scrubs a line in time linear in its length, whatever number of connects came before', () => {
    const r = new Redactor();
    const line = `${'word '.repeat(2000)}${token(1)}`;
    const time = (n: number) => {
      const started = performance.now();
      for (let i = 0; i < n; i++) r.scrubString(line);
      return (performance.now() - started) / n;
    };
    r.setSecrets('player:x', [token(0)]);
    time(20); // warm-up
    const before = time(50);
    for (let i = 2; i < 300; i++) r.setSecrets('player:x', [token(i), token(i + 1000)]);
    const after = time(50);
    console.log(`scrubString of a ${line.length}-char line: ${before.toFixed(3)} ms before, ${after.toFixed(3)} ms after 300 connects`);
    expect(r.secretCount).toBe(2);
    // Two secrets instead of one: at most a few times the cost, never hundreds (generous for a loaded CI machine).
    expect(after).toBeLessThan(Math.max(before * 10, 5));
  });
});
