import type { PlayerCommand } from '../core/player-view.js';
import { QcbError } from '../core/qcb-error.js';

/**
 * Newest intent wins across MQTT commands (docs/architecture.md "The newest intent wins"): a
 * transport command supersedes a `play_media`, `transfer` or `play_item` still waiting for the
 * service or the speaker. The older one is answered at once with ERR_SUPERSEDED, and none of its
 * remaining steps runs. 'hold': the newer intent leaves the speaker silent (pause, stop), so a
 * play the service still sends for the older command is applied paused.
 */
export type Supersedes = 'hold' | 'replace';

export function supersedesWith(cmd: PlayerCommand): Supersedes | null {
  if (cmd.playMedia || cmd.transfer || cmd.playItem !== undefined || cmd.seekMs !== undefined) return 'replace';
  switch (cmd.action) {
    case 'pause':
    case 'stop':
      return 'hold';
    case 'play':
    case 'toggle':
    case 'next':
    case 'previous':
      return 'replace';
    default:
      return null;
  }
}

export function supersededError(): QcbError {
  return new QcbError('ERR_SUPERSEDED', 'a newer command superseded it before it was done');
}

/**
 * A chain of steps (the player's loop) and waits (the service, the speaker) that a newer intent
 * cuts short: each step checks first, each wait is raced against the cut.
 */
export class IntentRun {
  readonly #abort = new AbortController();

  get cut(): boolean {
    return this.#abort.signal.aborted;
  }

  supersede(): void {
    this.#abort.abort(supersededError());
  }

  /** Throws ERR_SUPERSEDED once superseded. */
  check(): void {
    this.#abort.signal.throwIfAborted();
  }

  /** `p`, unless a newer intent comes first. */
  race<T>(p: Promise<T>): Promise<T> {
    const signal = this.#abort.signal;
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err as Error);
        },
      );
    });
  }
}
