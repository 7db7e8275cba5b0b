/**
 * A bounded LRU of track metadata by track id, with one in-flight load per id: a queue of
 * 500 tracks arriving at once asks Qobuz once per track, and two sessions asking for the
 * same track share the answer. Entries older than `ttlMs` are loaded again (titles and
 * covers rarely change; streamability can).
 */
export interface TrackMetadataCacheOptions {
  readonly maxEntries?: number;
  readonly ttlMs?: number;
  readonly now?: () => number;
}

export class TrackMetadataCache<T> {
  readonly #entries = new Map<number, { value: T; atMs: number }>();
  readonly #loading = new Map<number, Promise<T>>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: TrackMetadataCacheOptions = {}) {
    this.#maxEntries = Math.max(1, options.maxEntries ?? 500);
    this.#ttlMs = options.ttlMs ?? 6 * 60 * 60 * 1000;
    this.#now = options.now ?? Date.now;
  }

  /** The cached value, or the result of `load` (stored on success, never on failure). */
  get(trackId: number, load: () => Promise<T>): Promise<T> {
    const hit = this.#entries.get(trackId);
    if (hit && this.#now() - hit.atMs < this.#ttlMs) {
      // Re-insert: Map keeps insertion order, so the first key is the least recently used.
      this.#entries.delete(trackId);
      this.#entries.set(trackId, hit);
      return Promise.resolve(hit.value);
    }
    const pending = this.#loading.get(trackId);
    if (pending) return pending;
    const loading = load()
      .then((value) => {
        this.#store(trackId, value);
        return value;
      })
      .finally(() => this.#loading.delete(trackId));
    this.#loading.set(trackId, loading);
    return loading;
  }

  #store(trackId: number, value: T): void {
    this.#entries.delete(trackId);
    this.#entries.set(trackId, { value, atMs: this.#now() });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }
}
