/**
 * Central secret scrubbing for every log line (README.md "Command line": tokens, JWTs,
 * the app secret and the MQTT password never appear in any log line at any level;
 * docs/conventions.md principle 9). Two layers, both wired in by createLogger (logger.ts), which
 * also passes each finished line through `scrubString` once more:
 *
 * 1. by key: values under secret-named keys (`jwt`, `password`, …) are censored —
 *    by pino's `redact` paths (`redactPaths()`) and, at any depth, by `scrub()`;
 * 2. by value: every string of every line (message, fields, nested objects, errors)
 *    loses registered secret values (`registerSecret`: config secrets; `setSecrets`:
 *    the tokens a player's current session was handed, replaced on each connect),
 *    whatever the adapters' rules strip (`setRule`: stream tokens), anything shaped like
 *    a JWT, Bearer/Basic credentials, URL passwords, and the values of signing query
 *    parameters (`request_sig`, `hmac`, `token`, …; the parameter name stays).
 */

export const CENSOR = '[redacted]';

/** Keys whose values are secret wherever they appear (compared case-insensitively). */
const SECRET_KEYS = [
  'jwt',
  'token',
  'access_token',
  'refresh_token',
  'user_auth_token',
  'app_secret',
  'password',
  'authorization',
  'secret',
  'signature',
  'request_sig',
  // Who the user is (README "Reporting a problem": a bundle names no account).
  'user_id',
  'email',
] as const;

/** Query parameters that sign or authenticate a URL (Qobuz API `request_sig`, CDN `hmac`, …). */
const SECRET_QUERY_PARAMS = [
  'request_sig',
  'sig',
  'signature',
  'token',
  'jwt',
  'access_token',
  'user_auth_token',
  'app_secret',
  'secret',
  'password',
  'hmac',
  'hash',
  'auth',
] as const;

const SECRET_KEY_SET = new Set<string>(SECRET_KEYS);
const JWT = /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const QUERY = new RegExp(`([?&;](?:${SECRET_QUERY_PARAMS.join('|')})=)[^&#\\s"'<>]*`, 'gi');
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^/\s@]*@/gi;
const AUTH_SCHEME = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
/** An e-mail address (diagnostics only: a log line may name one, a bundle must not). */
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
/** Everything after the `?` of a URL: signed URLs carry user ids, expiry and signature there. */
const URL_QUERY = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#"'<>]*)\?[^\s#"'<>]*/gi;
const MAX_DEPTH = 8;

/** True for keys whose value must never be logged (`password`, `Authorization`, `jwt`, …). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY_SET.has(key.toLowerCase());
}

/** pino `redact` paths for the secret keys at the top level and two levels down. */
export function redactPaths(): string[] {
  return SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
}

/** A text rule an adapter adds (e.g. stream tokens in URL paths); it must be linear in the text length. */
export type RedactionRule = (text: string) => string;

/**
 * Issue #13: every registered value is censored by a plain substring scan, so the cost of a
 * line is (number of secrets) × (line length) and registering costs nothing. Secrets that
 * arrive at runtime (the app's JWTs on every connect) are held per owner and replaced, never
 * accumulated: a flood of connects leaves exactly one owner's set behind.
 */
export class Redactor {
  /** Secrets for the life of the process (config values): a fixed, small set. */
  readonly #fixed = new Set<string>();
  /** Secrets per owner (a player's current session tokens), replaced by `setSecrets`. */
  readonly #owned = new Map<string, readonly string[]>();
  readonly #rules = new Map<string, RedactionRule>();
  /** Every value to censor, longest first (so a secret containing another is censored whole). */
  #values: readonly string[] = [];

