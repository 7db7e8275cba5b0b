import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Router from '@koa/router';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeFileCommand } from '../src/app/diagnostics-commands.js';
import { configSecrets } from '../src/config/config-secrets.js';
import { ConfigSchema } from '../src/config/config-schema.js';
import { isQcbError } from '../src/core/qcb-error.js';
import { Diagnostics } from '../src/diagnostics/diagnostics.js';
import { WireRecorder } from '../src/diagnostics/wire-recorder.js';
import { WireRenderer } from '../src/diagnostics/wire-renderer.js';
import type { MpdRecord } from '../src/diagnostics/wire-record.js';
import { diagnosticsRoute } from '../src/discovery/diagnostics-route.js';
import { HttpError } from '../src/discovery/read-json-body.js';
import { parseCommand } from '../src/mqtt/command-parser.js';
import { decodeFrameText } from '../src/protocol/decode-text.js';
import { joinEnvelope } from '../src/protocol/frame-codec.js';
import { FrameWriter, message } from '../src/protocol/frame-writer.js';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { varintBytes } from '../src/protocol/varint.js';
import { createLogger } from '../src/util/logger.js';
import { Redactor } from '../src/util/redactor.js';
import { encodingsOf, leaks } from './support/secret-scan.js';

/** Issue #21 part 2 (README "Reporting a problem"): the recorder's file handling, redaction and the /diagnostics guard. */

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSIsImVtYWlsIjoiYUBiLmNvIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbi0xMjM0NTY3OA';

function logSink(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'debug', format: 'json', destination: { write: (l: string) => void lines.push(l) } }) };
}

function mpdRecord(n: number): MpdRecord {
  return { v: 1, at: new Date(n).toISOString(), player: 'p', dir: 'out', kind: 'mpd', command: 'status', args: [String(n)], ok: true, ms: 1 };
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe('the wire recorder (issue #21 part 2)', () => {
  it('rotates: never more files than record_files, none past record_max_bytes, records in order across them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qcb-rec-'));
    const file = join(dir, 'wire.jsonl');
    const recorder = new WireRecorder({ file, maxBytes: 2000, files: 3, logger: logSink().logger });
    for (let n = 0; n < 300; n++) recorder.write(mpdRecord(n));
    await recorder.close();
    expect(readdirSync(dir).sort()).toEqual(['wire.jsonl', 'wire.jsonl.1', 'wire.jsonl.2']);
    const seq = (f: string) =>
      readFileSync(join(dir, f), 'utf8').trim().split('\n').map((l) => Number((JSON.parse(l) as MpdRecord).args[0]));
    for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(2000);
    const all = [...seq('wire.jsonl.2'), ...seq('wire.jsonl.1'), ...seq('wire.jsonl')];
    expect(all.at(-1)).toBe(299);
    // Contiguous: nothing lost or reordered inside the files kept.
    expect(all).toEqual(all.map((_, i) => (all[0] ?? 0) + i));
  });

  it('turns itself off after a failed write with one warning, and the taps go on without throwing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qcb-rec-'));
    const file = join(dir, 'wire.jsonl');
    // The rotation must remove wire.jsonl.1, which is a directory here: the write fails.
    mkdirSync(`${file}.1`);
    writeFileSync(join(`${file}.1`, 'keep'), 'x');
    const { lines, logger } = logSink();
    const d = new Diagnostics({
      players: ['p'],
      recording: { all: true, file, maxBytes: 65_536, files: 2 },
      redactor: new Redactor(),
      logger,
    });
    closers.push(() => d.stop());
    await d.start();
    expect(d.isRecording('p')).toBe(true);
    const tap = d.tapFor('p');
    const frame = new FrameWriter(() => 1).payload([message(41, { playing_state: 2 })]);
    for (let i = 0; i < 2000; i++) tap.qconnect('in', frame);
    await d.flush();
    expect(d.isRecording('p')).toBe(false);
    for (let i = 0; i < 100; i++) expect(() => tap.mpd({ command: 'play', args: [], ms: 1, ok: true })).not.toThrow();
    await d.flush();
    expect(lines.filter((l) => l.includes('wire recording failed'))).toHaveLength(1);
    // The rings keep working for the bundle.
    expect(d.recentFrames('p').length).toBeGreaterThan(0);
    expect(d.recentCalls('p')).toHaveLength(100);
  });

  it('refuses to start recording into a file it cannot open, with ERR_RECORDER, and changes nothing', async () => {
    const d = new Diagnostics({
      players: ['p'],
      recording: { all: false, file: join(tmpdir(), 'no-such-dir-qcb', 'x', 'wire.jsonl'), maxBytes: 65_536, files: 2 },
      redactor: new Redactor(),
      logger: logSink().logger,
    });
    closers.push(() => d.stop());
    const err = await d.setRecording('p', true).catch((e: unknown) => e);
    expect(isQcbError(err, 'ERR_RECORDER')).toBe(true);
    expect(d.isRecording('p')).toBe(false);
  });
});

