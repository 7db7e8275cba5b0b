import type { Logger } from 'pino';
import { QcbError, errorMessage } from '../core/qcb-error.js';

/**
 * Album images for MPD clients (issue #16, docs/protocol.md §9.4): MPD opens `cover.*` beside
 * our stream URL again for every client's `albumart`, and Home Assistant asks again at every
 * song change, so the image is fetched once and served from memory. Bounded in
 * size and time; the last few images are kept (the current and the next item's).
 */
export interface CoverImage {
  readonly bytes: Buffer;
  readonly contentType: string;
}

export interface CoverFetcherOptions {
  readonly logger: Logger;
  /** Default 4 MiB: a Qobuz `large` cover is about 100 KiB. */
  readonly maxBytes?: number;
  /** Default 5 s for the whole download. */
  readonly timeoutMs?: number;
  /** Images kept in memory, default 4. */
  readonly keep?: number;
}

export class CoverFetcher {
  readonly #log: Logger;
  readonly #maxBytes: number;
  readonly #timeoutMs: number;
  readonly #keep: number;
  /** By URL, oldest first; a pending download is shared by everyone asking meanwhile. */
  readonly #images = new Map<string, Promise<CoverImage>>();

  constructor(options: CoverFetcherOptions) {
    this.#log = options.logger;
    this.#maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#keep = Math.max(1, options.keep ?? 4);
  }

  /** The image at `url`; rejects with ERR_COVER_UNAVAILABLE (a failure is not kept). */
  get(url: string): Promise<CoverImage> {
    const known = this.#images.get(url);
    if (known) {
      this.#images.delete(url);
      this.#images.set(url, known);
      return known;
    }
    const loading = this.#download(url);
    this.#images.set(url, loading);
    loading.catch(() => this.#images.delete(url));
    while (this.#images.size > this.#keep) {
      const oldest = this.#images.keys().next();
      if (oldest.done) break;
      this.#images.delete(oldest.value);
    }
    return loading;
  }

  async #download(url: string): Promise<CoverImage> {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.#timeoutMs), redirect: 'follow' });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      const declared = Number(res.headers.get('content-length') ?? 0);
      if (declared > this.#maxBytes) throw new Error(`image of ${declared} bytes is over ${this.#maxBytes}`);
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Uint8Array).byteLength;
        if (size > this.#maxBytes) throw new Error(`image over ${this.#maxBytes} bytes`);
        chunks.push(Buffer.from(chunk as Uint8Array));
      }
      const type = res.headers.get('content-type') ?? '';
      return { bytes: Buffer.concat(chunks), contentType: type.startsWith('image/') ? type : imageType(url) };
    } catch (err) {
      this.#log.debug({ err: errorMessage(err) }, 'album image unavailable');
      throw new QcbError('ERR_COVER_UNAVAILABLE', `album image unavailable: ${errorMessage(err)}`);
    }
  }
}

function imageType(url: string): string {
  return /\.png(?:$|\?)/i.test(url) ? 'image/png' : 'image/jpeg';
}
