import type { VolumeRequest } from '../../core/player-view.js';

/**
 * `players[].volume.mode: external` (README "Volume modes"): the amplifier owns the volume and an
 * automation drives it. A volume intent is published as a request with its target level; the
 * amplifier's real level comes back as a report (`{"volume_report": n}`), and only then is a volume
 * reported as applied. Part of SessionPlayback: touched only from the session's loop
 * (docs/architecture.md "One owner per player"); the timeout is the loop's (PlayerSession).
 */
export class ExternalVolume {
  readonly #publish: (request: VolumeRequest) => void;
  /** Requests sent so far, and the last one the amplifier answered (or that timed out). */
  #requested = 0;
  #settled = 0;
  #target: number | null = null;

  constructor(publish: (request: VolumeRequest) => void) {
    this.#publish = publish;
  }

  /** The level asked for and not answered yet: the base of the next delta. */
  get target(): number | null {
    return this.#target;
  }

  /** Publishes the intent; returns its number, for whoever waits for the report. */
  request(volume: number, delta: number | null, source: VolumeRequest['source']): number {
    this.#target = Math.max(0, Math.min(100, Math.round(volume)));
    this.#publish({ volume: this.#target, delta, source });
    return ++this.#requested;
  }

  /** The amplifier answered: every request so far is settled by the level it has now. */
  report(): void {
    this.#settled = this.#requested;
    this.#target = null;
  }

  /** True once request `n` was answered by a report, or timed out. */
  settled(n: number): boolean {
    return this.#settled >= n;
  }

  /** Request `n` got no report in time; true when it was still the newest one open (so the app must hear the real level). */
  timedOut(n: number): boolean {
    if (this.#settled >= n || n !== this.#requested) return false;
    this.#settled = n;
    this.#target = null;
    return true;
  }
}
