import { stripStreamTokens } from '../core/stream-tokens.js';
import type { MpdExchange, RestExchange, WireDirection } from '../core/wire-tap.js';
import { decodeFrames, messagesOf, type Frame } from '../protocol/frame-codec.js';
import { frameToJson, type Json } from '../protocol/frame-json.js';
import { MESSAGE_NAMES, type MessageType } from '../protocol/message-types.js';
import { CENSOR, isSecretKey, type Redactor } from '../util/redactor.js';
import { RECORD_VERSION, type MpdRecord, type QconnectRecord, type RestRecord } from './wire-record.js';

/** Bytes fields print as hex; one long enough to hide a token is looked into. */
const HEX = /^(?:[0-9a-f]{2}){8,}$/;

/**
 * Turns what a wire tap saw into redacted records (README "Reporting a problem"; wire-record.ts).
 * The one place where diagnostics redact, for the recorder and the bundle alike:
 *
 * - decoded bodies: every string through the redactor's strict pass (registered secrets, JWTs,
 *   stream tokens, e-mail addresses, URL queries), secret-named keys (`jwt`, `user_id`, …)
 *   censored, and bytes fields (hex) censored when the bytes they stand for carry a secret;
 * - raw bytes: base64 of the message as it was, unless it carries a secret anywhere (the
 *   Authenticate envelope always does: its JWT); then `raw` is null and `raw_omitted` says
 *   why. We leave the bytes out rather than re-encode a censored message: a recording's raw
 *   bytes are either exactly what was on the wire or absent, never something that was not.
 * - MPD arguments and REST paths and errors through the same strict pass; `password` commands
 *   keep no argument; REST bodies and queries never reach the tap at all.
 */
export class WireRenderer {
  constructor(private readonly redactor: Redactor) {}

  qconnect(player: string, dir: WireDirection, bytes: Uint8Array, atMs: number): QconnectRecord {
    let frames: Frame[] | null = null;
    let error = '';
    try {
      frames = decodeFrames(bytes);
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    const envelopes = (frames ?? []).map((f) => (f.type === 'UNKNOWN' ? `UNKNOWN_${f.envelopeType}` : f.type));
    const types: number[] = [];
    for (const frame of frames ?? []) {
      if (frame.type !== 'PAYLOAD') continue;
      for (const m of messagesOf(frame.body)) types.push(m.type === 'unknown' ? m.messageType : m.type);
    }
    const names = types.map((t) => MESSAGE_NAMES[t as MessageType] ?? `unknown_${t}`);
    const decoded: Json = frames
      ? frames.length === 1
        ? frameToJson(frames[0] as Frame)
        : frames.map(frameToJson)
      : { error: this.redactor.scrubStrictString(error) };
    const secret = envelopes.includes('AUTHENTICATE') || this.#carriesSecret(latin1(bytes));
    return {
      v: RECORD_VERSION,
      at: new Date(atMs).toISOString(),
      player,
      dir,
      kind: 'qconnect',
      envelopes,
      types,
      names,
      body: this.#redactJson(decoded, 0),
      raw: secret ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
      ...(secret ? { raw_omitted: 'secret' as const } : {}),
    };
  }

  rest(player: string, exchange: RestExchange, atMs: number): RestRecord {
    return {
      v: RECORD_VERSION,
      at: new Date(atMs).toISOString(),
      player,
      dir: 'out',
      kind: 'rest',
      method: exchange.method,
      path: this.#text(exchange.path),
      status: exchange.status,
      ms: exchange.ms,
      attempt: exchange.attempt,
      ...(exchange.error ? { error: this.#text(exchange.error) } : {}),
    };
  }

  mpd(player: string, exchange: MpdExchange, atMs: number): MpdRecord {
    const secretArgs = exchange.command.toLowerCase() === 'password';
    return {
      v: RECORD_VERSION,
      at: new Date(atMs).toISOString(),
      player,
      dir: 'out',
      kind: 'mpd',
      command: exchange.command,
      args: exchange.args.map((a) => (secretArgs ? CENSOR : this.#text(a))),
      ok: exchange.ok,
      ms: exchange.ms,
      ...(exchange.error ? { error: this.#text(exchange.error) } : {}),
    };
  }

  /** Any plain value (an MPD status, a view) through the same strict pass. */
  value(value: unknown): unknown {
    return this.redactor.scrubStrict(stripDeep(value));
  }

  #text(text: string): string {
    return stripStreamTokens(this.redactor.scrubStrictString(text));
  }

  #carriesSecret(text: string): boolean {
    return this.#text(text) !== text;
  }

  #redactJson(value: Json, depth: number): Json {
    if (typeof value === 'string') {
      if (HEX.test(value)) return this.#carriesSecret(Buffer.from(value, 'hex').toString('latin1')) ? CENSOR : value;
      return this.#text(value);
    }
    if (value === null || typeof value !== 'object') return value;
    if (depth > 32) return '[too deep]';
    if (Array.isArray(value)) return value.map((v) => this.#redactJson(v, depth + 1));
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) out[k] = isSecretKey(k) && v !== null ? CENSOR : this.#redactJson(v, depth + 1);
    return out;
  }
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** Stream tokens out of every string of a plain value (the redactor's rule may not be set in every setup). */
function stripDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return stripStreamTokens(value);
  if (value === null || typeof value !== 'object' || depth > 16) return value;
  if (Array.isArray(value)) return value.map((v) => stripDeep(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stripDeep(v, depth + 1)]));
}
