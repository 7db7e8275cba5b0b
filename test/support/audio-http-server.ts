import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname } from 'node:path';

/**
 * Serves audio files like a CDN, on 127.0.0.1 port 0: `Accept-Ranges: bytes`, 206 for a
 * single `Range`, HEAD, Content-Type by suffix. MPD 0.23 seeks by re-opening the URL with
 * a Range request (docs/protocol.md §9.2), so a CDN without ranges would silently restart tracks.
 *
 * Usage: `const cdn = new AudioHttpServer(); await cdn.start(); cdn.add('/a.flac', file);`
 * then give MPD `cdn.url('/a.flac')`; `cdn.requests` records every answer.
 */

export interface AudioRequest {
  /** Path without query string. */
  readonly path: string;
  readonly method: string;
  /** The raw Range header, or null. */
  readonly range: string | null;
  readonly status: number;
  /** Date.now() when the request arrived. */
  readonly at: number;
}

const CONTENT_TYPES: Record<string, string> = {
  '.flac': 'audio/flac',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
};

export class AudioHttpServer {
  readonly requests: AudioRequest[] = [];
  readonly #files = new Map<string, string>();
  readonly #failures = new Map<string, number>();
  readonly #redirects = new Map<string, string>();
  #server: Server | undefined;
  #port = 0;

  /** Serves `file` at `path` (e.g. `/track-1.flac`). */
  add(path: string, file: string): this {
    this.#files.set(path, file);
    return this;
  }

  /** From now on `path` answers `status` (e.g. 404, 403, 500); `null` heals it. */
  fail(path: string, status: number | null): this {
    if (status === null) this.#failures.delete(path);
    else this.#failures.set(path, status);
    return this;
  }

  /** `fromPath` answers 302 to `toUrl` (MPD follows up to 5 redirects). */
  redirect(fromPath: string, toUrl: string): this {
    this.#redirects.set(fromPath, toUrl);
    return this;
  }

  get baseUrl(): string {
    if (!this.#server) throw new Error('AudioHttpServer not started');
    return `http://127.0.0.1:${this.#port}`;
  }

  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  /** Requests seen for `path` (all when omitted). */
  requestsFor(path: string): AudioRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const method = req.method ?? 'GET';
    const range = req.headers.range ?? null;
    const answer = (status: number) => this.requests.push({ path, method, range, status, at: Date.now() });

    const failure = this.#failures.get(path);
    const redirect = this.#redirects.get(path);
    const file = this.#files.get(path);
    if (failure !== undefined || (!redirect && !file) || (method !== 'GET' && method !== 'HEAD')) {
      const status = failure ?? (file || redirect ? 405 : 404);
      answer(status);
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(method === 'HEAD' ? undefined : `status ${status}\n`);
      return;
    }
    if (redirect) {
      answer(302);
      res.writeHead(302, { Location: redirect, 'Content-Length': '0' });
      res.end();
      return;
    }
    const size = (await stat(file as string)).size;
    const headers: Record<string, string> = {
      'Accept-Ranges': 'bytes',
      'Content-Type': CONTENT_TYPES[extname(path)] ?? 'application/octet-stream',
    };
    const span = range === null ? { start: 0, end: size - 1 } : parseRange(range, size);
    if (span === null) {
      answer(416);
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}` });
      res.end();
      return;
    }
    const status = range === null ? 200 : 206;
    if (status === 206) headers['Content-Range'] = `bytes ${span.start}-${span.end}/${size}`;
    headers['Content-Length'] = String(span.end - span.start + 1);
    answer(status);
    res.writeHead(status, headers);
    if (method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file as string, { start: span.start, end: span.end })
      .on('error', () => res.destroy())
      .pipe(res);
  }
}

/** One `bytes=a-b`, `bytes=a-` or `bytes=-n` range; null when unsatisfiable or multi-range. */
export function parseRange(header: string, size: number): { start: number; end: number } | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return null;
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return null;
  return { start, end };
}
