import type { z } from 'zod';
import { isSecretKey, Redactor } from '../util/redactor.js';
import { closestMatch } from './closest-match.js';
import { formatPath, keysAt, type PathKey } from './schema-at.js';

/**
 * Zod issues → one line per mistake, `path: expected …, got "…"` plus a hint where
 * one helps (README.md "Configuration": `players[1].mpd.port: expected integer 1-65535,
 * got "66000"`). The schema words its own "expected …" texts (config-schema.ts);
 * `expectedText` words the rest. Values under secret keys are never echoed.
 */

type Issue = z.core.$ZodIssue;

export interface FormatIssuesOptions {
  /** The schema the issues came from, for "did you mean" among the allowed keys. */
  schema: z.ZodType;
  /** Where a value came from when not the file (e.g. `QCB_HTTP__PORT`), by path. */
  sourceOf?: (path: readonly PathKey[]) => string | undefined;
}

const MAX_SHOWN = 60;
/** Pattern-only scrubbing (URL passwords, JWTs, signatures) of echoed values. */
const scrubber = new Redactor();

function show(value: unknown): string {
  const json = JSON.stringify(typeof value === 'object' && value !== null ? value : String(value));
  const text = scrubber.scrubString(json ?? String(value));
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 4)}…${text.slice(-3)}` : text;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'mapping';
  return typeof value;
}

function received(issue: Issue, path: readonly PathKey[]): string {
  if (!('input' in issue) || issue.input === undefined) return 'got nothing (required)';
  const value = issue.input;
  if (value === null) return 'got null';
  const last = path[path.length - 1];
  if (typeof last === 'string' && isSecretKey(last)) return `got a ${typeName(value)} (not shown: secret)`;
  if (issue.code === 'invalid_type') return `got ${typeName(value)} ${show(value)}`;
  return `got ${show(value)}`;
}

/** Zod's type names in the words of a YAML user. */
const TYPE_WORDS: Partial<Record<string, string>> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
};

/** Per-parse error map: words the issues the schema did not word itself. */
export function expectedText(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${TYPE_WORDS[issue.expected] ?? issue.expected}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => String(v)).join(' | ')}`;
    case 'too_small':
      return `expected ${issue.origin} of at least ${String(issue.minimum)}`;
    case 'too_big':
      return `expected ${issue.origin} of at most ${String(issue.maximum)}`;
    case 'invalid_format':
      return `expected ${issue.format}`;
    default:
      return `expected a valid value (${issue.code})`;
  }
}

function hint(issue: Issue): string {
  if (issue.code === 'invalid_value' && typeof issue.input === 'string') {
    const guess = closestMatch(issue.input, issue.values.map(String));
    if (guess !== undefined) return `; did you mean "${guess}"?`;
  }
  if (
    issue.code === 'invalid_type' &&
    issue.expected === 'string' &&
    (typeof issue.input === 'number' || typeof issue.input === 'boolean')
  ) {
    return '; quote it in YAML to make it a string';
  }
  return '';
}

function withSource(line: string, path: readonly PathKey[], options: FormatIssuesOptions): string {
  const source = options.sourceOf?.(path);
  return source === undefined ? line : `${line} (from ${source})`;
}

/** One line per problem; an unknown-keys issue gives one line per key. */
export function formatIssues(issues: readonly Issue[], options: FormatIssuesOptions): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((k): k is PathKey => typeof k !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const allowed = keysAt(options.schema, path);
      for (const key of issue.keys) {
        const guess = closestMatch(key, allowed);
        const tip = guess === undefined ? `allowed: ${allowed.join(', ')}` : `did you mean "${guess}"?`;
        lines.push(withSource(`${formatPath([...path, key])}: unknown key; ${tip}`, [...path, key], options));
      }
      continue;
    }
    lines.push(
      withSource(
        `${formatPath(path)}: ${issue.message}, ${received(issue, path)}${hint(issue)}`,
        path,
        options,
      ),
    );
  }
  return lines;
}
