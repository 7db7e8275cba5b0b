import { randomUUID } from 'node:crypto';
import { request, type Agent } from 'node:http';
import type { FuzzRandom } from './fuzz-random.js';

/**
 * Malformed HTTP requests for issue #8 ("1 000 malformed HTTP requests"), each with the status
 * docs/protocol.md §2 documents for it: bad JSON, wrong types and missing fields 400, bodies over 64 KiB
 * 413 (declared or chunked), wrong methods 405, unknown uuids 404, malformed uuids 400, endpoints
 * outside `allowed_endpoint_hosts` 403, and anything under `/stream/` that is not a current
 * queue item (traversal, encodings, double slashes, overlong tokens, unknown players) 404.
 * Paths go out byte for byte (node:http, not fetch: WHATWG URLs would resolve `..` first).
 * No request here may make the bridge connect anywhere.
 */
export type RequestCategory =
  | 'bad-json'
  | 'wrong-types'
  | 'missing-fields'
  | 'huge-body'
  | 'chunked-huge-body'
  | 'wrong-method'
  | 'unknown-uuid'
  | 'malformed-uuid'
  | 'foreign-endpoint'
  | 'stream-path';

export interface BadRequest {
  readonly category: RequestCategory;
  readonly method: string;
  readonly path: string;
  /** A body sent with Content-Length, or `chunkedBytes` sent chunked with none. */
  readonly body?: Buffer;
  readonly chunkedBytes?: number;
  readonly expectStatus: number;
}

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

export interface Target {
  readonly uuid: string;
  readonly playerId: string;
}

const HOUR = () => Math.floor(Date.now() / 1000) + 3600;

/** A connect body that would be accepted, with `edit` applied (never a loopback ws/wss endpoint). */
function body(edit: (b: Record<string, unknown>) => void): Buffer {
  const b: Record<string, unknown> = {
    session_id: randomUUID(),
    jwt_qconnect: { jwt: 'eyJfuzz.jwt.sig', exp: HOUR(), endpoint: 'wss://qws.evil.example/ws' },
    jwt_api: { jwt: 'eyJfuzz.api.sig', exp: HOUR(), endpoint: 'https://www.qobuz.com/api.json/0.2' },
  };
  edit(b);
  return Buffer.from(JSON.stringify(b));
}

