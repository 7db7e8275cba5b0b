import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import type { FuzzRandom } from './fuzz-random.js';

/**
 * Broken configuration files for issues #7 and #8 ("100 broken config files"): wrong types,
 * unknown keys, out-of-range ports, bad ids, duplicate ids and uuids, bad enums, URLs and
 * addresses, YAML and JSON syntax errors, an empty file, a JSON array, binary garbage, huge
 * numbers, and files with several mistakes at once. Each names the paths (or, for text that
 * does not parse, the `file:line:col`) that loading it must report.
 */
export interface BrokenConfig {
  readonly name: string;
  readonly file: string;
  /** Issue prefixes that must be reported, e.g. `http.port: ` or `<file>:3:`. */
  readonly expect: string[];
}

type Settings = Record<string, unknown>;
type Mutation = { readonly path: string; readonly apply: (s: Settings) => void };

const UUID_A = '2f1a0c3e-8b7d-4c55-9e21-0a9b8c7d6e5f';

export function validSettings(): Settings {
  return {
    qobuz: { app_id: '123456789', app_secret: 'fuzz-secret', max_quality: 'cd' },
    http: { port: 0, bind: '127.0.0.1', advertise_address: '127.0.0.1' },
    mdns: { interfaces: ['lo'] },
    mqtt: { url: 'mqtt://127.0.0.1:1883', base_topic: 'qobuz-connect' },
    players: [
      { id: 'living_room', name: 'Living Room', mpd: { host: '127.0.0.1', port: 6600 } },
      { id: 'kitchen', name: 'Kitchen', uuid: UUID_A, mpd: { host: '127.0.0.1', port: 6601 }, volume: { min: 10, max: 80 } },
    ],
  };
}

/** Sets `value` at a path like `players[1].mpd.port` (creating objects on the way). */
function set(s: Settings, path: string, value: unknown): void {
  const keys = path.split(/\.|\[(\d+)\]/).filter((k) => k !== undefined && k !== '');
  let at: Record<string, unknown> = s;
  for (const k of keys.slice(0, -1)) {
    if (!Object.hasOwn(at, k)) at[k] = {};
    at = at[k] as Record<string, unknown>;
  }
  // defineProperty, so that `__proto__` becomes a key of the file rather than a prototype.
  Object.defineProperty(at, keys.at(-1) as string, { value, enumerable: true, writable: true, configurable: true });
}

const m = (path: string, value: unknown, reported = path): Mutation => ({ path: reported, apply: (s) => set(s, path, value) });

/** One mistake each; `path` is where it must be reported. */
const MUTATIONS: Mutation[] = [
  // wrong types
  m('http.port', 'eighty'),
  m('http.port', true),
  m('http.bind', 5),
  m('http.advertise_address', ['127.0.0.1']),
  m('mqtt.discovery', 'maybe'),
  m('mqtt.url', 1883),
  m('mqtt.base_topic', { a: 1 }),
  m('mdns.interfaces', 'eth0'),
  m('qobuz.app_id', ['1', '2']),
  m('qobuz.allowed_endpoint_hosts', '*.qobuz.com'),
  m('players[0].mpd.port', '6600x'),
  m('players[0].mpd', 'localhost:6600'),
  m('players[1].volume.min', 'low'),
  m('players[0].name', 42),
  m('players[1]', 'kitchen'),
  m('players', { living_room: {} }),
  m('http', 8689),
  // unknown keys
  m('qobuzz', {}),
  m('http.portt', 1),
  m('players[0].mdp', { port: 1 }),
  m('mqtt.tls', { ca: null, cert: null, key: null, reject_unauthorized: true, pinned: 'x' }, 'mqtt.tls.pinned'),
  m('players[1].volume.maximum', 90),
  m('__proto__', { admin: true }),
  m('players[0].constructor', 1),
  // out-of-range ports and numbers
  m('http.port', -1),
  m('http.port', 65536),
  m('http.port', 70000),
  m('http.port', 80.5),
  m('mqtt.embedded_port', 0),
  m('players[0].mpd.port', 0),
  m('players[1].mpd.port', 66000),
  m('players[1].volume.max', 101),
  m('players[1].volume.min', -5),
  m('players[1].volume.max', 5, 'players[1].volume.max'),
  m('http.port', 1e300),
  m('players[0].mpd.port', Number.MAX_SAFE_INTEGER * 4),
  // bad ids and uuids
  m('players[0].id', 'Living Room!'),
  m('players[0].id', ''),
  m('players[1].id', 'KITCHEN'),
  m('players[1].id', 'küche'),
  m('players[0].id', 7),
  m('players[1].uuid', 'not-a-uuid'),
  m('players[1].uuid', '2f1a0c3e8b7d4c559e210a9b8c7d6e5f'),
  m('players[1].id', 'living_room'),
  m('players[0].uuid', UUID_A, 'players[1].uuid'),
  // enums, URLs, addresses, topics
  m('qobuz.max_quality', 'lossless'),
  m('qobuz.join', 'both'),
  m('players[0].device_type', 'speakr'),
  m('qobuz.api_base_url', 'ftp://example.com/api'),
  m('qobuz.api_base_url', 'not a url'),
  m('mqtt.url', 'http://127.0.0.1:1883'),
  m('http.bind', '999.1.1.1'),
  m('http.advertise_address', 'eth0'),
  m('mqtt.base_topic', 'a/#/b'),
  m('mdns.interfaces', []),
  m('mqtt.tls', { cert: '/etc/cert.pem' }, 'mqtt.tls.key'),
  // required ones missing
  m('players', []),
  m('players[0].name', undefined),
  m('players[1].id', null),
];

