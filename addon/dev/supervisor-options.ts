/**
 * A TypeScript port of how the Home Assistant Supervisor validates add-on options against
 * the `schema` of config.yaml (supervisor/addons/options.py, AddonOptions), for the tests:
 * they check that the add-on's schema accepts and rejects what the bridge's zod schema does.
 *
 * Mirrored behaviour: unknown keys are dropped (the Supervisor only warns); a missing key is
 * an error unless its type ends in `?` (for a list: its element's type); a dict is never
 * optional; `null` is an error even for optional types; `int`/`port` coerce like Python's
 * int(); `match(re)` is Python's re.match (anchored at the start only); `list(a|b)` compares
 * str(value). The result is the coerced options, which is what lands in /data/options.json.
 */

/** The Supervisor's RE_SCHEMA_ELEMENT: every valid scalar type, optionally followed by `?`. */
export const SCHEMA_ELEMENT = new RegExp(
  '^(?:' +
    '|bool|email|url|port' +
    '|device(?:\\((?<filter>subsystem=[a-z]+)\\))?' +
    '|str(?:\\((?<s_min>\\d+)?,(?<s_max>\\d+)?\\))?' +
    '|password(?:\\((?<p_min>\\d+)?,(?<p_max>\\d+)?\\))?' +
    '|int(?:\\((?<i_min>\\d+)?,(?<i_max>\\d+)?\\))?' +
    '|float(?:\\((?<f_min>[\\d.]+)?,(?<f_max>[\\d.]+)?\\))?' +
    '|match\\((?<match>.*)\\)' +
    '|list\\((?<list>.+)\\)' +
    ')\\??$',
);

export type SchemaNode = string | SchemaNode[] | { [key: string]: SchemaNode };

export type OptionsResult = { ok: true; value: unknown } | { ok: false; errors: string[] };

class OptionError extends Error {}

/** Python's int(): integers, integral strings, booleans; floats are truncated. */
function coerceInt(value: unknown, key: string): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
  throw new OptionError(`${key}: expected an integer`);
}

/** voluptuous Boolean(). */
function coerceBool(value: unknown, key: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') {
    const v = value.toLowerCase();
    if (['1', 'true', 'yes', 'on', 'enable'].includes(v)) return true;
    if (['0', 'false', 'no', 'off', 'disable'].includes(v)) return false;
  }
  throw new OptionError(`${key}: expected a boolean`);
}

function inRange(n: number, min: string | undefined, max: string | undefined, key: string): number {
  if ((min !== undefined && n < Number(min)) || (max !== undefined && n > Number(max)))
    throw new OptionError(`${key}: ${n} is out of range`);
  return n;
}

function single(type: string, value: unknown, key: string): unknown {
  if (value === null || value === undefined) throw new OptionError(`${key}: missing required option`);
  const m = SCHEMA_ELEMENT.exec(type);
  if (!m) throw new OptionError(`${key}: unknown type '${type}'`);
  const g = m.groups ?? {};
  if (type.startsWith('str') || type.startsWith('password')) {
    // vol.All(str(value), …) is a literal comparison: only strings pass.
    if (typeof value !== 'string') throw new OptionError(`${key}: expected a string`);
    return value;
  }
  if (type.startsWith('int')) return inRange(coerceInt(value, key), g.i_min, g.i_max, key);
  if (type.startsWith('port')) return inRange(coerceInt(value, key), '1', '65535', key);
  if (type.startsWith('bool')) return coerceBool(value, key);
  if (type.startsWith('match')) {
    const text = String(value);
    if (!new RegExp(`^(?:${g.match})`).test(text)) throw new OptionError(`${key}: does not match ${g.match}`);
    return text;
  }
  if (type.startsWith('list')) {
    const text = String(value);
    if (!(g.list ?? '').split('|').includes(text)) throw new OptionError(`${key}: not one of ${g.list}`);
    return text;
  }
  throw new OptionError(`${key}: type '${type}' is not supported by this port`);
}

function optionalType(node: SchemaNode): boolean {
  const element = Array.isArray(node) ? node[0] : node;
  return typeof element === 'string' && element.endsWith('?');
}

function element(node: SchemaNode, value: unknown, key: string): unknown {
  if (Array.isArray(node)) {
    if (!Array.isArray(value)) throw new OptionError(`${key}: invalid list`);
    return value.map((v: unknown, i) => element(node[0] as SchemaNode, v, `${key}[${i}]`));
  }
  if (typeof node === 'object') {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new OptionError(`${key}: invalid dict`);
    return dict(node, value as Record<string, unknown>, key);
  }
  return single(node, value, key);
}

function dict(schema: { [key: string]: SchemaNode }, data: Record<string, unknown>, where: string) {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    const node = schema[k];
    if (node === undefined) continue; // the Supervisor logs a warning and drops the key
    out[k] = element(node, v, where === '' ? k : `${where}.${k}`);
  }
  for (const [k, node] of Object.entries(schema)) {
    if (!(k in out) && !optionalType(node))
      throw new OptionError(`${where === '' ? k : `${where}.${k}`}: missing option`);
  }
  return out;
}

/** Validates add-on options like the Supervisor; the first error ends it, as there. */
export function validateAddonOptions(schema: { [key: string]: SchemaNode }, options: unknown): OptionsResult {
  try {
    if (options === null || typeof options !== 'object' || Array.isArray(options))
      return { ok: false, errors: ['options: expected a dict'] };
    return { ok: true, value: dict(schema, options as Record<string, unknown>, '') };
  } catch (err) {
    if (err instanceof OptionError) return { ok: false, errors: [err.message] };
    throw err;
  }
}
