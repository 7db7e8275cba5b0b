/**
 * The last N entries of something, in order, in memory (README "Reporting a problem": the bundle's
 * recent frames, MPD statuses and log lines). Bounded by count and, when entries say their size,
 * by bytes too: a flood of large frames keeps fewer of them, never more memory.
 */
export class BoundedRing<T> {
  readonly #items: T[] = [];
  readonly #sizes: number[] = [];
  #bytes = 0;

  constructor(
    private readonly maxItems: number,
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {
    if (!Number.isInteger(maxItems) || maxItems < 1) throw new RangeError('a ring holds at least one item');
  }

  /** Adds `item` (of `bytes` bytes), dropping the oldest entries past either bound. */
  push(item: T, bytes = 0): void {
    this.#items.push(item);
    this.#sizes.push(bytes);
    this.#bytes += bytes;
    // shift() is O(n) but n is a few hundred: cheaper than the bookkeeping of a circular buffer.
    while (this.#items.length > this.maxItems || (this.#bytes > this.maxBytes && this.#items.length > 1)) {
      this.#items.shift();
      this.#bytes -= this.#sizes.shift() ?? 0;
    }
  }

  /** Oldest first. */
  toArray(): T[] {
    return [...this.#items];
  }
}