describe('what a record may hold (issue #21 part 2)', () => {
  const redactor = new Redactor();
  redactor.registerSecret('app-secret-0123456789');
  const renderer = new WireRenderer(redactor);

  it('leaves out the raw bytes of an Authenticate frame and censors its JWT', () => {
    const bytes = new FrameWriter(() => 1).authenticate(JWT);
    const record = renderer.qconnect('p', 'out', bytes, 0);
    expect(record).toMatchObject({ raw: null, raw_omitted: 'secret', envelopes: ['AUTHENTICATE'], body: { authenticate: { jwt: '[redacted]' } } });
    expect(leaks(JSON.stringify(record), { jwt: [JWT] })).toEqual([]);
  });

  it('keeps the exact bytes of a frame without secrets, which decode back to the same body', () => {
    const bytes = new FrameWriter(() => 5).payload([message(41, { playing_state: 2, current_position: 1234 })]);
    const record = renderer.qconnect('p', 'in', bytes, 0);
    expect(record.types).toEqual([41]);
    expect(record.names).toEqual(['SrvrRndrSetState']);
    expect(Buffer.from(record.raw ?? '', 'base64')).toEqual(Buffer.from(bytes));
    expect(decodeFrameText(record.raw ?? '').json).toEqual(record.body);
  });

  it('censors a secret hidden in an unknown bytes field or a text, and then leaves the raw bytes out', () => {
    const body = qconnect.Payload.encode({ msg_id: 1, proto: 1 }).finish();
    const value = Buffer.from('app-secret-0123456789');
    const bytes = joinEnvelope(6, Buffer.concat([body, Buffer.from([...varintBytes((99 << 3) | 2), ...varintBytes(value.length)]), value]));
    const hidden = renderer.qconnect('p', 'in', bytes, 0);
    expect(hidden.raw).toBeNull();
    expect(JSON.stringify(hidden.body)).toContain('[redacted]');
    // Without the omission, the raw base64 would have carried the secret: the scan sees it there.
    expect(leaks(Buffer.from(bytes).toString('base64'), { secret: ['app-secret-0123456789'] })).not.toEqual([]);
    expect(leaks(JSON.stringify(hidden), { secret: ['app-secret-0123456789'] })).toEqual([]);

    const error = new FrameWriter(() => 1).payload([message(1, { code: 'X', message: `user a.b@example.org with ${JWT}` })]);
    expect(Buffer.from(error).toString('latin1')).toContain('a.b@example.org');
    const text = JSON.stringify(renderer.qconnect('p', 'in', error, 0));
    expect(text).not.toContain('a.b@example.org');
    expect(leaks(text, { jwt: [JWT] })).toEqual([]);
  });

  it('redacts stream tokens and passwords in MPD commands and keeps REST records to path, status and time', () => {
    const token = 'AbCdEfGhIjKlMnOpQrStUvWxYz012345';
    const add = renderer.mpd('p', { command: 'addid', args: [`http://10.0.0.2:8689/stream/p/${token}.flac`], ms: 2, ok: true }, 0);
    expect(add.args[0]).toMatch(/^http:\/\/10\.0\.0\.2:8689\/stream\/p\/.+\.flac$/);
    expect(JSON.stringify(add)).not.toContain(token);
    expect(renderer.mpd('p', { command: 'password', args: ['hunter2-hunter2'], ms: 1, ok: true }, 0).args).toEqual(['[redacted]']);
    const failed = renderer.mpd('p', { command: 'addid', args: [], ms: 1, ok: false, error: 'CURL failed https://cdn.example/file.flac?uid=42&hmac=abcdefabcdef' }, 0);
    expect(failed.error).toBe('CURL failed https://cdn.example/file.flac?[redacted]');
    const rest = renderer.rest('p', { method: 'GET', path: 'track/getFileUrl', status: 200, ms: 30, attempt: 1 }, 0);
    expect(Object.keys(rest).sort()).toEqual(['at', 'attempt', 'dir', 'kind', 'method', 'ms', 'path', 'player', 'status', 'v']);
  });

  it('finds a secret in base64 at every byte alignment, in hex, URL- and JSON-encoded (the scan itself)', () => {
    const secret = 'p@ss "word"/with+odd=chars&more';
    for (const pad of ['', 'x', 'xy', 'xyz']) {
      const haystack = Buffer.from(`${pad}${secret}tail`).toString('base64');
      expect(leaks(haystack, { s: [secret] })).not.toEqual([]);
      expect(leaks(Buffer.from(`${pad}${secret}tail`).toString('base64url'), { s: [secret] })).not.toEqual([]);
    }
    for (const form of [Buffer.from(secret).toString('hex'), encodeURIComponent(secret), JSON.stringify({ secret })])
      expect(leaks(`…${form}…`, { s: [secret] })).not.toEqual([]);
    expect(encodingsOf(secret).length).toBeGreaterThan(6);
  });
});

