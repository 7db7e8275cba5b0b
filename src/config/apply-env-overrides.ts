import YAML from 'yaml';
import type { z } from 'zod';
import { closestMatch } from './closest-match.js';
import { formatPath, isArraySchema, keysAt, schemaAt, type PathKey } from './schema-at.js';

/**
 * Environment overrides (README.md "Configuration"): `QCB_` + the setting's path in
 * upper snake case, `__` between levels, list items by index:
 * `QCB_MQTT__URL`, `QCB_QOBUZ__APP_SECRET`, `QCB_PLAYERS__0__NAME`.
 * Values are read as YAML (`9000` is a number, `true` a boolean, `~` null,
 * `[eth0, wlan0]` a list) unless the setting wants text that YAML would have
 * turned into something else (`QCB_QOBUZ__APP_ID=123456789` stays a string).
 * A variable naming no setting is an error, like an unknown key in the file.
 */

const ENV_PREFIX = 'QCB_';

export interface EnvOverrides {
  /** The configuration object with every override applied (a copy; the input is untouched). */
  value: Record<string, unknown>;
  /** One line per unusable variable. */
  issues: string[];
  /** The variable that set a path, for "(from QCB_…)" in validation errors. */
  sourceOf: (path: readonly PathKey[]) => string | undefined;
}

type Resolved = { path: PathKey[]; leaf: z.ZodType } | { error: string };

/** `QCB_PLAYERS__0__MPD__PORT` → ['players', 0, 'mpd', 'port'], checked against the schema. */
function resolve(schema: z.ZodType, name: string): Resolved {
  const segments = name.slice(ENV_PREFIX.length).split('__');
  const path: PathKey[] = [];
  for (const segment of segments) {
    const parent = schemaAt(schema, path);
    if (parent !== undefined && isArraySchema(parent)) {
      if (!/^\d+$/.test(segment))
        return { error: `${formatPath(path)} is a list: expected a numeric index, got "${segment}"` };
      path.push(Number(segment));
      continue;
    }
    const key = segment.toLowerCase();
    if (schemaAt(schema, [...path, key]) === undefined) {
      const allowed = keysAt(schema, path);
      const guess = closestMatch(key, allowed);
      const tip =
        guess === undefined
          ? allowed.length
            ? `allowed here: ${allowed.join(', ')}`
            : `${formatPath(path)} has no sub-settings`
          : `did you mean ${ENV_PREFIX}${[...path, guess].join('__').toUpperCase()}?`;
      return { error: `no setting ${formatPath([...path, key])}; ${tip}` };
    }
    path.push(key);
  }
  return { path, leaf: schemaAt(schema, path)! };
}

function parseValue(text: string, leaf: z.ZodType): unknown {
  let parsed: unknown;
  try {
    parsed = YAML.parse(text);
  } catch {
    return text;
  }
  if (parsed === text || leaf.safeParse(parsed).success) return parsed;
  return leaf.safeParse(text).success ? text : parsed;
}

type Container = Record<string, unknown> | unknown[];

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null;
}

/** Sets `value` at `path`, creating mappings and lists on the way; a gap in a list is an error. */
function setAt(root: Record<string, unknown>, path: readonly PathKey[], value: unknown): string | undefined {
  let node: Container = root;
  for (let i = 0; i < path.length; i++) {
    const key = path[i]!;
    const record = node as Record<PathKey, unknown>;
    if (typeof key === 'number' && Array.isArray(node) && key > node.length) {
      return `${formatPath(path.slice(0, i))} has ${node.length} item(s): index ${key} would leave a gap`;
    }
    if (i === path.length - 1) {
      record[key] = value;
      return undefined;
    }
    const next: unknown = record[key];
    const wantList = typeof path[i + 1] === 'number';
    if (!isContainer(next) || Array.isArray(next) !== wantList) record[key] = wantList ? [] : {};
    node = record[key] as Container;
  }
  return undefined;
}

export function applyEnvOverrides(
  base: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  schema: z.ZodType,
): EnvOverrides {
  const value = structuredClone(base);
  const issues: string[] = [];
  const sources: { path: PathKey[]; name: string }[] = [];
  // Sorted, so that a whole section (QCB_MQTT__TLS) is set before its keys (QCB_MQTT__TLS__CA).
  const names = Object.keys(env)
    .filter((n) => n.startsWith(ENV_PREFIX))
    .sort();
  for (const name of names) {
    const text = env[name];
    if (text === undefined) continue;
    const resolved = resolve(schema, name);
    if ('error' in resolved) {
      issues.push(`${name}: ${resolved.error}`);
      continue;
    }
    const error = setAt(value, resolved.path, parseValue(text, resolved.leaf));
    if (error !== undefined) issues.push(`${name}: ${error}`);
    else sources.push({ path: resolved.path, name });
  }
  const sourceOf = (path: readonly PathKey[]): string | undefined =>
    sources.findLast((s) => s.path.length <= path.length && s.path.every((k, i) => k === path[i]))?.name;
  return { value, issues, sourceOf };
}
