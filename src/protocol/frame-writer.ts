import Long from 'long';
import { encodeFrame } from './frame-codec.js';
import { qconnect } from './generated/qconnect.js';
import type { MessageInputs, MessageType } from './message-types.js';
import { MESSAGE_NAMES } from './message-types.js';

/** A Message ready to be put in a batch. */
export type OutgoingMessage = qconnect.Message.$Properties;

/**
 * One Message of `type` with `body`, default scalars off the wire (docs/protocol.md §0), except
 * the top-level fields named in `present`, which the service wants even at 0 or false (§8).
 */
export function message<K extends MessageType>(
  type: K,
  body: MessageInputs[K],
  present: ReadonlyArray<keyof MessageInputs[K] & string> = [],
): OutgoingMessage {
  const out = compact(body) as Record<string, unknown>;
  for (const key of present) {
    const v = (body as Record<string, unknown>)[key];
    if (v !== undefined && v !== null) out[key] = v;
  }
  return { message_type: type, [MESSAGE_NAMES[type]]: out } as OutgoingMessage;
}

/**
 * The service's routing address (docs/protocol.md §3): frames to it carry `dests = [0x02]`.
 * Exported for the simulated service (test/support), which sends from this address.
 */
export const SERVICE_ADDRESS = Uint8Array.of(0x02);

/**
 * Encodes the envelopes of one connection, counting frame `msg_id` and batch `messages_id`
 * separately as the official client does (§3). Create one per WebSocket connection.
 */
export class FrameWriter {
  #msgId = 0;
  #messagesId = 0;

  constructor(private readonly now: () => number = Date.now) {}

  authenticate(jwt: string): Uint8Array {
    return encodeFrame({
      type: 'AUTHENTICATE',
      body: { msg_id: this.#nextMsgId(), msg_date: this.#date(), jwt },
    });
  }

  subscribe(channels: Uint8Array[] = []): Uint8Array {
    return encodeFrame({
      type: 'SUBSCRIBE',
      body: { msg_id: this.#nextMsgId(), msg_date: this.#date(), proto: 1, channels },
    });
  }

  /** A Payload with a batch of `messages`; from a renderer by default (dests = service). */
  payload(messages: OutgoingMessage[], route: { src?: Uint8Array; dests?: Uint8Array[] } = {}): Uint8Array {
    const time = this.#date();
    const body: qconnect.Payload.$Properties = {
      msg_id: this.#nextMsgId(),
      msg_date: time,
      proto: 1,
      payload: { messages_time: time, messages_id: ++this.#messagesId, messages },
    };
    if (route.src) body.src = route.src;
    body.dests = route.dests ?? (route.src ? [] : [SERVICE_ADDRESS]);
    return encodeFrame({ type: 'PAYLOAD', body });
  }

  /** DISCONNECT and ERROR are the service's to send: the simulated service (test/support) writes them with this writer. */
  disconnect(reconnect: boolean): Uint8Array {
    return encodeFrame({
      type: 'DISCONNECT',
      body: compact({ msg_id: this.#nextMsgId(), msg_date: this.#date(), reconnect }),
    });
  }

  error(code: number, descr: string): Uint8Array {
    return encodeFrame({
      type: 'ERROR',
      body: { msg_id: this.#nextMsgId(), msg_date: this.#date(), code, descr },
    });
  }

  #nextMsgId(): number {
    this.#msgId = (this.#msgId + 1) >>> 0;
    return this.#msgId;
  }

  #date(): Long {
    return Long.fromNumber(this.now(), true);
  }
}

/**
 * Drops scalars at their default (0, false, '') so they stay off the wire, keeping -1 and
 * every nested message (an empty nested message is meaningful: SetActive{} = inactive).
 */
function compact<T>(value: T): T {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array || Long.isLong(value))
    return value;
  if (Array.isArray(value)) return value.map((v) => compact(v as unknown)) as T;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined || v === null || v === 0 || v === false || v === '') continue;
    if (Long.isLong(v) && (v as Long).isZero()) continue;
    out[key] = compact(v);
  }
  return out as T;
}
