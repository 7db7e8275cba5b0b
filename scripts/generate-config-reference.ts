/**
 * Renders the README's configuration reference from config.schema.json (itself generated
 * from the zod schema: README.md "Configuration"; docs/conventions.md principle 10: generated,
 * never hand-written).
 * The table lives between the markers below in README.md;
 *   npx tsx scripts/generate-config-reference.ts           rewrites it
 *   npx tsx scripts/generate-config-reference.ts --check   exits 1 when it is stale
 * and test/readme-config-reference.test.ts fails while the committed README is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const README_FILE = fileURLToPath(new URL('../README.md', import.meta.url));
export const SCHEMA_FILE = fileURLToPath(new URL('../config.schema.json', import.meta.url));
export const START_MARKER = '<!-- config-reference:start -->';
export const END_MARKER = '<!-- config-reference:end -->';

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  required?: string[];
  minimum?: number;
  maximum?: number;
  minItems?: number;
  minLength?: number;
  pattern?: string;
  format?: string;
};

/**
 * Keys the schema does not describe yet; the schema's own description always wins, so these
 * disappear from use as soon as src/config/config-schema.ts describes the key.
 */
const FALLBACK_DESCRIPTIONS: Record<string, string> = {
  qobuz: 'Qobuz credentials, quality and session mode.',
  http: 'The one HTTP server of all players (Qobuz app calls, MPD stream redirects).',
  mdns: 'Announcing the players on the LAN.',
  mqtt: 'The MQTT broker and Home Assistant discovery.',
  players: 'The players: one Qobuz Connect device each, played by an MPD.',
  'mqtt.tls.ca': 'CA certificate file that signs the broker certificate.',
  'mqtt.tls.cert': 'Client certificate file (needs key).',
  'mqtt.tls.key': 'Client private key file (needs cert).',
  'mqtt.tls.reject_unauthorized': 'Refuse a broker whose certificate does not verify.',
  'players[].mpd.host': 'MPD host name or IP address.',
  'players[].mpd.port': 'MPD port.',
  'players[].volume.min': 'MPD volume at Qobuz volume 0.',
  'players[].volume.max': 'MPD volume at Qobuz volume 100 (above min).',
};

const code = (v: string) => `\`${v.replace(/\|/g, '\\|')}\``;
const FORMATS: Record<string, string> = { ipv4: 'IPv4 address', ipv6: 'IPv6 address', uri: 'URL' };

/** A short human type: `integer 0-65535`, `mp3 \| cd`, `string or null`, `IP address`. */
function typeText(s: JsonSchema): string {
  if (s.anyOf) {
    const isNull = (b: JsonSchema) => b.type === 'null';
    const parts = s.anyOf.filter((b) => !isNull(b)).map(typeText);
    const text = parts.join() === 'IPv4 address,IPv6 address' ? 'IP address' : parts.join(' or ');
    return s.anyOf.some(isNull) ? `${text} or null` : text;
  }
  if (s.const !== undefined) return code(JSON.stringify(s.const));
  if (s.enum) return s.enum.map((v) => code(String(v))).join(' \\| ');
  const types = ([] as string[]).concat(s.type ?? []);
  const base = types.filter((t) => t !== 'null');
  let text: string;
  if (base[0] === 'integer') {
    text =
      s.minimum !== undefined && s.maximum !== undefined ? `integer ${s.minimum}-${s.maximum}` : 'integer';
  } else if (base[0] === 'array') {
    text = `list of ${s.items ? typeText(s.items) : 'values'}${s.minItems ? ` (at least ${s.minItems})` : ''}`;
  } else if (base[0] === 'string' && s.format && FORMATS[s.format]) {
    text = FORMATS[s.format]!;
  } else if (base[0] === 'string' && s.pattern) {
    text = `string matching ${code(s.pattern)}`;
  } else if (base[0] === 'string' && s.minLength) {
    text = 'non-empty string';
  } else {
    text = base[0] ?? 'any';
  }
  return types.includes('null') ? `${text} or null` : text;
}

function defaultText(s: JsonSchema, required: boolean): string {
  if (required) return '**required**';
  if (s.default === undefined) return '';
  if (s.default === null) return '`null`';
  if (typeof s.default === 'object' && !Array.isArray(s.default)) return '';
  return code(typeof s.default === 'string' ? s.default : JSON.stringify(s.default));
}

/** The object schema inside `s` (directly, or the object branch of an `anyOf`), if any. */
function objectOf(s: JsonSchema): JsonSchema | undefined {
  if (s.properties) return s;
  return s.anyOf?.find((b) => b.properties);
}

interface Row {
  key: string;
  type: string;
  default: string;
  description: string;
}

function rows(s: JsonSchema, prefix: string, required: boolean): Row[] {
  const description = (s.description ?? FALLBACK_DESCRIPTIONS[prefix] ?? '').replace(/\|/g, '\\|');
  const object = objectOf(s);
  if (s.type === 'array' && s.items && objectOf(s.items)) {
    const head = {
      key: prefix,
      type: typeText({ ...s, items: { type: 'object' } }),
      default: defaultText(s, required),
      description,
    };
    return [head, ...rows(s.items, `${prefix}[]`, false).slice(1)];
  }
  if (!object) return [{ key: prefix, type: typeText(s), default: defaultText(s, required), description }];
  const own: Row[] =
    prefix === ''
      ? []
      : [
          {
            key: prefix,
            type: s.anyOf ? 'object or null' : 'object',
            default: defaultText(s, required),
            description,
          },
        ];
  const children = Object.entries(object.properties ?? {}).flatMap(([k, child]) =>
    rows(child, prefix === '' ? k : `${prefix}.${k}`, (object.required ?? []).includes(k)),
  );
  return [...own, ...children];
}

/** The Markdown table (with a generated-file note) that goes between the markers. */
export function renderConfigReference(schema: JsonSchema): string {
  const lines = [
    '<!-- Generated from config.schema.json by `npx tsx scripts/generate-config-reference.ts`; do not edit. -->',
    '',
    '| key | type | default | description |',
    '|---|---|---|---|',
    ...rows(schema, '', false).map((r) => `| ${code(r.key)} | ${r.type} | ${r.default} | ${r.description} |`),
  ];
  return `${lines.join('\n')}\n`;
}

/** README text with the block between the markers replaced by `block`. */
export function replaceReferenceBlock(readme: string, block: string): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start < 0 || end < start)
    throw new Error(`README.md needs ${START_MARKER} and ${END_MARKER}, in that order`);
  return `${readme.slice(0, start + START_MARKER.length)}\n${block}${readme.slice(end)}`;
}

/** The README as it should be, given the current schema file. */
export function expectedReadme(readme = readFileSync(README_FILE, 'utf8')): string {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as JsonSchema;
  return replaceReferenceBlock(readme, renderConfigReference(schema));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const current = readFileSync(README_FILE, 'utf8');
  const next = expectedReadme(current);
  if (process.argv.includes('--check')) {
    if (next !== current) {
      console.error(
        'README.md configuration reference is stale: run npx tsx scripts/generate-config-reference.ts',
      );
      process.exit(1);
    }
  } else {
    writeFileSync(README_FILE, next);
    console.log(`wrote the configuration reference into ${README_FILE}`);
  }
}