  /**
   * From now on, `value` (and its URL-encoded form) is censored wherever it appears. For
   * values that live as long as the process (config secrets); values that change at runtime
   * go through `setSecrets`, or they would pile up. Empty values are ignored; short ones are
   * honoured too (a 4-digit password also censors those digits elsewhere: a leak would be
   * worse than a blotted line).
   */
  registerSecret(value: string | null | undefined): void {
    if (!value) return;
    const before = this.#fixed.size;
    for (const form of forms(value)) this.#fixed.add(form);
    if (this.#fixed.size !== before) this.#rebuild();
  }

  /** `owner`'s secrets are now exactly `values` (the previous ones are forgotten); none clears them. */
  setSecrets(owner: string, values: readonly (string | null | undefined)[]): void {
    const next = [...new Set(values.flatMap((v) => (v ? forms(v) : [])))];
    if (next.length === 0) this.#owned.delete(owner);
    else this.#owned.set(owner, next);
    this.#rebuild();
  }

  /** Adds or replaces a named text rule applied to every scrubbed string. */
  setRule(name: string, rule: RedactionRule): void {
    this.#rules.set(name, rule);
  }

  /** How many values are censored (the fixed ones plus every owner's): a test seam, proving it stays bounded (issue #13). */
  get secretCount(): number {
    return this.#values.length;
  }

  /**
   * Registered values, rules and JWT-shaped strings only: for payloads that carry user text
   * (track titles, player names), where the generic patterns of `scrubString` would blot
   * innocent words ("Basic Instinct").
   */
  scrubKnown(text: string): string {
    let out = text;
    for (const value of this.#values) if (out.includes(value)) out = out.split(value).join(CENSOR);
    for (const rule of this.#rules.values()) out = rule(out);
    if (out.includes('eyJ')) out = out.replace(JWT, CENSOR);
    return out;
  }

  /** One string with every secret value censored. */
  scrubString(text: string): string {
    let out = this.scrubKnown(text);
    if (out.includes('=')) out = out.replace(QUERY, `$1${CENSOR}`);
    if (out.includes('://')) out = out.replace(URL_PASSWORD, `$1${CENSOR}@`);
    return out.replace(AUTH_SCHEME, `$1 ${CENSOR}`);
  }

  /**
   * The stricter pass of diagnostics (recordings, bug-report bundles; README "Reporting a
   * problem"): `scrubString`, then every e-mail address and every URL's whole query. Signed
   * URLs lose their signature and user id with the query; the path stays for the reader.
   */
  scrubStrictString(text: string): string {
    let out = this.scrubString(text);
    if (out.includes('@')) out = out.replace(EMAIL, CENSOR);
    if (out.includes('?')) out = out.replace(URL_QUERY, `$1?${CENSOR}`);
    return out;
  }

  /** `scrub` with `scrubStrictString` for every string. */
  scrubStrict(value: unknown): unknown {
    return this.#scrub(value, 0, new WeakSet(), (text) => this.scrubStrictString(text));
  }

  #rebuild(): void {
    const all = new Set(this.#fixed);
    for (const values of this.#owned.values()) for (const v of values) all.add(v);
    this.#values = [...all].sort((a, b) => b.length - a.length);
  }

  /**
   * A scrubbed copy of any loggable value: strings scrubbed, secret-named keys
   * censored, errors copied with their prototype (so pino still serialises them as
   * errors), `toJSON` honoured (URL objects), cycles and excessive depth cut.
   */
  scrub(value: unknown): unknown {
    return this.#scrub(value, 0, new WeakSet(), (text) => this.scrubString(text));
  }

  #scrub(value: unknown, depth: number, seen: WeakSet<object>, text: (s: string) => string): unknown {
    if (typeof value === 'string') return text(value);
    if (typeof value !== 'object' || value === null) return value;
    if (value instanceof Date || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
    if (seen.has(value)) return '[Circular]';
    if (depth >= MAX_DEPTH) return '[too deep]';
    seen.add(value);
    try {
      if (Array.isArray(value)) return value.map((v) => this.#scrub(v, depth + 1, seen, text));
      if (value instanceof Error) return this.#scrubError(value, depth, seen, text);
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return this.#scrub(toJSON.call(value), depth + 1, seen, text);
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value))
        out[k] = isSecretKey(k) && v !== undefined && v !== null ? CENSOR : this.#scrub(v, depth + 1, seen, text);
      return out;
    } finally {
      seen.delete(value);
    }
  }

  #scrubError(err: Error, depth: number, seen: WeakSet<object>, text: (s: string) => string): Error {
    const copy = Object.create(Object.getPrototypeOf(err) as object) as Error;
    // message, stack and cause are own but not enumerable: copy every own property.
    for (const key of Object.getOwnPropertyNames(err)) {
      const desc = Object.getOwnPropertyDescriptor(err, key);
      if (!desc || !('value' in desc)) continue;
      const v: unknown = desc.value;
      const scrubbed = isSecretKey(key) && v !== undefined ? CENSOR : this.#scrub(v, depth + 1, seen, text);
      Object.defineProperty(copy, key, { ...desc, value: scrubbed });
    }
    return copy;
  }
}

/** A value as it appears in text: raw and URL-encoded. */
function forms(value: string): string[] {
  const encoded = encodeURIComponent(value);
  return encoded === value ? [value] : [value, encoded];
}

/** The process-wide redactor every logger from createLogger uses unless given another. */
export const defaultRedactor = new Redactor();

/** Registers a secret value with the process-wide redactor (config secrets at start-up, tokens as they arrive). */
export function registerSecret(value: string | null | undefined): void {
  defaultRedactor.registerSecret(value);
}
