import Long from 'long';
import protobuf from 'protobufjs/minimal.js';
import { decodeFrames, joinEnvelope, messagesOf } from '../../src/protocol/frame-codec.js';
import { FrameWriter, message, type OutgoingMessage } from '../../src/protocol/frame-writer.js';
import type { FuzzRandom } from './fuzz-random.js';
import { varintBytes } from '../../src/protocol/varint.js';

/**
 * Hostile WebSocket messages from the "service" for issue #8 ("10 000 fuzzed WebSocket frames"):
 * random bytes, mutated and truncated valid frames, unknown envelope and message types, absurd
 * declared lengths, and valid envelopes whose protobuf fields carry the wrong wire types.
 *
 * Every message is classified with the bridge's own codec, as its link will see it:
 * `rejected` (the codec throws: the link must drop it and log it), `inert` (decodes, but holds
 * nothing the renderer acts on) or `actionable` (a real command such as SetState, or a
 * Disconnect). The generator never yields `actionable` ones, so after the flood the player
 * must be exactly as before.
 */
export type FrameKind = 'random' | 'mutated' | 'truncated' | 'unknown-envelope' | 'unknown-message' | 'absurd-length' | 'wrong-types';
export type FrameEffect = 'rejected' | 'inert' | 'actionable';

export interface FuzzFrame {
  readonly kind: FrameKind;
  readonly bytes: Uint8Array;
  readonly effect: Exclude<FrameEffect, 'actionable'>;
  /** Frames the codec finds in it (0 when rejected). */
  readonly frames: number;
}

/** Message types the renderer only logs (1) or notes for a later takeover (82); every other handled type acts. */
const INERT_HANDLED = new Set([1, 82]);
const HANDLED = new Set([1, 41, 42, 43, 44, 45, 46, 47, 81, 82, 83, 86, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 105]);

export function classify(bytes: Uint8Array): { effect: FrameEffect; frames: number } {
  let frames;
  try {
    frames = decodeFrames(bytes);
  } catch {
    return { effect: 'rejected', frames: 0 };
  }
  for (const f of frames) {
    if (f.type === 'DISCONNECT') return { effect: 'actionable', frames: frames.length };
    if (f.type !== 'PAYLOAD') continue;
    for (const m of messagesOf(f.body)) {
      const type = m.type === 'unknown' ? m.messageType : m.type;
      if (HANDLED.has(type) && !INERT_HANDLED.has(type)) return { effect: 'actionable', frames: frames.length };
    }
  }
  return { effect: 'inert', frames: frames.length };
}

const CLOCK = () => 1_766_125_180_776;

/** Valid frames the service really sends, commands included: the seeds for mutation and truncation. */
function seeds(): Uint8Array[] {
  const w = new FrameWriter(CLOCK);
  const from = { src: Uint8Array.of(0x02), dests: [] };
  const batch = (messages: OutgoingMessage[]) => w.payload(messages, from);
  return [
    batch([message(41, { playing_state: 2, current_position: 61_000, queue_version: { major: 4 }, current_track: { queue_item_id: 1, track_id: 5001 }, next_track: { queue_item_id: 2, track_id: 5002 } })]),
    batch([message(42, { volume: 35 })]),
    batch([message(47, { value: true })]),
    batch([message(90, { queue_version: { major: 9, minor: 1 }, tracks: [{ queue_item_id: 0, track_id: 1 }, { queue_item_id: 1, track_id: 2 }], shuffle_mode: true, shuffled_track_indexes: [1, 0] })]),
    batch([message(82, { renderer_id: 7, status: 1, player_state: { playing_state: 2, buffer_state: 2, current_position: { timestamp: Long.fromNumber(1_766_125_180_000), value: 3000 }, duration: 200_000, current_queue_item_id: 1 } })]),
    batch([message(1, { code: 'E42', message: 'something odd' })]),
    batch([message(86, { active_renderer_id: 9 })]),
    w.error(5, 'bad'),
    w.subscribe(),
  ];
}

function mutate(r: FuzzRandom, base: Uint8Array): Uint8Array {
  const bytes = Uint8Array.from(base);
  const flips = 1 + r.int(4);
  for (let f = 0; f < flips; f++) {
    const at = r.int(bytes.length);
    const kind = r.next();
    if (kind < 0.6) bytes[at] = r.int(256);
    else if (kind < 0.8) bytes[at] = (bytes[at] as number) ^ (1 << r.int(8));
    else bytes[at] = 0xff;
  }
  return bytes;
}