describe('decode --file (issue #21 part 2)', () => {
  it('prints an error for each line that is no record or whose bytes do not decode, the rest decoded, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qcb-dec-'));
    const file = join(dir, 'rec.jsonl');
    const good = new WireRenderer(new Redactor()).qconnect('p', 'in', new FrameWriter(() => 1).payload([message(43, { active: true })]), 0);
    const broken = { ...good, raw: Buffer.from([6, 0x7f, 1]).toString('base64') };
    writeFileSync(file, [JSON.stringify(good), 'not json', JSON.stringify({ v: 2 }), JSON.stringify(broken), ''].join('\n'));
    const out: string[] = [];
    const code = await decodeFileCommand(['--file', file], { out: (t) => void out.push(t), err: (t) => void out.push(t) });
    expect(code).toBe(1);
    const lines = out.map((l) => JSON.parse(l) as { error?: string; decoded?: { envelope?: string; error?: string } });
    expect(lines).toHaveLength(4);
    expect(lines[0]?.decoded?.envelope).toBe('PAYLOAD');
    expect(lines[1]?.error).toMatch(/rec\.jsonl:2: not JSON/);
    expect(lines[2]?.error).toMatch(/rec\.jsonl:3: not a recording line/);
    expect(lines[3]?.decoded?.error).toMatch(/ERR_FRAME_TRUNCATED/);
    expect(await decodeFileCommand(['--file'], { out: () => {}, err: () => {} })).toBe(2);
  });
});

describe('the diagnostics settings (issue #21 part 2)', () => {
  it('records nothing by default, and the diagnostics token is a secret', () => {
    const config = ConfigSchema.parse({ players: [{ id: 'p', name: 'P' }], diagnostics: { token: 'tok-0123456789' } });
    expect(config.diagnostics).toMatchObject({ record: false, record_files: 3, record_max_bytes: 10 * 1024 * 1024 });
    expect(configSecrets(config)).toContain('tok-0123456789');
  });

  it('takes {"record": true|false} on the set topic, alone', () => {
    expect(parseCommand('{"record":true,"id":"a"}')).toEqual({ ok: true, command: { record: true }, id: 'a' });
    expect(parseCommand('{"record":false}')).toEqual({ ok: true, command: { record: false } });
    expect(parseCommand('{"record":true,"volume":3}')).toMatchObject({ ok: false, error: expect.stringContaining('record goes alone') });
    expect(parseCommand('{"record":"on"}')).toMatchObject({ ok: false, error: 'record: must be true or false' });
  });
});

describe('GET /diagnostics (issue #21 part 2, README "Reporting a problem")', () => {
  /** The route behind a server that pretends each request comes from `remote`. */
  async function serve(remote: string, token: string | null): Promise<string> {
    const app = new Koa();
    const router = new Router();
    diagnosticsRoute(router, { bundle: async () => ({ ok: 1 }), token });
    app.use(async (ctx, next) => {
      Object.defineProperty(ctx.req.socket, 'remoteAddress', { value: remote, configurable: true });
      try {
        await next();
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        ctx.status = err.status;
        ctx.body = { success: false, error: err.message };
      }
    });
    app.use(router.routes());
    const server = createServer(app.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/diagnostics`;
  }

  it('answers this host, refuses others without a configured token, and takes the right token only', async () => {
    expect((await fetch(await serve('127.0.0.1', null))).status).toBe(200);
    expect((await fetch(await serve('::ffff:127.0.0.1', null))).status).toBe(200);
    expect((await fetch(await serve('::1', null))).status).toBe(200);
    const lan = await serve('192.168.1.20', null);
    expect((await fetch(lan, { headers: { Authorization: 'Bearer anything' } })).status).toBe(403);
    const guarded = await serve('192.168.1.20', 'tok-0123456789');
    expect((await fetch(guarded)).status).toBe(401);
    expect((await fetch(guarded, { headers: { Authorization: 'Bearer tok-012345678' } })).status).toBe(401);
    expect((await fetch(guarded, { headers: { Authorization: 'Bearer tok-01234567890' } })).status).toBe(401);
    const ok = await fetch(guarded, { headers: { Authorization: 'Bearer tok-0123456789' } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: 1 });
  });
});
