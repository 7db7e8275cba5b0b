/**
 * README "Security" (issue #26): connects are rate-limited per source address and player, a few a
 * minute. A sliding window of the last attempts per (address, player); the number of keys is
 * bounded too, so a flood from many addresses cannot grow memory: the key that waited longest is
 * forgotten first.
 */
export class ConnectRateLimit {
  readonly #perWindow: number;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  /** Attempt times per key, oldest first; a Map keeps insertion order, refreshed on each attempt. */
  readonly #attempts = new Map<string, number[]>();

  constructor(o: { perWindow: number; windowMs: number; maxKeys?: number; now?: () => number }) {
    this.#perWindow = Math.max(1, Math.floor(o.perWindow));
    this.#windowMs = o.windowMs;
    this.#maxKeys = o.maxKeys ?? 1024;
    this.#now = o.now ?? Date.now;
  }

  /**
   * Counts one attempt by `address` at `playerId`: 0 when it may go on, else the seconds until the
   * next one would be allowed (the Retry-After of a 429).
   */
  attempt(address: string, playerId: string): number {
    const key = `${address}|${playerId}`;
    const now = this.#now();
    const times = (this.#attempts.get(key) ?? []).filter((t) => now - t < this.#windowMs);
    this.#attempts.delete(key);
    if (times.length >= this.#perWindow) {
      this.#attempts.set(key, times);
      return Math.max(1, Math.ceil((times[0]! + this.#windowMs - now) / 1000));
    }
    times.push(now);
    this.#attempts.set(key, times);
    while (this.#attempts.size > this.#maxKeys) {
      const oldest = this.#attempts.keys().next();
      if (oldest.done) break;
      this.#attempts.delete(oldest.value);
    }
    return 0;
  }
}

/** The peer's address as one spelling: `::ffff:127.0.0.2` is 127.0.0.2. */
export function sourceAddress(remote: string | undefined): string {
  if (!remote) return 'unknown';
  return remote.startsWith('::ffff:') && remote.includes('.') ? remote.slice(7) : remote;
}
