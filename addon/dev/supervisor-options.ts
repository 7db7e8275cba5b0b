/**
 * A TypeScript port of how the Home Assistant Supervisor turns an add-on's stored options
 * into /data/options.json, for the tests: they check that the add-on's schema accepts and
 * rejects what the bridge's zod schema does, and what the UI editor sends.
 *
 * Ported from supervisor/apps/options.py (AppOptions) and supervisor/apps/app.py (`options`:
 * the manifest's defaults deep-merged with the user's options: dicts merge key by key, a list
 * or a scalar from the user replaces the default). Mirrored behaviour:
 * - unknown keys are dropped (the Supervisor only logs a warning);
 * - a missing key is an error unless its type ends in `?` (for a list: its element's type);
 *   a dict, and a list of dicts, is never optional: "Missing option 'mpd' in players";
 * - `null` is an error even for an optional type: "Missing required option 'x'";
 * - `!secret name` is looked up in Home Assistant's secrets.yaml (here: `secrets`);
 * - `str`/`password` take only strings, with `(min,max)` as a length in characters;
 * - `int`/`port` coerce like Python's int() (`"8700"` → 8700, 7.9 → 7, true → 1; `port` is
 *   1-65535), `float` like float(), both with `(min,max)` as an inclusive range;
 * - `bool` is voluptuous' Boolean(): yes/no/on/off/true/false/1/0/enable/disable as text,
 *   anything else by Python truthiness;
 * - `match(re)` is re.match on str(value) (anchored at the start only), `list(a|b)` compares
 *   str(value) (so `true` is "True", as Python prints it).
 * Not ported: `email`, `url`, `device` (the add-on uses none of them; they throw here).
 * Messages are the Supervisor's, without its " in <name> (<slug>)" suffix; the first error
 * ends validation, as there.
 */

/** The Supervisor's RE_SCHEMA_ELEMENT: every valid scalar type, optionally followed by `?`. */
export const SCHEMA_ELEMENT = new RegExp(
  '^(?:' +
    '|bool|email|url|port' +
    '|device(?:\\((?<filter>subsystem=[a-z]+)\\))?' +
    '|str(?:\\((?<s_min>\\d+)?,(?<s_max>\\d+)?\\))?' +
    '|password(?:\\((?<p_min>\\d+)?,(?<p_max>\\d+)?\\))?' +
    '|int(?:\\((?<i_min>-?\\d+)?,(?<i_max>-?\\d+)?\\))?' +
    '|float(?:\\((?<f_min>-?\\d*\\.?\\d+)?,(?<f_max>-?\\d*\\.?\\d+)?\\))?' +
    '|match\\((?<match>.*)\\)' +
    '|list\\((?<list>.+)\\)' +
    ')\\??$',
);

export type SchemaNode = string | SchemaNode[] | { [key: string]: SchemaNode };

export type OptionsResult = { ok: true; value: Record<string, unknown> } | { ok: false; errors: string[] };

export interface ValidateOptions {
  /** Home Assistant's secrets.yaml, for `!secret name` values. */
  secrets?: Record<string, unknown>;
}

class OptionError extends Error {}

const isDict = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Python's str() of a JSON value, as `match` and `list` see it. */
function pythonStr(value: unknown): string {
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  return JSON.stringify(value);
}

/** Python truthiness of a JSON value. */
const truthy = (v: unknown) =>
  Array.isArray(v) ? v.length > 0 : isDict(v) ? Object.keys(v).length > 0 : Boolean(v);

/** voluptuous Coerce(int): Python's int(). */
function coerceInt(value: unknown, key: string): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === 'string' && /^\s*[+-]?\d+(_\d+)*\s*$/.test(value))
    return Number.parseInt(value.replace(/_/g, ''), 10);
  throw new OptionError(`expected int for option '${key}'`);
}

/** voluptuous Coerce(float): Python's float(). */
function coerceFloat(value: unknown, key: string): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value))
    return Number.parseFloat(value);
  throw new OptionError(`expected float for option '${key}'`);
}

