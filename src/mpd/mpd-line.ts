import { connect, type Socket } from 'node:net';
import { TypedEmitter } from '../util/typed-emitter.js';

/**
 * One MPD protocol connection (docs/protocol.md §9.1): commands one at a time; a watching
 * connection sits in `idle` whenever no command waits, so changes made by anyone arrive as
 * `changed` events. MpdClient uses one of each: commands never wait for an `idle` to be left.
 *
 * It writes one thing at a time and only after MPD's previous answer has arrived. That order
 * matters for latency: MPD does not disable Nagle, so an answer MPD writes while its previous one
 * is still unacknowledged waits for our delayed ACK, about 40 ms. A client that pipelines
 * `noidle`, the command and `idle` (as mpd2 does) hits that on a good share of its commands
 * (bench/latency measured a p99 of 43 ms against a 3 ms floor). Written after the answer, each of
 * our lines carries the ACK for it, and MPD's next answer leaves at once.
 */

export interface MpdLineEvents {
  [event: string]: unknown[];
  /** An idle subsystem changed (`player`, `mixer`, `playlist`, `options`, …). */
  changed: [subsystem: string];
  /** The socket is gone; emitted once. */
  closed: [];
}

/** MPD answered `ACK [error@list] {command} message`. */
export class MpdAckError extends Error {
  readonly ack: number;
  constructor(line: string) {
    const m = /^ACK \[(\d+)@\d+\] \{[^}]*\} ?(.*)$/.exec(line);
    super(m ? (m[2] ?? line) : line);
    this.name = 'MpdAckError';
    this.ack = m ? Number(m[1]) : 0;
  }
}

interface Pending {
  readonly line: string;
  readonly resolve: (text: string) => void;
  readonly reject: (err: Error) => void;
}

type InFlight = { readonly kind: 'command'; readonly pending: Pending } | { readonly kind: 'idle' } | { readonly kind: 'greeting' };

/** An answer ends with one of these lines (we never send command lists, so no `list_OK`). */
const END = /^(OK|ACK .*)$/;

export class MpdLine {
  readonly events = new TypedEmitter<MpdLineEvents>();
  readonly #socket: Socket;
  readonly #queue: Pending[] = [];
  #inFlight: InFlight | null = { kind: 'greeting' };
  #noidleSent = false;
  #buffer: Buffer = Buffer.alloc(0);
  #closed = false;
  #greeted: { resolve: () => void; reject: (err: Error) => void } | null = null;

  readonly #watch: boolean;

  private constructor(socket: Socket, watch: boolean) {
    this.#socket = socket;
    this.#watch = watch;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => this.#close(new Error('MPD socket error')));
    socket.on('close', () => this.#close(new Error('MPD connection closed')));
  }

  /** Connects, reads the `OK MPD x.y.z` greeting and sends the password when one is given. */
  static async connect(o: { host: string; port: number; password?: string; watch: boolean }): Promise<MpdLine> {
    const line = new MpdLine(connect({ host: o.host, port: o.port }), o.watch);
    await new Promise<void>((resolve, reject) => (line.#greeted = { resolve, reject }));
    if (o.password) await line.command(`password ${quoteArg(o.password)}`);
    line.#pump();
    return line;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one command line; resolves with the answer's lines before `OK`, rejects with MpdAckError. */
  command(line: string): Promise<string> {
    if (this.#closed) return Promise.reject(new Error('MPD connection closed'));
    return new Promise<string>((resolve, reject) => {
      this.#queue.push({ line, resolve, reject });
      this.#pump();
    });
  }

  /** Ends the connection; pending commands reject. */
  close(): void {
    this.#socket.destroy();
    this.#close(new Error('MPD connection closed'));
  }

  /** Writes the next thing, only when nothing is awaiting an answer (see the class comment). */
  #pump(): void {
    if (this.#closed || this.#greeted) return;
    const busy = this.#inFlight;
    if (busy) {
      // Idle holds the connection until told otherwise: leave it, then the command goes next.
      if (busy.kind === 'idle' && this.#queue.length > 0 && !this.#noidleSent) {
        this.#noidleSent = true;
        this.#socket.write('noidle\n');
      }
      return;
    }
    const next = this.#queue.shift();
    if (next) {
      this.#inFlight = { kind: 'command', pending: next };
      this.#socket.write(`${next.line}\n`);
      return;
    }
    if (!this.#watch) return;
    this.#inFlight = { kind: 'idle' };
    this.#noidleSent = false;
    this.#socket.write('idle\n');
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const answer = this.#takeAnswer();
      if (answer === null) return;
      this.#settle(answer.lines, answer.end);
    }
  }

  /** Cuts one whole answer off the buffer (text lines, and `binary: N` payloads skipped over). */
  #takeAnswer(): { lines: string[]; end: string } | null {
    const lines: string[] = [];
    let at = 0;
    for (;;) {
      const nl = this.#buffer.indexOf(0x0a, at);
      if (nl < 0) return null;
      const line = this.#buffer.toString('utf8', at, nl);
      at = nl + 1;
      if (this.#inFlight?.kind === 'greeting') {
        this.#buffer = this.#buffer.subarray(at);
        return { lines: [], end: line };
      }
      const binary = /^binary: (\d+)$/.exec(line);
      if (binary) {
        const end = at + Number(binary[1]) + 1; // the payload and its newline
        if (this.#buffer.length < end) return null;
        lines.push(line);
        at = end;
        continue;
      }
      if (END.test(line)) {
        this.#buffer = this.#buffer.subarray(at);
        return { lines, end: line };
      }
      lines.push(line);
    }
  }

  #settle(lines: string[], end: string): void {
    const done = this.#inFlight;
    this.#inFlight = null;
    if (done?.kind === 'greeting') {
      const greeted = this.#greeted;
      this.#greeted = null;
      if (end.startsWith('OK MPD ')) greeted?.resolve();
      else {
        greeted?.reject(new Error(`not an MPD greeting: ${end.slice(0, 80)}`));
        this.close();
      }
      return;
    }
    if (done?.kind === 'command') {
      if (end === 'OK') done.pending.resolve(lines.length > 0 ? `${lines.join('\n')}\n` : '');
      else done.pending.reject(new MpdAckError(end));
    } else if (done?.kind === 'idle') {
      for (const l of lines) {
        const m = /^changed: (.+)$/.exec(l);
        if (m?.[1]) this.events.emit('changed', m[1]);
      }
    }
    this.#pump();
  }

  #close(err: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#greeted?.reject(err);
    this.#greeted = null;
    const inFlight = this.#inFlight;
    if (inFlight?.kind === 'command') inFlight.pending.reject(err);
    for (const p of this.#queue.splice(0)) p.reject(err);
    this.events.emit('closed');
  }
}

/** MPD's argument quoting: in double quotes, with `\` and `"` escaped. */
export function quoteArg(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
