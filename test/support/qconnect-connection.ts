import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { decodeFrames } from '../../src/protocol/frame-codec.js';
import { FrameWriter, SERVICE_ADDRESS, type OutgoingMessage } from '../../src/protocol/frame-writer.js';
import { realTimers, storedMessagesOf, type RecordedFrame, type StoredMessage } from './qconnect-records.js';

/**
 * One client WebSocket of the simulated service: its handshake headers, where it is in the
 * Authenticate → Subscribe → join sequence (docs/protocol.md §3, §5.1), what it sent, and
 * an ordered outbox so `setAnswerDelay` delays without reordering.
 */

/** Service-wide switches the connection consults on every send. */
export interface ConnectionContext {
  readonly now: () => number;
  /** Service-wide arrival counter, so lists merged across connections keep their order. */
  nextSeq(): number;
  delayMs(): number;
  unresponsive(): boolean;
}

export type ConnectionPhase = 'connected' | 'authenticated' | 'subscribed' | 'joined' | 'closed';

export interface ConnectionView {
  readonly id: number;
  readonly origin: string | undefined;
  readonly userAgent: string | undefined;
  /** Negotiated subprotocol ('' when none). */
  readonly protocol: string;
  readonly url: string;
  readonly phase: ConnectionPhase;
  readonly sessionId: string | undefined;
  /** The token it authenticated with (to expire it: QconnectService.expireToken). */
  readonly jwt: string | undefined;
  readonly rendererId: number | undefined;
  readonly frames: readonly RecordedFrame[];
  /** WebSocket close code seen by the service (1006 when terminated), null while open. */
  readonly closeCode: number | null;
  /** Why the service closed it, when it did ('unauthorized', 'evicted', 'replaced', 'dropped' …). */
  readonly closedBy: string | null;
}

export class SimConnection implements ConnectionView {
  readonly origin: string | undefined;
  readonly userAgent: string | undefined;
  readonly url: string;
  readonly writer: FrameWriter;
  phase: ConnectionPhase = 'connected';
  jwt: string | undefined;
  sessionId: string | undefined;
  rendererId: number | undefined;
  readonly frames: RecordedFrame[] = [];
  /** Messages this client sent, in order. */
  readonly messages: StoredMessage[] = [];
  /** Messages the service sent to this client (recorded when queued, decoded from the bytes). */
  readonly delivered: StoredMessage[] = [];
  closeCode: number | null = null;
  closedBy: string | null = null;
  #outbox: Array<{ dueAt: number; run: () => void }> = [];
  #timer: NodeJS.Timeout | null = null;

  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    req: IncomingMessage,
    private readonly ctx: ConnectionContext,
  ) {
    this.origin = req.headers.origin;
    this.userAgent = req.headers['user-agent'];
    this.url = req.url ?? '';
    this.writer = new FrameWriter(ctx.now);
  }

  get protocol(): string {
    return this.ws.protocol;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** A batch from the service (src = 0x02, no dests, §3). Dropped while the service is unresponsive unless `explicit`. */
  sendMessages(messages: OutgoingMessage[], explicit = false): void {
    if (messages.length === 0 || !this.open || (!explicit && this.ctx.unresponsive())) return;
    const bytes = this.writer.payload(messages, { src: SERVICE_ADDRESS });
    const frame = decodeFrames(bytes)[0];
    if (frame?.type === 'PAYLOAD')
      this.delivered.push(...storedMessagesOf(frame.body, this.ctx.now(), () => this.ctx.nextSeq()));
    this.sendBytes(bytes, explicit);
  }

  sendBytes(bytes: Uint8Array, explicit = false): void {
    if (!explicit && this.ctx.unresponsive()) return;
    this.#schedule(() => {
      if (this.open) this.ws.send(bytes);
    });
  }

  /** Closes after everything already queued has gone out. */
  closeAfterQueue(code: number, reason: string, by: string): void {
    this.#schedule(() => {
      this.closedBy ??= by;
      if (this.open) this.ws.close(code, reason);
    });
  }

  /** Ends the socket without a close frame. */
  terminate(by: string): void {
    this.closedBy ??= by;
    this.#dropOutbox();
    this.ws.terminate();
  }

  closed(code: number): void {
    this.phase = 'closed';
    this.closeCode = code;
    this.#dropOutbox();
  }

  #schedule(run: () => void): void {
    const delay = this.ctx.delayMs();
    if (delay <= 0 && this.#outbox.length === 0) {
      run();
      return;
    }
    this.#outbox.push({ dueAt: realTimers.now() + Math.max(0, delay), run });
    this.#pump();
  }

  #pump(): void {
    const head = this.#outbox[0];
    if (this.#timer || !head) return;
    this.#timer = realTimers.setTimeout(
      () => {
        this.#timer = null;
        while (this.#outbox[0] && this.#outbox[0].dueAt <= realTimers.now()) this.#outbox.shift()?.run();
        this.#pump();
      },
      Math.max(0, head.dueAt - realTimers.now()),
    );
  }

  #dropOutbox(): void {
    if (this.#timer) realTimers.clearTimeout(this.#timer);
    this.#timer = null;
    this.#outbox = [];
  }
}
