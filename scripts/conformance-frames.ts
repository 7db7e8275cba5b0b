import { z } from 'zod';
import { decodeFrames } from '../src/protocol/frame-codec.js';
import { frameToJson, messageBytesToJson, type Json } from '../src/protocol/frame-json.js';

/**
 * The comparison behind scripts/conformance-compare.ts (docs/protocol.md "Conformance"): a
 * frames file from outside the repository is decoded with our codec, the same path as the
 * `decode` command, and every field of the source's own decoding is looked up in ours.
 * Leaves are compared with the rules of the shared check: integers by value (64-bit ones may
 * come as decimal strings on either side), strings (enum names, hex) without case, and an absent field
 * agrees only with `false` (proto2 absent bool).
 */

const Json: z.ZodType<Json> = z.lazy(() =>
  z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(Json), z.record(z.string(), Json)]),
);

const FrameRecord = z
  .object({
    /** A whole WebSocket binary message (one frame or several back to back). */
    frame_base64: z.string().min(1).optional(),
    /** One QConnect `Message` on its own, as some sources publish them. */
    message_base64: z.string().min(1).optional(),
    /** The source's own decoding, in our JSON view's field names; absent when the source gives none. */
    decoded: Json.optional(),
    session: z.string().optional(),
    step: z.string().optional(),
    source: z.string().optional(),
  })
  .passthrough()
  .refine((r) => (r.frame_base64 === undefined) !== (r.message_base64 === undefined), {
    message: 'exactly one of frame_base64 and message_base64',
  });
export type FrameRecord = z.infer<typeof FrameRecord>;

export const FramesFile = z.object({ frames: z.array(FrameRecord) }).passthrough();

export interface FrameVerdict {
  readonly index: number;
  readonly label: string;
  /** Our decoding failed: the error text. */
  readonly error?: string;
  /** One line per field where the source's decoding and ours differ. */
  readonly disagreements: readonly string[];
  /** Whether the source gave a decoding to compare with. */
  readonly compared: boolean;
}

export function labelOf(record: FrameRecord, index: number): string {
  const parts = [record.source, record.session, record.step].filter((p): p is string => typeof p === 'string');
  return parts.length > 0 ? parts.join(': ') : `#${index}`;
}

export function decodeRecord(record: FrameRecord): Json {
  if (record.message_base64 !== undefined) return messageBytesToJson(Buffer.from(record.message_base64, 'base64'));
  const frames = decodeFrames(Buffer.from(record.frame_base64 ?? '', 'base64')).map(frameToJson);
  return frames.length === 1 ? (frames[0] as Json) : frames;
}

export function compareRecord(record: FrameRecord, index: number): FrameVerdict {
  const label = labelOf(record, index);
  let ours: Json;
  try {
    ours = decodeRecord(record);
  } catch (err) {
    return { index, label, error: err instanceof Error ? err.message : String(err), disagreements: [], compared: false };
  }
  if (record.decoded === undefined) return { index, label, disagreements: [], compared: false };
  const disagreements: string[] = [];
  for (const [path, expected] of leaves(record.decoded, '')) {
    const got = lookup(ours, path);
    if (!same(expected, got)) {
      disagreements.push(`${path}: source ${JSON.stringify(expected)}, ours ${got === ABSENT ? '(absent)' : JSON.stringify(got)}`);
    }
  }
  return { index, label, disagreements, compared: true };
}

const ABSENT = Symbol('absent');

function* leaves(value: Json, prefix: string): Generator<[string, Json]> {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) yield* leaves(v, `${prefix}[${i}]`);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) yield* leaves(v, prefix === '' ? k : `${prefix}.${k}`);
  } else {
    yield [prefix, value];
  }
}

function lookup(root: Json, path: string): Json | typeof ABSENT {
  let cur: Json = root;
  for (const part of path.match(/[^.[\]]+|\[\d+\]/g) ?? []) {
    if (cur === null || typeof cur !== 'object') return ABSENT;
    if (part.startsWith('[')) {
      const i = Number(part.slice(1, -1));
      if (!Array.isArray(cur) || i >= cur.length) return ABSENT;
      cur = cur[i] as Json;
    } else {
      if (Array.isArray(cur) || !Object.hasOwn(cur, part)) return ABSENT;
      cur = cur[part] as Json;
    }
  }
  return cur;
}

function same(expected: Json, got: Json | typeof ABSENT): boolean {
  if (got === ABSENT) return expected === false;
  if (typeof expected === 'boolean' || typeof got === 'boolean') return typeof got !== 'string' && Boolean(expected) === Boolean(got);
  if (typeof expected === 'number' && Number.isInteger(expected)) {
    if (typeof got !== 'number' && typeof got !== 'string') return false;
    try {
      return BigInt(got) === BigInt(expected);
    } catch {
      return false;
    }
  }
  if (typeof expected === 'string' && /^-?\d+$/.test(expected) && (typeof got === 'number' || typeof got === 'string')) {
    // A 64-bit integer the source prints as a decimal string; ours is a number when it fits 2^53.
    return same(Number.isSafeInteger(Number(expected)) ? Number(expected) : Number.NaN, got) || String(got) === expected;
  }
  if (typeof expected === 'string') return typeof got === 'string' && got.toLowerCase() === expected.toLowerCase();
  return expected === got;
}
