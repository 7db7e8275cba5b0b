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
