import { z } from 'zod';

/**
 * Walks the config schema by path, seeing through defaults, nullables and
 * transforms. Used to check environment override names against the schema and to
 * list the allowed keys behind an "unknown key" error (README.md "Configuration":
 * unknown keys are errors, and we say which key was probably meant).
 */

export type PathKey = string | number;

/** The schema with its wrappers (default, prefault, optional, nullable, pipe input) peeled off. */
function unwrapSchema(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  for (;;) {
    if (
      s instanceof z.ZodDefault ||
      s instanceof z.ZodPrefault ||
      s instanceof z.ZodOptional ||
      s instanceof z.ZodNullable
    ) {
      s = s.unwrap() as z.ZodType;
    } else if (s instanceof z.ZodPipe) {
      s = s.in as z.ZodType;
    } else {
      return s;
    }
  }
}

/** The schema found at `path` under `root`, or undefined when no such setting exists. */
export function schemaAt(root: z.ZodType, path: readonly PathKey[]): z.ZodType | undefined {
  let s: z.ZodType = root;
  for (const key of path) {
    const inner = unwrapSchema(s);
    if (inner instanceof z.ZodObject && typeof key === 'string' && Object.hasOwn(inner.shape, key)) {
      s = inner.shape[key] as z.ZodType;
    } else if (inner instanceof z.ZodArray && typeof key === 'number') {
      s = inner.element as z.ZodType;
    } else {
      return undefined;
    }
  }
  return s;
}

/** The keys allowed in the object at `path` (empty when it is not an object). */
export function keysAt(root: z.ZodType, path: readonly PathKey[]): string[] {
  const s = schemaAt(root, path);
  const inner = s === undefined ? undefined : unwrapSchema(s);
  return inner instanceof z.ZodObject ? Object.keys(inner.shape) : [];
}

/** True when the schema at this point is a list (its keys are indexes). */
export function isArraySchema(schema: z.ZodType): boolean {
  return unwrapSchema(schema) instanceof z.ZodArray;
}

/** `players[1].mpd.port` from ['players', 1, 'mpd', 'port']. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}