/** voluptuous Boolean(). */
function coerceBool(value: unknown, key: string): boolean {
  if (typeof value !== 'string') return truthy(value);
  const v = value.toLowerCase();
  if (['1', 'true', 'yes', 'on', 'enable'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', 'disable'].includes(v)) return false;
  throw new OptionError(`expected boolean for option '${key}'`);
}

/** voluptuous Range(min, max), inclusive. */
function inRange(n: number, min: string | undefined, max: string | undefined, key: string): number {
  if (min !== undefined && n < Number(min))
    throw new OptionError(`value must be at least ${Number(min)} for option '${key}'`);
  if (max !== undefined && n > Number(max))
    throw new OptionError(`value must be at most ${Number(max)} for option '${key}'`);
  return n;
}

class Validator {
  constructor(private readonly secrets: Record<string, unknown>) {}

  single(type: string, raw: unknown, key: string): unknown {
    if (raw === null || raw === undefined) throw new OptionError(`Missing required option '${key}'`);
    let value: unknown = raw;
    if (pythonStr(value).startsWith('!secret ')) {
      const name = pythonStr(value).slice('!secret '.length);
      value = this.secrets[name];
      if (value === null || value === undefined) throw new OptionError(`Unknown secret '${name}'`);
    }
    const m = SCHEMA_ELEMENT.exec(type);
    if (!m) throw new OptionError(`Unknown type '${type}'`);
    const g = m.groups ?? {};
    if (type.startsWith('str') || type.startsWith('password')) {
      // vol.All(str, vol.Length(…)): only strings pass, the length counts characters.
      if (typeof value !== 'string') throw new OptionError(`expected str for option '${key}'`);
      const length = [...value].length;
      const [min, max] = type.startsWith('str') ? [g.s_min, g.s_max] : [g.p_min, g.p_max];
      if ((min !== undefined && length < Number(min)) || (max !== undefined && length > Number(max)))
        throw new OptionError(
          `length of value must be between ${min ?? 0} and ${max ?? '∞'} for option '${key}'`,
        );
      return value;
    }
    if (type.startsWith('int')) return inRange(coerceInt(value, key), g.i_min, g.i_max, key);
    if (type.startsWith('float')) return inRange(coerceFloat(value, key), g.f_min, g.f_max, key);
    if (type.startsWith('bool')) return coerceBool(value, key);
    if (type.startsWith('port')) return inRange(coerceInt(value, key), '1', '65535', key);
    if (type.startsWith('match')) {
      const text = pythonStr(value);
      if (!new RegExp(`^(?:${g.match})`).test(text))
        throw new OptionError(`does not match regular expression ${g.match} for option '${key}'`);
      return text;
    }
    if (type.startsWith('list')) {
      const text = pythonStr(value);
      if (!(g.list ?? '').split('|').includes(text))
        throw new OptionError(
          `value must be one of [${(g.list ?? '').split('|').join(', ')}] for option '${key}'`,
        );
      return text;
    }
    throw new OptionError(`type '${type}' of option '${key}' is not supported by this port`);
  }

  element(node: SchemaNode, value: unknown, key: string): unknown {
    if (Array.isArray(node)) {
      if (!Array.isArray(value)) throw new OptionError(`Invalid list for option '${key}'`);
      // The elements are checked under the list's own key ("… in players").
      return value.map((v: unknown) => this.element(node[0] as SchemaNode, v, key));
    }
    if (typeof node === 'object') {
      if (!isDict(value)) throw new OptionError(`Invalid dict for option '${key}'`);
      return this.dict(node, value, key);
    }
    return this.single(node, value, key);
  }

  dict(schema: { [key: string]: SchemaNode }, data: Record<string, unknown>, where: string) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(data)) {
      const node = schema[k];
      if (node === undefined) continue; // the Supervisor logs a warning and drops the key
      out[k] = this.element(node, v, k);
    }
    for (const [k, node] of Object.entries(schema)) {
      if (k in out) continue;
      const element = Array.isArray(node) && node.length > 0 ? node[0] : node;
      if (typeof element === 'string' && element.endsWith('?')) continue;
      throw new OptionError(`Missing option '${k}' in ${where}`);
    }
    return out;
  }
}

/** The Supervisor's option merger (deepmerge): dicts merge key by key, anything else replaces. */
export function mergeOptions(defaults: unknown, user: unknown): unknown {
  if (!isDict(defaults) || !isDict(user)) return structuredClone(user);
  const out: Record<string, unknown> = structuredClone(defaults);
  for (const [k, v] of Object.entries(user)) out[k] = k in out ? mergeOptions(out[k], v) : structuredClone(v);
  return out;
}

/** Validates options like the Supervisor; the first error ends it, as there. */
export function validateAddonOptions(
  schema: { [key: string]: SchemaNode },
  options: unknown,
  { secrets = {} }: ValidateOptions = {},
): OptionsResult {
  try {
    if (!isDict(options)) return { ok: false, errors: ['expected a dictionary'] };
    return { ok: true, value: new Validator(secrets).dict(schema, options, 'root') };
  } catch (err) {
    if (err instanceof OptionError) return { ok: false, errors: [err.message] };
    throw err;
  }
}

/**
 * What the Supervisor writes to /data/options.json when the add-on starts: the manifest's
 * `options` deep-merged with what the user saved, validated against `schema`.
 */
export function supervisorOptions(
  manifest: { options?: unknown; schema: { [key: string]: SchemaNode } },
  userOptions: unknown = {},
  validateOptions: ValidateOptions = {},
): OptionsResult {
  return validateAddonOptions(
    manifest.schema,
    mergeOptions(manifest.options ?? {}, userOptions),
    validateOptions,
  );
}