const BAD_JSON = ['{', '}', '{"session_id":', "{'a': 1}", '{"a":1,}', 'nul', 'undefined', '[1,2', '{"a":"\\u12"}', '\u0000\u0001\u0002', '{"a": NaN}', '   ', '', '<xml/>', 'session_id=abc&x=1', '{"a":1}{"b":2}'];
/** Values each known field must refuse (zod schema of connect-body.ts, docs/protocol.md §2: 400). */
const WRONG_VALUES: Record<string, unknown[]> = {
  '': [5, -1, true, null, 'x', '', [], [1], {}],
  session_id: [5, true, null, 'x', '', [], {}, 'not-a-uuid', '1234567812345678123456781234567g'],
  jwt_qconnect: [5, 'x', null, [], true, {}],
  jwt_api: [5, 'x', null, [], true, {}],
  'jwt_qconnect.jwt': [5, '', null, [], {}, true],
  'jwt_qconnect.exp': [-1, 0, 'x', '3600', true, null, [], {}],
  'jwt_qconnect.endpoint': [5, null, 'x', '', [], 'not a url', {}],
  'jwt_api.jwt': [5, '', null, [], {}, false],
  'jwt_api.exp': [-5, 0, 'soon', false, null, []],
  'jwt_api.endpoint': [5, 'x', [], {}, true],
  become_active: ['yes', 1, 0, null, [], {}],
};
const REQUIRED = ['session_id', 'jwt_qconnect', 'jwt_api', 'jwt_qconnect.jwt', 'jwt_qconnect.exp', 'jwt_qconnect.endpoint', 'jwt_api.jwt', 'jwt_api.exp'];
const ENDPOINTS = [
  'wss://qws.evil.example/ws',
  'wss://qobuz.com.evil.example/ws',
  'wss://127.0.0.1.evil.example/ws',
  'wss://127.0.0.1@evil.example/ws',
  'wss://evil.example#@127.0.0.1/ws',
  'ws://localhost:9/ws',
  'ws://10.0.0.1/ws',
  'http://127.0.0.1:9/ws',
  'https://127.0.0.1/ws',
  'ftp://127.0.0.1/ws',
  'file:///etc/passwd',
  'wss://[::2]/ws',
  'wss://qobuz.com/ws',
];
const MALFORMED_UUIDS = ['not-a-uuid', '1234', '00000000000000000000000000000000', '0000000-0000-0000-0000-000000000000', 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz', '%00', '%E0%A4%A', '..', '%2e%2e', 'a'.repeat(300), '{uuid}', '00000000-0000-0000-0000-0000000000000'];

function setPath(b: Record<string, unknown>, path: string, value: unknown): void {
  const [head, tail] = path.split('.') as [string, string | undefined];
  if (tail === undefined) b[head] = value;
  else (b[head] as Record<string, unknown>)[tail] = value;
}

function deletePath(b: Record<string, unknown>, path: string): void {
  const [head, tail] = path.split('.') as [string, string | undefined];
  if (tail === undefined) delete b[head];
  else delete (b[head] as Record<string, unknown>)[tail];
}

function streamPath(r: FuzzRandom, t: Target): string {
  const token = randomUUID().replace(/-/g, '');
  const p = t.playerId;
  return r.pick([
    `/stream/${p}/../../etc/passwd`,
    `/stream/${p}/..%2f..%2fetc%2fpasswd`,
    `/stream/${p}/%2e%2e%2f%2e%2e%2fetc%2fpasswd`,
    `/stream/%2e%2e/${token}.flac`,
    `/stream/..%2f${p}/${token}.flac`,
    `/stream/${p}/%2e%2e`,
    `/stream/${p}/..`,
    `/stream//${p}/${token}.flac`,
    `/stream/${p}//${token}.flac`,
    `//stream/${p}/${token}.flac`,
    `/stream/${p}/${token}.flac/extra`,
    `/stream/${p}/${'A'.repeat(129 + r.int(4000))}.flac`,
    `/stream/${p}/${token}.wav`,
    `/stream/${p}/${token}.flac.flac`,
    `/stream/${p}/${token}%00.flac`,
    `/stream/${p}/${token}%2f.flac`,
    `/stream/${p}/${token}.flac`,
    `/stream/${p}/${token}`,
    `/stream/${p}`,
    `/stream/`,
    `/stream/no_such_player/${token}.flac`,
    `/stream/${p.toUpperCase()}/${token}.flac`,
    `/stream/%6c%69ving_room/${token}.flac`,
    `/stream/${p}/%ZZ`,
    `/stream/${p}/${encodeURIComponent('täst')}.flac`,
    `/stream/${p}/${token}?../../etc/passwd`,
  ]);
}

function one(r: FuzzRandom, category: RequestCategory, t: Target): BadRequest {
  const connect = `/devices/${t.uuid}/connect-to-qconnect`;
  switch (category) {
    case 'bad-json':
      return { category, method: 'POST', path: connect, body: Buffer.from(r.chance(0.8) ? r.pick(BAD_JSON) : r.text(1 + r.int(200))), expectStatus: 400 };
    case 'wrong-types': {
      const field = r.pick(Object.keys(WRONG_VALUES));
      const value = r.pick(WRONG_VALUES[field] ?? []);
      const raw = field === '' ? Buffer.from(JSON.stringify(value)) : body((b) => setPath(b, field, value));
      return { category, method: 'POST', path: connect, body: raw, expectStatus: 400 };
    }
    case 'missing-fields': {
      const field = r.pick(REQUIRED);
      return { category, method: 'POST', path: connect, body: body((b) => deletePath(b, field)), expectStatus: 400 };
    }
    case 'huge-body': {
      const size = 64 * 1024 + 1 + r.int(200 * 1024);
      return { category, method: 'POST', path: connect, body: body((b) => (b.padding = 'x'.repeat(size))), expectStatus: 413 };
    }
    case 'chunked-huge-body':
      return { category, method: 'POST', path: connect, chunkedBytes: 70 * 1024 + r.int(1024 * 1024), expectStatus: 413 };
    case 'wrong-method': {
      const [method, path] = r.pick([
        ['GET', connect],
        ['PUT', connect],
        ['DELETE', connect],
        ['PATCH', connect],
        ['POST', `/devices/${t.uuid}/get-display-info`],
        ['PUT', `/devices/${t.uuid}/get-connect-info`],
        ['DELETE', `/devices/${t.uuid}/get-connect-info`],
        ['POST', `/stream/${t.playerId}/abc.flac`],
        ['PUT', '/healthz'],
        ['POST', '/metrics'],
      ] as const);
      return { category, method, path, expectStatus: 405 };
    }
    case 'unknown-uuid': {
      const other = randomUUID();
      const path = r.pick([`/devices/${other}/get-display-info`, `/devices/${other}/get-connect-info`, `/devices/${other}/connect-to-qconnect`]);
      return { category, method: path.endsWith('qconnect') ? 'POST' : 'GET', path, body: path.endsWith('qconnect') ? body(() => {}) : undefined, expectStatus: 404 };
    }
    case 'malformed-uuid': {
      const u = r.pick(MALFORMED_UUIDS);
      const route = r.pick(['get-display-info', 'get-connect-info', 'connect-to-qconnect']);
      const post = route === 'connect-to-qconnect';
      return { category, method: post ? 'POST' : 'GET', path: `/devices/${u}/${route}`, body: post ? body(() => {}) : undefined, expectStatus: 400 };
    }
    case 'foreign-endpoint': {
      const endpoint = r.pick(ENDPOINTS);
      return { category, method: 'POST', path: connect, body: body((b) => setPath(b, 'jwt_qconnect.endpoint', endpoint)), expectStatus: 403 };
    }
    case 'stream-path':
      return { category, method: 'GET', path: streamPath(r, t), expectStatus: 404 };
  }
}

const CATEGORIES: RequestCategory[] = ['bad-json', 'wrong-types', 'missing-fields', 'huge-body', 'chunked-huge-body', 'wrong-method', 'unknown-uuid', 'malformed-uuid', 'foreign-endpoint', 'stream-path'];

export function* malformedRequests(r: FuzzRandom, count: number, target: Target): Generator<BadRequest> {
  for (let i = 0; i < count; i++) yield one(r, CATEGORIES[i % CATEGORIES.length] as RequestCategory, target);
}

/** Sends one request; a chunked body is streamed in 16 KiB pieces until the server answers or it is all out. */
export function send(port: number, agent: Agent, req: BadRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const headers: Record<string, string | number> = { 'content-type': 'application/json' };
    if (req.body) headers['content-length'] = req.body.length;
    const r = request({ host: '127.0.0.1', port, method: req.method, path: req.path, agent, headers }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    // The server may close after a 413 while we are still writing: only an error before any answer counts.
    r.on('error', (err) => {
      if (!answered) reject(err);
    });
    if (req.chunkedBytes === undefined) {
      r.end(req.body);
      return;
    }
    const piece = Buffer.alloc(16 * 1024, 0x20);
    let left = req.chunkedBytes;
    r.write('{"padding": "');
    const pump = (): void => {
      while (left > 0 && !answered && !r.destroyed) {
        const n = Math.min(piece.length, left);
        left -= n;
        if (!r.write(piece.subarray(0, n))) {
          r.once('drain', pump);
          return;
        }
      }
      if (!r.destroyed) r.end('"}');
    };
    pump();
  });
}
