import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { generateConfigSchema, SCHEMA_FILE } from '../scripts/generate-schema.js';

/**
 * config.schema.json is generated from the zod schema (README.md "Configuration");
 * editors validate config files with it, so it must be fresh and must accept what
 * the bridge accepts. The validator below covers exactly the JSON Schema keywords
 * the generator emits, and fails on any keyword it does not know.
 */

type JsonSchema = Record<string, unknown>;
const KNOWN = new Set([
  '$schema',
  '$comment',
  'title',
  'description',
  'default',
  'type',
  'enum',
  'const',
  'anyOf',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minItems',
  'minimum',
  'maximum',
  'minLength',
  'pattern',
  'format',
]);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Problems of `value` against `schema`, as `path: keyword` strings. */
function validate(schema: JsonSchema, value: unknown, path = '$'): string[] {
  for (const key of Object.keys(schema))
    if (!KNOWN.has(key)) return [`${path}: the test does not know keyword ${key}`];
  if (Array.isArray(schema['anyOf'])) {
    const options = schema['anyOf'] as JsonSchema[];
    return options.some((o) => validate(o, value, path).length === 0) ? [] : [`${path}: anyOf`];
  }
  const problems: string[] = [];
  const types = schema['type'] === undefined ? [] : ([] as unknown[]).concat(schema['type']);
  const t = typeOf(value);
  if (types.length > 0 && !types.includes(t) && !(t === 'integer' && types.includes('number')))
    return [`${path}: type`];
  if (Array.isArray(schema['enum']) && !schema['enum'].includes(value)) problems.push(`${path}: enum`);
  if ('const' in schema && schema['const'] !== value) problems.push(`${path}: const`);
  if (typeof value === 'number') {
    if (typeof schema['minimum'] === 'number' && value < schema['minimum']) problems.push(`${path}: minimum`);
    if (typeof schema['maximum'] === 'number' && value > schema['maximum']) problems.push(`${path}: maximum`);
  }
  if (typeof value === 'string') {
    if (typeof schema['pattern'] === 'string' && !new RegExp(schema['pattern']).test(value))
      problems.push(`${path}: pattern`);
    if (typeof schema['minLength'] === 'number' && value.length < schema['minLength'])
      problems.push(`${path}: minLength`);
  }
  if (Array.isArray(value)) {
    if (typeof schema['minItems'] === 'number' && value.length < schema['minItems'])
      problems.push(`${path}: minItems`);
    if (schema['items'])
      value.forEach((v, i) => problems.push(...validate(schema['items'] as JsonSchema, v, `${path}[${i}]`)));
  }
  if (t === 'object') {
    const record = value as Record<string, unknown>;
    const properties = (schema['properties'] ?? {}) as Record<string, JsonSchema>;
    for (const key of (schema['required'] ?? []) as string[])
      if (!(key in record)) problems.push(`${path}.${key}: required`);
    for (const [key, v] of Object.entries(record)) {
      if (properties[key]) problems.push(...validate(properties[key], v, `${path}.${key}`));
      else if (schema['additionalProperties'] === false)
        problems.push(`${path}.${key}: additionalProperties`);
    }
  }
  return problems;
}

const committed = () => JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as JsonSchema;
const example = () =>
  YAML.parse(readFileSync(new URL('../config.example.yaml', import.meta.url), 'utf8')) as unknown;

describe('config.schema.json', () => {
  it('equals a fresh generation from the zod schema', () => {
    const stale = readFileSync(SCHEMA_FILE, 'utf8') !== generateConfigSchema();
    expect(stale, 'config.schema.json is stale: run `npm run schema` and commit the result').toBe(false);
  });

  it('names itself and its dialect', () => {
    const schema = committed();
    expect(schema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema['title']).toBe('qobuz-connect-bridge configuration');
    expect(typeof schema['description']).toBe('string');
  });

  it('accepts config.example.yaml and a minimal config with every default left out', () => {
    expect(validate(committed(), example())).toEqual([]);
    expect(validate(committed(), { players: [{ id: 'a', name: 'A' }] })).toEqual([]);
  });

  it('rejects what the bridge rejects: unknown keys, bad enums, out-of-range ports, bad ids, no players', () => {
    const bad = {
      http: { port: 70000 },
      mqtt: { base_topik: 'x' },
      players: [{ id: 'Kitchen!', name: 'K', device_type: 'speakr', mpd: { port: 66000 } }],
    };
    expect(validate(committed(), bad).sort()).toEqual(
      [
        '$.http.port: maximum',
        '$.mqtt.base_topik: additionalProperties',
        '$.players[0].id: pattern',
        '$.players[0].device_type: enum',
        '$.players[0].mpd.port: maximum',
      ].sort(),
    );
    expect(validate(committed(), {})).toEqual(['$.players: required']);
    expect(validate(committed(), { players: [] })).toEqual(['$.players: minItems']);
  });
});
