import { QcbError } from '../core/qcb-error.js';
import { runNow, type EnqueuePartInput } from './loop-step.js';

/**
 * Conditions a command waits for that no single message answers: the link joined, the speaker
 * playing what a command asked for (README "Own Qobuz identity"). Each probe runs in the player's
 * loop (docs/architecture.md "One owner per player"), now and after every input the loop handled,
 * so it reads the session's state as it is and never races it. The service's answers to controller
 * verbs are not waited for here: SessionCore.sendAction does that by action uuid.
 */
export type Probe<T> = () => T | null | undefined | false;

interface Waiting {
  /** True once settled. */
  check(): boolean;
  fail(err: Error): void;
  /** Its time is up: it fails with ERR_TIMEOUT. */
  timeout(): void;
}

export class LoopWaits {
  readonly #waiting = new Set<Waiting>();
  readonly #step: EnqueuePartInput;

  /** `step`: the timeouts come back to the loop through it (loop-step.ts). */
  constructor(step: EnqueuePartInput = runNow) {
    this.#step = step;
  }

  /**
   * Resolves with the first truthy value of `probe`; rejects when it throws, or with ERR_TIMEOUT
   * naming `what` after `timeoutMs`. Call it from inside the loop.
   */
  until<T>(probe: Probe<T>, timeoutMs: number, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => this.#step({ kind: 'wait-timeout', waits: this, wait: w }), timeoutMs);
      timer.unref();
      const w: Waiting = {
        check: () => {
          let value: T | null | undefined | false;
          try {
            value = probe();
          } catch (err) {
            w.fail(err instanceof Error ? err : new Error(String(err)));
            return true;
          }
          if (!value) return false;
          clearTimeout(timer);
          this.#waiting.delete(w);
          resolve(value);
          return true;
        },
        fail: (err) => {
          clearTimeout(timer);
          this.#waiting.delete(w);
          reject(err);
        },
        timeout: () =>
          reject(new QcbError('ERR_TIMEOUT', `${what}: nothing after ${Math.round(timeoutMs / 100) / 10} s`)),
      };
      if (!w.check()) this.#waiting.add(w);
    });
  }

  /** A wait's timer fired (a 'wait-timeout' input, in the loop): it fails unless settled meanwhile. */
  timedOut(wait: object): void {
    const w = wait as Waiting;
    if (this.#waiting.delete(w)) w.timeout(); // else settled meanwhile
  }

  /** After each input of the loop. */
  check(): void {
    for (const w of [...this.#waiting]) w.check();
  }

  /** Shutdown: nothing still waiting will come. */
  failAll(err: Error): void {
    for (const w of [...this.#waiting]) w.fail(err);
  }
}
