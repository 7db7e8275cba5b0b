/**
 * Reconnect delays. The default steps are the Qobuz web player's (docs/protocol.md §5.12):
 * 100 ms, 200 ms, 500 ms, 1, 2, 5, 10, 20 s, reset after 40 s of a stable connection.
 */
export const WEB_PLAYER_STEPS_MS = [100, 200, 500, 1000, 2000, 5000, 10_000, 20_000] as const;

export class Backoff {
  #attempt = 0;
  #stableSince: number | undefined;

  constructor(
    private readonly stepsMs: readonly number[] = WEB_PLAYER_STEPS_MS,
    private readonly resetAfterMs = 40_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Delay before the next attempt; grows through the steps and stays at the last. */
  next(): number {
    if (this.#stableSince !== undefined && this.now() - this.#stableSince >= this.resetAfterMs) this.#attempt = 0;
    this.#stableSince = undefined;
    const delay = this.stepsMs[Math.min(this.#attempt, this.stepsMs.length - 1)] ?? 1000;
    this.#attempt++;
    return delay;
  }

  get attempts(): number {
    return this.#attempt;
  }

  /** The connection is up: the steps reset once it has stayed up for `resetAfterMs`. */
  connected(): void {
    this.#stableSince = this.now();
  }
}
