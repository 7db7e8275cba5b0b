import Long from 'long';
import { messagesOf, type FrameType } from '../../src/protocol/frame-codec.js';
import type { qconnect } from '../../src/protocol/generated/qconnect.js';

/**
 * What the simulated Qobuz Connect service records and exposes to tests: frames and messages
 * as received (decoded, timestamped with the service clock), renderer state views, uuid
 * helpers, and a poll-with-deadline waiter (docs/conventions.md principle 11: no fixed sleeps in tests).
 */

/** One message of a Payload's batch, as a renderer sent it (or as the service delivered it). */
export interface RecordedMessage {
  /** Position in its list (sent() / delivered()): pass it as `after` to wait for later ones. */
  readonly index: number;
  /** Service-wide arrival order: compares messages of different renderers (sent and delivered share it). */
  readonly seq: number;
  /** Service clock (`now()`) when the frame arrived / was sent. */
  readonly at: number;
  /** Message type number (1 ERROR … 105); unknown types keep their number, `body` is then the raw Message. */
  readonly type: number;
  readonly body: unknown;
  readonly frameMsgId: number;
  readonly messagesId: number;
  /** Batch messages_time (epoch ms). */
  readonly messagesTime: number;
}

/** As stored: `index` is given when a list is read (a renderer's messages span its connections). */
export type StoredMessage = Omit<RecordedMessage, 'index'>;

/** The messages of one Payload, stamped for the record. */
export function storedMessagesOf(
  payload: qconnect.Payload,
  at: number,
  nextSeq: () => number,
): StoredMessage[] {
  const frameMsgId = payload.msg_id ?? 0;
  const messagesId = payload.payload?.messages_id ?? 0;
  const messagesTime = toNumber(payload.payload?.messages_time);
  return messagesOf(payload).map((m) => ({
    seq: nextSeq(),
    at,
    type: m.type === 'unknown' ? m.messageType : m.type,
    body: m.type === 'unknown' ? m.raw : m.body,
    frameMsgId,
    messagesId,
    messagesTime,
  }));
}

/** Merges per-connection lists in arrival order and numbers them. */
export function indexed(lists: ReadonlyArray<readonly StoredMessage[]>): RecordedMessage[] {
  return lists
    .flat()
    .sort((a, b) => a.seq - b.seq)
    .map((m, index) => ({ ...m, index }));
}

/**
 * A renderer's messages across its connections, merged in arrival order and grown
 * incrementally, so tests that poll sent() on every frame stay linear in long runs.
 */
export class MergedLog {
  #list: RecordedMessage[] = [];
  readonly #taken = new Map<readonly StoredMessage[], number>();

  /** The merged list itself (no copy): for internal scans; callers must not keep or mutate it. */
  read(lists: ReadonlyArray<readonly StoredMessage[]>): readonly RecordedMessage[] {
    const fresh: StoredMessage[] = [];
    for (const l of lists) {
      const from = this.#taken.get(l) ?? 0;
      if (l.length > from) fresh.push(...l.slice(from));
      this.#taken.set(l, l.length);
    }
    if (fresh.length > 0) {
      fresh.sort((a, b) => a.seq - b.seq);
      const last = this.#list.at(-1);
      // Overlapping connections (an eviction in progress) can interleave: then renumber everything.
      if (last && (fresh[0]?.seq ?? 0) < last.seq) this.#list = indexed([this.#list, fresh]);
      else for (const m of fresh) this.#list.push({ ...m, index: this.#list.length });
    }
    return this.#list;
  }
}

/** One envelope as received from a client. `MALFORMED` = bytes our codec refused (kept, connection kept). */
export interface RecordedFrame {
  readonly seq: number;
  readonly at: number;
  readonly connectionId: number;
  readonly type: FrameType | 'MALFORMED';
  /** The decoded envelope body (undefined for MALFORMED / UNKNOWN). */
  readonly body: unknown;
  readonly raw: Uint8Array;
  readonly error?: string;
}

