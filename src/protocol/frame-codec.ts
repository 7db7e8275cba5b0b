import protobuf from 'protobufjs/minimal.js';
import { qconnect } from './generated/qconnect.js';
import { MESSAGE_NAMES, type MessageBodies, type MessageType } from './message-types.js';
import { ProtocolError } from './protocol-error.js';
import { readVarint32, varintBytes } from './varint.js';

/**
 * The pure QConnect codec (docs/protocol.md §3; docs/conventions.md principle 5): a WebSocket
 * binary message holds one frame or several back to back; a frame is an envelope type
 * byte, a varint length and a protobuf body. Nothing here touches sockets or clocks.
 */

const ENVELOPE = {
  AUTHENTICATE: 1,
  SUBSCRIBE: 2,
  UNSUBSCRIBE: 3,
  PAYLOAD: 6,
  ERROR: 9,
  DISCONNECT: 10,
} as const;

export type Frame =
  | { readonly type: 'AUTHENTICATE'; readonly body: qconnect.Authenticate }
  | { readonly type: 'SUBSCRIBE'; readonly body: qconnect.Subscribe }
  | { readonly type: 'UNSUBSCRIBE'; readonly body: qconnect.Subscribe }
  | { readonly type: 'PAYLOAD'; readonly body: qconnect.Payload }
  | { readonly type: 'ERROR'; readonly body: qconnect.ErrorEnvelope }
  | { readonly type: 'DISCONNECT'; readonly body: qconnect.Disconnect }
  /** An envelope type we do not know: kept raw, never a failure (docs/protocol.md §0). */
  | { readonly type: 'UNKNOWN'; readonly envelopeType: number; readonly raw: Uint8Array };

export type FrameType = Frame['type'];

/** One message of a Payload's batch, discriminated by its type for a handler table. */
export type KnownMessage = { [K in MessageType]: { readonly type: K; readonly body: MessageBodies[K] } }[MessageType];
interface UnknownMessage {
  readonly type: 'unknown';
  readonly messageType: number;
  /** The whole Message as received, so nothing is lost. */
  readonly raw: qconnect.Message;
}
export type QcMessage = KnownMessage | UnknownMessage;

/** Far above anything the service sends (a full queue state is a few KiB). */
const MAX_FRAME_BYTES = 4 * 1024 * 1024;

const BODY_DECODERS = {
  1: qconnect.Authenticate,
  2: qconnect.Subscribe,
  3: qconnect.Subscribe,
  6: qconnect.Payload,
  9: qconnect.ErrorEnvelope,
  10: qconnect.Disconnect,
} as const;

const TYPE_OF: Record<number, Exclude<FrameType, 'UNKNOWN'>> = {
  1: 'AUTHENTICATE',
  2: 'SUBSCRIBE',
  3: 'UNSUBSCRIBE',
  6: 'PAYLOAD',
  9: 'ERROR',
  10: 'DISCONNECT',
};

/** Decodes every frame of one WebSocket message. Throws only ProtocolError. */
export function decodeFrames(data: Uint8Array): Frame[] {
  if (data.length === 0) throw new ProtocolError('ERR_FRAME_EMPTY', 'empty message');
  const frames: Frame[] = [];
  let offset = 0;
  while (offset < data.length) {
    const { frame, next } = decodeOneFrame(data, offset);
    frames.push(frame);
    offset = next;
  }
  return frames;
}

function decodeOneFrame(data: Uint8Array, offset: number): { frame: Frame; next: number } {
  const type = readVarint32(data, offset);
  const length = readVarint32(data, type.next);
  if (length.value > MAX_FRAME_BYTES) {
    throw new ProtocolError('ERR_FRAME_TOO_LARGE', `frame body of ${length.value} bytes`);
  }
  const end = length.next + length.value;
  if (end > data.length) {
    throw new ProtocolError('ERR_FRAME_TRUNCATED', `frame body needs ${length.value} bytes, ${data.length - length.next} left`);
  }
  const body = data.subarray(length.next, end);
  const name = TYPE_OF[type.value];
  if (name === undefined) return { frame: { type: 'UNKNOWN', envelopeType: type.value, raw: body }, next: end };
  const decoder = BODY_DECODERS[type.value as keyof typeof BODY_DECODERS];
  let decoded: unknown;
  try {
    // Unknown fields survive decoding (kept in `$unknowns`), per reader so no global is touched.
    const reader = protobuf.Reader.create(body);
    reader.discardUnknown = false;
    decoded = decoder.decode(reader);
  } catch (err) {
    throw new ProtocolError('ERR_BODY_INVALID', `${name} body: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  return { frame: { type: name, body: decoded } as Frame, next: end };
}

/** The messages of a Payload frame's batch, in order, each typed by its message_type. */
export function messagesOf(payload: qconnect.Payload): QcMessage[] {
  const messages = payload.payload?.messages ?? [];
  return messages.map((m) => toQcMessage(m as qconnect.Message));
}

function toQcMessage(m: qconnect.Message): QcMessage {
  const type = m.message_type ?? 0;
  const field = MESSAGE_NAMES[type as MessageType] as keyof qconnect.Message | undefined;
  if (field === undefined) return { type: 'unknown', messageType: type, raw: m };
  // An empty body is absent on the wire (e.g. SetActive with active = false): use the defaults.
  const body = m[field] ?? {};
  return { type, body } as KnownMessage;
}

/** Encodes one frame. Throws only ProtocolError. */
export function encodeFrame(frame: Exclude<Frame, { type: 'UNKNOWN' }> | { type: FrameType; body: object }): Uint8Array {
  const envelopeType = ENVELOPE[frame.type as keyof typeof ENVELOPE];
  if (envelopeType === undefined) throw new ProtocolError('ERR_ENCODE_INVALID', `cannot encode envelope ${frame.type}`);
  const encoder = BODY_DECODERS[envelopeType];
  let body: Uint8Array;
  try {
    body = (encoder.encode as (m: object) => { finish(): Uint8Array })(frame.body).finish();
  } catch (err) {
    throw new ProtocolError('ERR_ENCODE_INVALID', err instanceof Error ? err.message : String(err), { cause: err });
  }
  return joinEnvelope(envelopeType, body);
}

/**
 * Envelope type and length before a body. Exported as a test seam: tests build frames that
 * encodeFrame refuses to (unknown envelope types, bodies with unknown fields) from it.
 */
export function joinEnvelope(envelopeType: number, body: Uint8Array): Uint8Array {
  const head = [...varintBytes(envelopeType), ...varintBytes(body.length)];
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}
