import Long from 'long';
import { describe, expect, it } from 'vitest';
import { decodeFrames, encodeFrame, messagesOf, type QcMessage } from '../src/protocol/frame-codec.js';
import { frameToJson } from '../src/protocol/frame-json.js';
import { FrameWriter, message } from '../src/protocol/frame-writer.js';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { MESSAGE_BODY_TYPES } from '../src/protocol/generated/message-names.js';
import { MESSAGE_NAMES, MESSAGE_TYPES, type MessageType } from '../src/protocol/message-types.js';
import { ProtocolError } from '../src/protocol/protocol-error.js';
import { rendererAction, stateUpdated, volumeMuted } from '../src/protocol/renderer-messages.js';
import { fullySet, protoRoot } from './support/proto-samples.js';

const TYPES = Object.keys(MESSAGE_NAMES).map(Number) as MessageType[];

function onlyPayload(bytes: Uint8Array): qconnect.Payload {
  const frames = decodeFrames(bytes);
  expect(frames).toHaveLength(1);
  const frame = frames[0];
  if (frame?.type !== 'PAYLOAD') throw new Error(`expected PAYLOAD, got ${frame?.type}`);
  return frame.body;
}

describe('the QConnect codec (issue #2)', () => {
  it('names every message type 1-105 of proto/qconnect.proto, each in the Message field of its number', () => {
    const messageType = protoRoot().lookupType('qconnect.Message');
    for (const type of TYPES) {
      const field = messageType.fields[MESSAGE_NAMES[type]];
      expect(field, `type ${type}`).toBeDefined();
      expect(field?.id).toBe(type === 1 ? 2 : type === 2 ? 3 : type);
    }
    expect(TYPES).toHaveLength(2 + 9 + 7 + 20 + 25);
  });

  it('maps message names back to their type numbers (MESSAGE_TYPES is the inverse of MESSAGE_NAMES)', () => {
    expect(Object.keys(MESSAGE_TYPES)).toHaveLength(TYPES.length);
    for (const type of TYPES) expect(MESSAGE_TYPES[MESSAGE_NAMES[type]]).toBe(type);
    expect(MESSAGE_TYPES.SrvrRndrSetState).toBe(41);
    expect(MESSAGE_BODY_TYPES[1]).toBe('ErrorMessage');
  });

  it.each(TYPES)('round-trips message type %i with every field set', (type) => {
    const bodyType = protoRoot().lookupType(`qconnect.${messageTypeName(type)}`);
    const body = fullySet(bodyType);
    const expected = bodyType.toObject(bodyType.fromObject(body), { longs: String, enums: Number, bytes: Array });
    const bytes = new FrameWriter(() => 1_766_125_180_776).payload([message(type, bodyType.fromObject(body) as never)]);
    const [decoded] = messagesOf(onlyPayload(bytes));
    expect(decoded?.type).toBe(type);
    const got = bodyType.toObject(bodyType.fromObject((decoded as { body: object }).body as never), {
      longs: String,
      enums: Number,
      bytes: Array,
    });
    expect(got).toEqual(expected);
    expect(Object.keys(got).length).toBe(bodyType.fieldsArray.length);
  });

  it('keeps a batch of several messages in order with both per-connection counters rising', () => {
    const writer = new FrameWriter(() => 1000);
    writer.authenticate('x');
    const first = onlyPayload(writer.payload([volumeMuted(true), message(25, { volume: 40 }), message(43, {})]));
    const second = onlyPayload(writer.payload([message(86, { active_renderer_id: 7 })]));
    expect(messagesOf(first).map((m) => m.type)).toEqual([29, 25, 43]);
    expect(first.msg_id).toBe(2);
    expect(second.msg_id).toBe(3);
    expect(first.payload?.messages_id).toBe(1);
    expect(second.payload?.messages_id).toBe(2);
    expect(first.dests?.map((d) => Buffer.from(d).toString('hex'))).toEqual(['02']);
    expect(first.proto).toBe(1);
  });

  it('encodes RendererAction NEXT as the golden bytes 08 18 c2 01 02 10 02 (web schema, union field 24)', () => {
    const bytes = qconnect.Message.encode(rendererAction(qconnect.RndrSrvrRendererAction.ActionType.NEXT)).finish();
    expect(Buffer.from(bytes).toString('hex')).toBe('0818c201021002');
  });

  it('leaves default scalars off the wire: queue item 0 is absent, -1 is present, an unmuted VolumeMuted is empty', () => {
    const report = stateUpdated({
      playingState: qconnect.PlayingState.PLAYING,
      bufferState: qconnect.BufferState.OK,
      positionMs: 0,
      positionAtMs: 5,
      durationMs: null,
      queueVersion: { major: 3, minor: 0 },
      currentQueueItemId: 0,
      nextQueueItemId: -1,
    });
    const state = (report as { RndrSrvrStateUpdated: { state: Record<string, unknown> } }).RndrSrvrStateUpdated.state;
    expect('current_queue_item_id' in state).toBe(false);
    expect(state.next_queue_item_id).toBe(-1);
    const muted = qconnect.Message.encode(volumeMuted(false)).finish();
    expect(Buffer.from(muted).toString('hex')).toBe('081dea0100');
    const decoded = alone(qconnect.Message.decode(muted));
    expect(decoded?.type).toBe(29);
    expect((decoded as { body: qconnect.RndrSrvrVolumeMuted }).body.value ?? false).toBe(false);
  });

  it('treats an empty SetActive as active = false and an absent body as the defaults', () => {
    const bytes = qconnect.Message.encode({ message_type: 43 }).finish();
    const msg = alone(qconnect.Message.decode(bytes));
    expect(msg.type).toBe(43);
    expect((msg as { body: qconnect.SrvrRndrSetActive }).body.active ?? false).toBe(false);
  });

  it('keeps 64-bit values exact: 2^64-1 prints as a decimal string, an epoch in ms as a number', () => {
    const bytes = encodeFrame({
      type: 'DISCONNECT',
      body: { msg_id: 1, msg_date: Long.fromString('18446744073709551615', true), reconnect: true },
    });
    const [frame] = decodeFrames(bytes);
    expect(frame && frameToJson(frame)).toEqual({
      envelope: 'DISCONNECT',
      disconnect: { msg_id: 1, msg_date: '18446744073709551615', reconnect: true },
    });
    const json = frameToJson(decodeFrames(new FrameWriter(() => 1_766_125_180_776).payload([]))[0]!);
    expect((json.payload as { msg_date: unknown }).msg_date).toBe(1_766_125_180_776);
  });

  it('keeps unknown message types and unknown fields instead of failing', () => {
    // Message {1: 200, 200: bytes 0a0b}, then a known type 25 whose body has an extra field 9 = 77.
    const unknownType = [...varint(tag(1, 0)), ...varint(200), ...lengthDelimited(200, [0x0a, 0x0b])];
    const volumeBody = [...varint(tag(1, 0)), 40, ...varint(tag(9, 0)), 77];
    const extraField = [...varint(tag(1, 0)), 25, ...lengthDelimited(25, volumeBody)];
    const batch = [...lengthDelimited(3, unknownType), ...lengthDelimited(3, extraField)];
    const payload = lengthDelimited(7, batch);
    const [decoded] = decodeFrames(Uint8Array.from([6, ...varint(payload.length), ...payload]));
    if (decoded?.type !== 'PAYLOAD') throw new Error('not a payload');
    const msgs = messagesOf(decoded.body);
    expect(msgs[0]).toMatchObject({ type: 'unknown', messageType: 200 });
    expect(msgs[1]).toMatchObject({ type: 25, body: { volume: 40 } });
    const json = JSON.stringify(frameToJson(decoded));
    expect(json).toContain('"_unknown":{"200":"0a0b"}');
    expect(json).toContain('"_unknown":{"9":77}');
  });

  it('fails every truncation of a valid frame with a ProtocolError, and a split frame only in a ProtocolError', () => {
    const frame = new FrameWriter(() => 1_766_125_180_776).payload([
      message(41, { playing_state: 2, current_position: 1234, current_track: { queue_item_id: 3, track_id: 99 } }),
      message(86, { active_renderer_id: 7 }),
    ]);
    for (let cut = 0; cut < frame.length; cut++) {
      const head = frame.subarray(0, cut);
      expect(() => decodeFrames(head), `cut at ${cut}`).toThrow(ProtocolError);
      const tail = frame.subarray(cut);
      try {
        decodeFrames(tail);
      } catch (err) {
        expect(err, `tail from ${cut}`).toBeInstanceOf(ProtocolError);
      }
    }
  });

  it('decodes several frames packed in one WebSocket message', () => {
    const w = new FrameWriter(() => 1);
    const both = Buffer.concat([w.authenticate('token'), w.subscribe()]);
    expect(decodeFrames(both).map((f) => f.type)).toEqual(['AUTHENTICATE', 'SUBSCRIBE']);
  });

  it('refuses an absurd length without allocating it', () => {
    const err = catchError(() => decodeFrames(Uint8Array.from([6, 0xff, 0xff, 0xff, 0xff, 0x0f])));
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).protocolCode).toBe('ERR_FRAME_TOO_LARGE');
  });
});

function messageTypeName(type: MessageType): string {
  return MESSAGE_BODY_TYPES[type];
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

function tag(field: number, wire: number): number {
  return (field << 3) | wire;
}

function lengthDelimited(field: number, body: number[]): number[] {
  return [...varint(tag(field, 2)), ...varint(body.length), ...body];
}

function varint(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

/** One message as a Payload's batch would carry it, typed as the link sees it. */
function alone(m: qconnect.Message): QcMessage {
  return messagesOf(qconnect.Payload.create({ payload: { messages: [m] } }))[0]!;
}