/** A renderer's last QueueRendererState (23 or 21 initial_state), with plain numbers. */
export interface RendererStateView {
  readonly playingState: number;
  readonly bufferState: number;
  readonly positionMs: number;
  /** Epoch ms at which positionMs held. */
  readonly positionAt: number;
  readonly durationMs: number;
  readonly queueVersion: { major: number; minor: number } | null;
  /** 0 when absent on the wire (proto3 presence, §4), -1 = none. */
  readonly currentQueueItemId: number;
  readonly nextQueueItemId: number;
  /** Service clock when it was received. */
  readonly receivedAt: number;
}

export interface FileQualityView {
  readonly samplingRate: number;
  readonly bitDepth: number;
  readonly channels: number;
  readonly audioQuality: number;
}

export const toNumber = (v: number | Long | null | undefined): number =>
  v === null || v === undefined ? 0 : Long.isLong(v) ? (v as Long).toNumber() : (v as number);

export function stateView(s: qconnect.QueueRendererState.$Properties, receivedAt: number): RendererStateView {
  return {
    playingState: s.playing_state ?? 0,
    bufferState: s.buffer_state ?? 0,
    positionMs: s.current_position?.value ?? 0,
    positionAt: toNumber(s.current_position?.timestamp),
    durationMs: s.duration ?? 0,
    queueVersion: s.queue_version
      ? { major: s.queue_version.major ?? 0, minor: s.queue_version.minor ?? 0 }
      : null,
    currentQueueItemId: s.current_queue_item_id ?? 0,
    nextQueueItemId: s.next_queue_item_id ?? 0,
    receivedAt,
  };
}

/** RendererState (inside 82) from a stored view: QueueRendererState without version and next item (§4). */
export function rendererStateOf(v: RendererStateView): qconnect.RendererState.$Properties {
  return {
    playing_state: v.playingState,
    buffer_state: v.bufferState,
    current_position: { timestamp: Long.fromNumber(v.positionAt, true), value: v.positionMs },
    duration: v.durationMs,
    current_queue_item_id: v.currentQueueItemId,
  };
}

export function uuidBytes(hyphenated: string): Uint8Array {
  const hex = hyphenated.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`not a uuid: ${hyphenated}`);
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

export function uuidString(bytes: Uint8Array | null | undefined): string | undefined {
  if (!bytes || bytes.length !== 16) return undefined;
  const h = Buffer.from(bytes).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Timers captured when this module loads, so the simulator keeps working (waits time out,
 * answer delays elapse) in tests that install vi.useFakeTimers() for the code under test.
 */
export const realTimers = {
  setTimeout: globalThis.setTimeout.bind(globalThis),
  clearTimeout: globalThis.clearTimeout.bind(globalThis),
  setInterval: globalThis.setInterval.bind(globalThis),
  clearInterval: globalThis.clearInterval.bind(globalThis),
  now: Date.now.bind(Date),
};

/**
 * Promises that resolve as soon as a predicate holds: checked whenever `check()` is called
 * (on every frame the service handles) and on a short poll, rejected naming `what` on timeout.
 */
export class Waiters {
  readonly #pending = new Set<() => void>();

  check(): void {
    for (const run of [...this.#pending]) run();
  }

  waitFor<T>(
    pred: () => T | undefined | false | null,
    opts: { timeoutMs?: number; what?: string } = {},
  ): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    return new Promise<T>((resolve, reject) => {
      const done = (): void => {
        this.#pending.delete(run);
        realTimers.clearInterval(poll);
        realTimers.clearTimeout(timer);
      };
      const run = (): void => {
        let value: T | undefined | false | null;
        try {
          value = pred();
        } catch (err) {
          done();
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (value) {
          done();
          resolve(value);
        }
      };
      const poll = realTimers.setInterval(run, 10);
      const timer = realTimers.setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'a condition'}`));
      }, timeoutMs);
      this.#pending.add(run);
      queueMicrotask(run);
    });
  }
}
