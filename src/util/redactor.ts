/**
 * Central secret scrubbing for every log line (README.md "Command line": tokens, JWTs,
 * the app secret and the MQTT password never appear in any log line at any level;
 * docs/conventions.md principle 9). Two layers, both wired in by createLogger (logger.ts), which
 * also passes each finished line through `scrubString` once more:
 *
 * 1. by key: values under secret-named keys (`jwt`, `password`, …) are censored —
 *    by pino's `redact` paths (`redactPaths()`) and, at any depth, by `scrub()`;
 * 2. by value: every string of every line (message, fields, nested objects, errors)
 *    loses registered secret values (`registerSecret`: config secrets, tokens as
 *    the Qobuz app hands them over), anything shaped like a JWT, Bearer/Basic
 *    credentials, URL passwords, and the values of signing query parameters
 *    (`request_sig`, `hmac`, `token`, …; the parameter name stays).
 */

export const CENSOR = '[redacted]';

/** Keys whose values are secret wherever they appear (compared case-insensitively). */
export const SECRET_KEYS = [
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
] as const;

/** Query parameters that sign or authenticate a URL (Qobuz API `request_sig`, CDN `hmac`, …). */
export const SECRET_QUERY_PARAMS = [
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
const MAX_DEPTH = 8;

/** True for keys whose value must never be logged (`password`, `Authorization`, `jwt`, …). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY_SET.has(key.toLowerCase());
}

/** pino `redact` paths for the secret keys at the top level and two levels down. */
export function redactPaths(): string[] {
  return SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class Redactor {
  readonly #secrets = new Set<string>();
  #pattern: RegExp | undefined;

  /**
   * From now on, `value` (and its URL-encoded form) is censored wherever it appears.
   * Empty values are ignored; short ones are honoured too (a 4-digit password also
   * censors those digits elsewhere: a leak would be worse than a blotted line).
   */
  registerSecret(value: string | null | undefined): void {
    if (!value) return;
    const before = this.#secrets.size;
    this.#secrets.add(value);
    this.#secrets.add(encodeURIComponent(value));
    if (this.#secrets.size === before) return;
    // Longest first, so a secret containing another is censored whole.
    const alternatives = [...this.#secrets].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.#pattern = new RegExp(alternatives.join('|'), 'g');
  }

  /** One string with every secret value censored. */
  scrubString(text: string): string {
    let out = this.#pattern ? text.replace(this.#pattern, CENSOR) : text;
    if (out.includes('eyJ')) out = out.replace(JWT, CENSOR);
    if (out.includes('=')) out = out.replace(QUERY, `$1${CENSOR}`);
    if (out.includes('://')) out = out.replace(URL_PASSWORD, `$1${CENSOR}@`);
    return out.replace(AUTH_SCHEME, `$1 ${CENSOR}`);
  }

  /**
   * A scrubbed copy of any loggable value: strings scrubbed, secret-named keys
   * censored, errors copied with their prototype (so pino still serialises them as
   * errors), `toJSON` honoured (URL objects), cycles and excessive depth cut.
   */
  scrub(value: unknown): unknown {
    return this.#scrub(value, 0, new WeakSet());
  }

  #scrub(value: unknown, depth: number, seen: WeakSet<object>): unknown {
    if (typeof value === 'string') return this.scrubString(value);
    if (typeof value !== 'object' || value === null) return value;
    if (value instanceof Date || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
    if (seen.has(value)) return '[Circular]';
    if (depth >= MAX_DEPTH) return '[too deep]';
    seen.add(value);
    try {
      if (Array.isArray(value)) return value.map((v) => this.#scrub(v, depth + 1, seen));
      if (value instanceof Error) return this.#scrubError(value, depth, seen);
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return this.#scrub(toJSON.call(value), depth + 1, seen);
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value))
        out[k] = isSecretKey(k) && v !== undefined ? CENSOR : this.#scrub(v, depth + 1, seen);
      return out;
    } finally {
      seen.delete(value);
    }
  }

  #scrubError(err: Error, depth: number, seen: WeakSet<object>): Error {
    const copy = Object.create(Object.getPrototypeOf(err) as object) as Error;
    // message, stack and cause are own but not enumerable: copy every own property.
    for (const key of Object.getOwnPropertyNames(err)) {
      const desc = Object.getOwnPropertyDescriptor(err, key);
      if (!desc || !('value' in desc)) continue;
      const v: unknown = desc.value;
      const scrubbed = isSecretKey(key) && v !== undefined ? CENSOR : this.#scrub(v, depth + 1, seen);
      Object.defineProperty(copy, key, { ...desc, value: scrubbed });
    }
    return copy;
  }
}

/** The process-wide redactor every logger from createLogger uses unless given another. */
export const defaultRedactor = new Redactor();

/** Registers a secret value with the process-wide redactor (config secrets at start-up, tokens as they arrive). */
export function registerSecret(value: string | null | undefined): void {
  defaultRedactor.registerSecret(value);
}
