import type { Logger } from 'pino';
import { errorMessage } from '../core/qcb-error.js';
import { loggableUrl } from './api-answers.js';
import type { StreamUrl } from './qobuz-api.js';
import { clampLevel } from './quality-levels.js';

/** What the resolver needs from QobuzApi (tests may pass a fake). */
export interface FileUrlSource {
  getFileUrl(trackId: number, maxLevel: number): Promise<StreamUrl>;
}

export interface StreamUrlResolverOptions {
  readonly api: FileUrlSource;
  readonly logger: Logger;
  /** Resolve a new URL this long before the cached one expires (default 60 s). */
  readonly refreshAheadMs?: number;
  /** Cached URLs kept (default 64: a queue window and its seeks, not the whole queue). */
  readonly maxEntries?: number;
  readonly now?: () => number;
}

/**
 * Signed stream URLs resolved just in time (docs/protocol.md §7 "URL lifetime"
 * and §9.2, the stream route). MPD hits the stream route at every start and every seek,
 * so a fresh cached URL answers; shortly before its expiry a new one is resolved. When
 * that fails while the old one is still valid, the old one is served (and logged).
 * Concurrent requests for the same track and level share one resolution.
 */
export class StreamUrlResolver {
  readonly #log: Logger;
  readonly #cache = new Map<string, StreamUrl>();
  readonly #pending = new Map<string, Promise<StreamUrl>>();
  readonly #refreshAheadMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(private readonly options: StreamUrlResolverOptions) {
    this.#log = options.logger.child({ module: 'stream-url-resolver' });
    this.#refreshAheadMs = options.refreshAheadMs ?? 60_000;
    this.#maxEntries = Math.max(1, options.maxEntries ?? 64);
    this.#now = options.now ?? Date.now;
  }

  /** A signed URL for `trackId` at the best format `maxLevel` (QConnect 1-4) allows right now. */
  async resolve(trackId: number, maxLevel: number): Promise<StreamUrl> {
    const key = `${trackId}:${clampLevel(maxLevel)}`;
    const cached = this.#cache.get(key);
    const now = this.#now();
    if (cached && cached.expiresAtMs - now > this.#refreshAheadMs) {
      this.#log.debug({ trackId, formatId: cached.formatId }, 'stream url from cache');
      return cached;
    }
    try {
      return await this.#resolveShared(key, trackId, maxLevel);
    } catch (err) {
      if (cached && cached.expiresAtMs > this.#now()) {
        this.#log.warn(
          { trackId, reason: errorMessage(err) },
          'stream url renewal failed, serving the cached one',
        );
        return cached;
      }
      throw err;
    }
  }

  /** Forget a track's URLs (e.g. the player reported the CDN refused it). */
  invalidate(trackId: number): void {
    for (const key of [...this.#cache.keys()]) if (key.startsWith(`${trackId}:`)) this.#cache.delete(key);
  }

  #resolveShared(key: string, trackId: number, maxLevel: number): Promise<StreamUrl> {
    const pending = this.#pending.get(key);
    if (pending) return pending;
    const resolving = this.options.api
      .getFileUrl(trackId, maxLevel)
      .then((resolved) => {
        this.#store(key, resolved);
        this.#log.debug(
          { trackId, formatId: resolved.formatId, cdn: loggableUrl(resolved.url) },
          'stream url resolved',
        );
        return resolved;
      })
      .finally(() => this.#pending.delete(key));
    this.#pending.set(key, resolving);
    return resolving;
  }

  #store(key: string, value: StreamUrl): void {
    this.#cache.delete(key);
    this.#cache.set(key, value);
    while (this.#cache.size > this.#maxEntries) {
      const oldest = this.#cache.keys().next();
      if (oldest.done) break;
      this.#cache.delete(oldest.value);
    }
  }
}