/** A protobuf body of random fields with random (mostly wrong) wire types. */
function wrongTypedBody(r: FuzzRandom): Uint8Array {
  const w = protobuf.Writer.create();
  const n = 1 + r.int(5);
  for (let i = 0; i < n; i++) {
    const field = 1 + r.int(8);
    const wire = r.pick([0, 1, 2, 5]);
    w.uint32((field << 3) | wire);
    if (wire === 0) w.uint64(r.int(2 ** 31) * (r.chance(0.3) ? 2 ** 20 : 1));
    else if (wire === 1) w.fixed64(r.int(2 ** 31));
    else if (wire === 5) w.fixed32(r.int(2 ** 31));
    else w.bytes(r.bytes(r.int(24)));
  }
  return w.finish();
}

/** A Payload whose batch holds a Message of `type` with its body field in the wrong wire type. */
function wrongTypedMessage(r: FuzzRandom): Uint8Array {
  const msg = protobuf.Writer.create();
  const type = r.pick([41, 42, 43, 47, 82, 90, 91]);
  if (r.chance(0.5)) {
    msg.uint32((1 << 3) | 2).string(String(type)); // message_type as a string
  } else {
    msg.uint32((1 << 3) | 0).int32(type);
    msg.uint32((type << 3) | r.pick([0, 1, 5])); // body as a number instead of a message
    msg.uint64(r.int(2 ** 31));
  }
  const batch = protobuf.Writer.create().uint32((3 << 3) | 2).bytes(msg.finish()).finish();
  const body = protobuf.Writer.create().uint32((1 << 3) | 0).uint32(r.int(1000)).uint32((7 << 3) | 2).bytes(batch).finish();
  return joinEnvelope(6, body);
}


function absurdLength(r: FuzzRandom): Uint8Array {
  const type = r.pick([1, 2, 6, 9, 10, 77]);
  const shape = r.int(4);
  if (shape === 0) return Uint8Array.from([...varintBytes(type), ...varintBytes(2 ** 32 - 1), ...r.bytes(r.int(16))]);
  if (shape === 1) return Uint8Array.from([...varintBytes(type), ...varintBytes(4 * 1024 * 1024 + 1 + r.int(1e6)), 0x08, 0x01]);
  // A varint that never ends, or runs past 32 bits.
  if (shape === 2) return Uint8Array.from([type, ...new Array<number>(6 + r.int(6)).fill(0xff)]);
  return Uint8Array.from([...varintBytes(type), ...varintBytes(200 + r.int(10_000)), ...r.bytes(r.int(100))]);
}

function unknownMessage(r: FuzzRandom, w: FrameWriter): Uint8Array {
  const types = [0, 3, 20, 30, 48, 60, 99, 104, 106, 200, 250, 1000, 65_535, 2 ** 30, -1];
  const messages: OutgoingMessage[] = [];
  for (let i = 1 + r.int(3); i > 0; i--) messages.push({ message_type: r.pick(types) } as OutgoingMessage);
  return w.payload(messages, { src: Uint8Array.of(0x02), dests: [] });
}

function candidate(r: FuzzRandom, kind: FrameKind, pool: Uint8Array[], w: FrameWriter): Uint8Array {
  switch (kind) {
    case 'random':
      return r.bytes(r.chance(0.05) ? r.int(4096) : r.int(64));
    case 'mutated':
      return mutate(r, r.pick(pool));
    case 'truncated': {
      const base = r.pick(pool);
      return base.subarray(0, r.int(base.length));
    }
    case 'unknown-envelope': {
      const type = r.pick([0, 4, 5, 7, 8, 11, 12, 99, 127, 128, 300, 2 ** 20]);
      return joinEnvelope(type, r.bytes(r.int(40)));
    }
    case 'unknown-message':
      return unknownMessage(r, w);
    case 'absurd-length':
      return absurdLength(r);
    case 'wrong-types':
      return r.chance(0.5) ? joinEnvelope(r.pick([1, 2, 6, 9]), wrongTypedBody(r)) : wrongTypedMessage(r);
  }
}

const KINDS: FrameKind[] = ['random', 'mutated', 'truncated', 'unknown-envelope', 'unknown-message', 'absurd-length', 'wrong-types'];

/** `count` hostile messages, kinds in turn; a candidate that would be a real command is redrawn. */
export function* fuzzFrames(r: FuzzRandom, count: number): Generator<FuzzFrame> {
  const pool = seeds();
  const w = new FrameWriter(CLOCK);
  for (let i = 0; i < count; i++) {
    const kind = KINDS[i % KINDS.length] as FrameKind;
    for (;;) {
      const bytes = candidate(r, kind, pool, w);
      const { effect, frames } = classify(bytes);
      if (effect !== 'actionable') {
        yield { kind, bytes, effect, frames };
        break;
      }
    }
  }
}
