import type { FuzzRandom } from './fuzz-random.js';

/**
 * Malformed `B/<player>/set` commands for issue #8 ("1 000 malformed MQTT commands"): bad JSON,
 * unknown actions, out-of-range volume and seek, wrong types, unknown keys (alone and next to a
 * valid key, which must then not apply either), empty, binary, 1 MiB, deeply nested and
 * prototype-polluting payloads. Each carries the error README.md "MQTT topics" makes us expect on
 * `B/<player>/set/result`: `{"ok": false, "error": …}` naming what is wrong.
 */
export type CommandCategory =
  | 'bad-json'
  | 'unknown-action'
  | 'volume-range'
  | 'seek-range'
  | 'wrong-type'
  | 'unknown-key'
  | 'not-an-object'
  | 'binary'
  | 'huge'
  | 'deep'
  | 'prototype';

export interface BadCommand {
  readonly category: CommandCategory;
  readonly payload: Buffer;
  /** What the error text must say. */
  readonly error: RegExp;
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const raw = (s: string) => Buffer.from(s);

function deep(r: FuzzRandom): Buffer {
  const depth = 1000 + r.int(20_000);
  const shape = r.int(3);
  if (shape === 0) return raw(`${'['.repeat(depth)}${']'.repeat(depth)}`);
  if (shape === 1) return raw(`{"volume":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`);
  return raw(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
}

function one(r: FuzzRandom, category: CommandCategory): BadCommand {
  switch (category) {
    case 'bad-json':
      return { category, payload: raw(r.pick(['{', '{"action":', "{'action':'play'}", '{"volume":40,}', 'play', 'pause', '{"volume": NaN}', '{"volume": Infinity}', '{"a":1}{"b":2}', '{"volume":0x10}', '{"action":"play"'])), error: /not valid JSON/ };
    case 'unknown-action':
      return { category, payload: json({ action: r.pick(['dance', 'PLAY', 'Pause', '', ' play', 'play ', 'seek', 'volume_up', 'shutdown', 'rm -rf /']) }), error: /^action: must be one of/ };
    case 'volume-range':
      return { category, payload: json({ volume: r.pick([-1, -0.5, 100.5, 101, 150, 1e9, -1e9, 1e308]) }), error: /^volume: must be 0-100/ };
    case 'seek-range':
      return { category, payload: json({ seek_ms: r.pick([-1, -60_000, 24 * 3600 * 1000 + 1, 1e15, 1e308, 1.5, 999.999]) }), error: /^seek_ms: must be/ };
    case 'wrong-type': {
      const [key, value] = r.pick([
        ['volume', '40'],
        ['volume', true],
        ['volume', null],
        ['volume', [40]],
        ['volume', { value: 40 }],
        ['seek_ms', '60000'],
        ['seek_ms', false],
        ['muted', 'true'],
        ['muted', 1],
        ['muted', null],
        ['shuffle', 'yes'],
        ['shuffle', 0],
        ['repeat', true],
        ['repeat', 'ALL'],
        ['repeat', 2],
        ['action', 1],
        ['action', ['play']],
        ['action', null],
      ] as Array<[string, unknown]>);
      return { category, payload: json({ [key]: value }), error: new RegExp(`^${key}: must`) };
    }
    case 'unknown-key': {
      // With a valid key beside it: the whole command is refused, the valid part included.
      const valid = r.pick<Record<string, unknown>>([{}, { action: 'pause' }, { volume: 5 }, { muted: true }, { repeat: 'one' }, { seek_ms: 0 }, { action: 'next' }]);
      // Not `id`: a command may carry one to be echoed in its answer (README "MQTT topics").
      const key = r.pick(['Volume', 'vol', 'position', 'play', 'state', 'ID', 'toString', 'hasOwnProperty', 'x'.repeat(200)]);
      return { category, payload: json({ ...valid, [key]: r.pick([1, 'a', true, null]) }), error: /unknown keys? \(by position: #\d+(, #\d+)*\)/ };
    }
    case 'not-an-object': {
      const [text, error] = r.pick<[string, RegExp]>([
        ['', /not valid JSON/],
        ['   ', /not valid JSON/],
        ['{}', /^empty command/],
        ['[]', /must be a JSON object/],
        ['[{"action":"pause"}]', /must be a JSON object/],
        ['null', /must be a JSON object/],
        ['"pause"', /must be a JSON object/],
        ['42', /must be a JSON object/],
        ['true', /must be a JSON object/],
      ]);
      return { category, payload: raw(text), error };
    }
    case 'binary': {
      const bytes = Buffer.from(r.bytes(1 + r.int(512)));
      bytes[0] = 0x80 + r.int(0x80); // never starts valid JSON
      return { category, payload: bytes, error: /not valid JSON/ };
    }
    case 'huge': {
      const size = 1024 * 1024 + r.int(1024);
      const payload = r.chance(0.5) ? json({ action: 'pause', padding: 'x'.repeat(size) }) : Buffer.alloc(size, 0x7b);
      return { category, payload, error: /^payload too large: \d+ bytes \(max 65536\)/ };
    }
    case 'deep': {
      const payload = deep(r);
      // Past 64 KiB the size check answers first; below it the structure is refused.
      const error = payload.length > 64 * 1024 ? /^payload too large/ : /must be a JSON object|unknown keys? \(by position|^volume: must be/;
      return { category, payload, error };
    }
    case 'prototype': {
      const text = r.pick([
        '{"__proto__": {"action": "pause"}}',
        '{"__proto__": {"volume": 3}}',
        '{"constructor": {"prototype": {"volume": 3}}}',
        '{"action": "pause", "__proto__": {"polluted": true}}',
        '{"__proto__": null}',
        '{"prototype": {"muted": true}}',
      ]);
      return { category, payload: raw(text), error: /unknown keys? \(by position: #\d+/ };
    }
  }
}

const CATEGORIES: CommandCategory[] = ['bad-json', 'unknown-action', 'volume-range', 'seek-range', 'wrong-type', 'unknown-key', 'not-an-object', 'binary', 'huge', 'deep', 'prototype'];

export function* malformedCommands(r: FuzzRandom, count: number): Generator<BadCommand> {
  for (let i = 0; i < count; i++) yield one(r, CATEGORIES[i % CATEGORIES.length] as CommandCategory);
}
