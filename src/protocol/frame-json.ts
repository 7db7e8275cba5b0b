import Long from 'long';
import protobuf from 'protobufjs/minimal.js';
import { qconnect } from './generated/qconnect.js';
import type { Frame } from './frame-codec.js';

/**
 * The JSON view of a frame printed by `decode` (README.md "Command line"): protocol field
 * names, enums by name, 64-bit integers as numbers when they fit in 2^53 and as decimal
 * strings otherwise, bytes as lowercase hex, unknown fields under `_unknown` by field number.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const ENVELOPE_KEY: Record<Exclude<Frame['type'], 'UNKNOWN'>, string> = {
  AUTHENTICATE: 'authenticate',
  SUBSCRIBE: 'subscribe',
  UNSUBSCRIBE: 'unsubscribe',
  PAYLOAD: 'payload',
  ERROR: 'error',
  DISCONNECT: 'disconnect',
};

const TO_OBJECT = {
  AUTHENTICATE: qconnect.Authenticate,
  SUBSCRIBE: qconnect.Subscribe,
  UNSUBSCRIBE: qconnect.Subscribe,
  PAYLOAD: qconnect.Payload,
  ERROR: qconnect.ErrorEnvelope,
  DISCONNECT: qconnect.Disconnect,
} as const;

export function frameToJson(frame: Frame): { [key: string]: Json } {
  if (frame.type === 'UNKNOWN') {
    return { envelope: frame.envelopeType, body_hex: toHex(frame.raw) };
  }
  const type = TO_OBJECT[frame.type] as { toObject(m: object, o: object): Record<string, unknown> };
  const plain = type.toObject(frame.body, { enums: String });
  return { envelope: frame.type, [ENVELOPE_KEY[frame.type]]: project(frame.body, plain) };
}

/**
 * One QConnect message (the `Message` inside a Payload's batch) on its own, in the same JSON
 * view as inside `decode`'s output; used by the conformance comparison for sources that
 * publish single messages rather than whole frames (docs/protocol.md "Conformance").
 */
export function messageBytesToJson(bytes: Uint8Array): { [key: string]: Json } {
  const reader = protobuf.Reader.create(bytes);
  reader.discardUnknown = false;
  const decoded = qconnect.Message.decode(reader);
  const plain = qconnect.Message.toObject(decoded, { enums: String }) as Record<string, unknown>;
  return project(decoded, plain) as { [key: string]: Json };
}

/** Walks the decoded message beside its toObject() form, to convert leaves and recover unknown fields. */
function project(decoded: unknown, plain: unknown): Json {
  if (plain === null || plain === undefined) return null;
  if (Long.isLong(plain)) return longToJson(plain);
  if (plain instanceof Uint8Array) return toHex(plain);
  if (Array.isArray(plain)) {
    const src = Array.isArray(decoded) ? decoded : [];
    return plain.map((item, i) => project(src[i], item));
  }
  if (typeof plain === 'string') return plain.endsWith('_UNKNOWN') && /^[A-Z_]+$/.test(plain) ? 'UNKNOWN' : plain;
  if (typeof plain !== 'object') return plain as Json;
  const out: { [key: string]: Json } = {};
  const src = (decoded ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(plain)) out[key] = project(src[key], value);
  const unknowns = (src as { $unknowns?: Uint8Array[] }).$unknowns;
  if (unknowns && unknowns.length > 0) out._unknown = unknownFields(unknowns);
  return out;
}

function longToJson(value: Long): number | string {
  const asNumber = value.toNumber();
  return Number.isSafeInteger(asNumber) ? asNumber : value.toString();
}

/** Raw unknown fields (tag + value bytes as protobufjs keeps them) keyed by field number. */
function unknownFields(raws: readonly Uint8Array[]): { [field: string]: Json } {
  const out: { [field: string]: Json } = {};
  for (const raw of raws) {
    try {
      const r = protobuf.Reader.create(raw);
      const tag = r.uint32();
      const field = tag >>> 3;
      const wire = tag & 7;
      const value: Json =
        wire === 0
          ? longToJson(r.uint64() as unknown as Long)
          : wire === 1
            ? longToJson(r.fixed64() as unknown as Long)
            : wire === 5
              ? r.fixed32()
              : wire === 2
                ? toHex(r.bytes())
                : toHex(raw);
      out[String(field)] = value;
    } catch {
      out[`raw_${Object.keys(out).length}`] = toHex(raw);
    }
  }
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
