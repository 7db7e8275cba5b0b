import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';
import { errorMessage } from '../core/qcb-error.js';
import type { WireRecord } from './wire-record.js';

export interface WireRecorderOptions {
  /** The recording; rotated files are `<file>.1` (the newest) … `<file>.<files - 1>`. */
  readonly file: string;
  /** A file is rotated before it would grow past this. */
  readonly maxBytes: number;
  /** Files kept, the current one included. */
  readonly files: number;
  readonly logger: Logger;
  /** Called once when a write failed and the recorder turned itself off. */
  readonly onFailed?: (reason: string) => void;
}

/** Records waiting for the disk beyond this are dropped (a stalled disk must not grow memory). */
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

/**
 * Appends records to a JSON Lines file, bounded in size with rotation (README "Reporting a
 * problem"). `write` is synchronous and O(1): it queues the line and returns, and one flush at a
 * time writes whatever queued, off the caller's turn. So a player's loop never waits for the
 * disk, and nothing it does throws: a failed write logs one warning and the recorder stays off.
 */
export class WireRecorder {
  readonly #o: WireRecorderOptions;
  #queue: Buffer[] = [];
  #queuedBytes = 0;
  #handle: FileHandle | null = null;
  #size = 0;
  #flushing: Promise<void> | null = null;
  #failed = false;
  #closed = false;
  #dropped = 0;

  constructor(options: WireRecorderOptions) {
    this.#o = options;
  }

  get file(): string {
    return this.#o.file;
  }

  /** True once a write failed: the recorder is off for good (a new one may be made). */
  get failed(): boolean {
    return this.#failed;
  }

  /** Records dropped because the disk fell behind. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Opens (or creates) the file now, so that a bad path is reported to whoever turned recording on. */
  async open(): Promise<void> {
    if (this.#handle || this.#failed || this.#closed) return;
    const handle = await open(this.#o.file, 'a', 0o600);
    this.#size = (await handle.stat()).size;
    this.#handle = handle;
  }

  write(record: WireRecord): void {
    if (this.#failed || this.#closed) return;
    const line = Buffer.from(`${JSON.stringify(record)}\n`);
    if (this.#queuedBytes + line.length > MAX_QUEUED_BYTES) {
      this.#dropped++;
      return;
    }
    this.#queue.push(line);
    this.#queuedBytes += line.length;
    this.#flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#drain());
  }

  /** Resolves once everything written so far is on disk (or dropped after a failure). */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    const handle = this.#handle;
    this.#handle = null;
    await handle?.close().catch(() => {});
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#failed) {
        const batch = this.#queue;
        this.#queue = [];
        this.#queuedBytes = 0;
        await this.#writeBatch(batch);
      }
    } catch (err) {
      this.#fail(errorMessage(err));
    } finally {
      this.#flushing = null;
      // A line queued while the last write finished starts the next drain.
      if (this.#queue.length > 0 && !this.#failed) this.#flushing = this.#drain();
    }
  }

  async #writeBatch(lines: Buffer[]): Promise<void> {
    if (!this.#handle) await this.open();
    let chunk: Buffer[] = [];
    let chunkBytes = 0;
    for (const line of lines) {
      if (this.#size + chunkBytes > 0 && this.#size + chunkBytes + line.length > this.#o.maxBytes) {
        await this.#append(chunk, chunkBytes);
        chunk = [];
        chunkBytes = 0;
        await this.#rotate();
      }
      chunk.push(line);
      chunkBytes += line.length;
    }
    await this.#append(chunk, chunkBytes);
  }

  async #append(chunk: Buffer[], bytes: number): Promise<void> {
    if (bytes === 0 || !this.#handle) return;
    await this.#handle.write(Buffer.concat(chunk, bytes));
    this.#size += bytes;
  }

  async #rotate(): Promise<void> {
    const file = this.#o.file;
    await this.#handle?.close();
    this.#handle = null;
    const keep = this.#o.files - 1;
    if (keep < 1) await rm(file, { force: true });
    else {
      await rm(`${file}.${keep}`, { force: true });
      for (let k = keep - 1; k >= 1; k--) await rename(`${file}.${k}`, `${file}.${k + 1}`).catch(ignoreMissing);
      await rename(file, `${file}.1`);
    }
    await this.open();
  }

  #fail(reason: string): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    const handle = this.#handle;
    this.#handle = null;
    void handle?.close().catch(() => {});
    this.#o.logger.warn({ file: this.#o.file, err: reason }, 'wire recording failed: recorder off');
    this.#o.onFailed?.(reason);
  }
}

function ignoreMissing(err: unknown): void {
  if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
}