/** Text that does not parse, or does not hold a mapping: the error is about the file itself. */
const TEXTS: Array<{ name: string; text: string | Buffer; expect: (file: string) => string[] }> = [
  { name: 'empty', text: '', expect: () => ['players: '] },
  { name: 'blank', text: '\n\n   \n', expect: () => ['players: '] },
  { name: 'comment-only', text: '# nothing here\n', expect: () => ['players: '] },
  { name: 'json-array', text: '[{"id": "living_room", "name": "x"}]', expect: (f) => [`${f}: expected a mapping`] },
  { name: 'yaml-list', text: '- qobuz\n- http\n', expect: (f) => [`${f}: expected a mapping`] },
  { name: 'scalar', text: 'players', expect: (f) => [`${f}: expected a mapping`] },
  { name: 'number', text: '1e999', expect: (f) => [`${f}: expected a mapping`] },
  { name: 'binary', text: Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0x9f, 0x0a, 0x7b, 0xc3, 0x28]), expect: (f) => [`${f}`] },
  { name: 'unclosed-flow', text: 'players: [{id: a, name: A}\n', expect: (f) => [`${f}:`] },
  { name: 'bad-indent', text: 'http:\n  port: 1\n bind: x\nplayers: []\n', expect: (f) => [`${f}:3:`] },
  { name: 'tabs', text: 'players:\n\t- id: a\n', expect: (f) => [`${f}:2:`] },
  { name: 'duplicate-key', text: 'http:\n  port: 1\n  port: 2\nplayers: []\n', expect: (f) => [`${f}:3:`] },
  { name: 'unterminated-quote', text: 'qobuz:\n  app_id: "123\nplayers: []\n', expect: (f) => [`${f}:`] },
  // A single trailing comma is valid YAML flow syntax (JSON is read as YAML), so two.
  { name: 'json-double-comma', text: '{"players": [{"id": "a", "name": "A"},,]}', expect: (f) => [`${f}:1:`] },
  { name: 'json-missing-brace', text: '{"players": [{"id": "a", "name": "A"}]', expect: (f) => [`${f}:1:`] },
  { name: 'nul-byte', text: 'players:\n  - id: a\n    name: A\n\u0000', expect: (f) => [`${f}:4:`] },
  { name: 'huge-int', text: 'http:\n  port: 123456789012345678901234567890\nplayers:\n  - {id: a, name: A}\n', expect: () => ['http.port: '] },
  { name: 'huge-float', text: 'http:\n  port: 1e400\nplayers:\n  - {id: a, name: A}\n', expect: () => ['http.port: '] },
  { name: 'nan', text: 'players:\n  - {id: a, name: A, mpd: {port: .nan}}\n', expect: () => ['players[0].mpd.port: '] },
  { name: 'negative-inf', text: 'players:\n  - {id: a, name: A, volume: {min: -.inf}}\n', expect: () => ['players[0].volume.min: '] },
  { name: 'yaml-tag', text: 'http:\n  port: !!js/function "return 1"\nplayers:\n  - {id: a, name: A}\n', expect: () => ['http.port: '] },
  { name: 'merge-key', text: 'base: &b {port: 1}\nhttp:\n  <<: *b\nplayers:\n  - {id: a, name: A}\n', expect: () => ['base: '] },
  { name: 'deep-nesting', text: `players: ${'['.repeat(3000)}${']'.repeat(3000)}\n`, expect: (f) => [`${f}:1:`] },
];

function serialize(settings: Settings, asJson: boolean): string {
  return asJson ? JSON.stringify(settings, null, 2) : YAML.stringify(settings);
}

/**
 * `count` broken files in `dir`: every fixed text, every single mutation (YAML or JSON by turn),
 * then random sets of two to five mutations on distinct paths until `count` is reached.
 */
export function brokenConfigs(r: FuzzRandom, dir: string, count: number): BrokenConfig[] {
  const out: BrokenConfig[] = [];
  const write = (name: string, text: string | Buffer, expect: (file: string) => string[]) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    out.push({ name, file, expect: expect(file) });
  };
  for (const t of TEXTS) write(`${t.name}.${t.name.startsWith('json') ? 'json' : 'yaml'}`, t.text, t.expect);
  for (const [i, mu] of MUTATIONS.entries()) {
    const s = validSettings();
    mu.apply(s);
    const asJson = i % 2 === 1;
    write(`single-${i}.${asJson ? 'json' : 'yaml'}`, serialize(s, asJson), () => [`${mu.path}: `]);
  }
  for (let i = 0; out.length < count; i++) {
    const s = validSettings();
    const chosen = new Map<string, Mutation>();
    const n = 2 + r.int(4);
    while (chosen.size < n) {
      const mu = r.pick(MUTATIONS);
      // Mutations that replace a parent would hide the others: keep to distinct, unrelated paths.
      const related = [...chosen.keys()].some((p) => p.startsWith(mu.path) || mu.path.startsWith(p) || p.split(/[.[]/)[0] === mu.path.split(/[.[]/)[0]);
      if (!related) chosen.set(mu.path, mu);
    }
    for (const mu of chosen.values()) mu.apply(s);
    const asJson = r.chance(0.5);
    write(`multi-${i}.${asJson ? 'json' : 'yaml'}`, serialize(s, asJson), () => [...chosen.keys()].map((p) => `${p}: `));
  }
  return out;
}
