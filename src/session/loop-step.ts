/**
 * Queues `fn` as one input of the player's loop (docs/architecture.md "One owner per player"):
 * timers and late answers (track info, queue metadata, verb and wait timeouts) come back through
 * it, so no session state is written outside a step. PlayerSession hands its `#input`.
 */
export type EnqueueStep = (what: string, fn: () => void) => void;

/** For a part used on its own, outside a PlayerSession (a unit test of that part): runs `fn` at once. */
export const runNow: EnqueueStep = (_what, fn) => fn();

/**
 * The development-mode check that session state is written only inside a loop step: SessionCore
 * asserts it on every write; PlayerSession runs each step inside `run`. On under vitest
 * (`VITEST`), with `NODE_ENV=test`, or with `QCB_STEP_GUARD=1`; off in production, where it costs
 * one boolean test per write.
 */
export class StepGuard {
  readonly enabled: boolean;
  #depth = 0;

  constructor(enabled = stepGuardWanted()) {
    this.enabled = enabled;
  }

  get inStep(): boolean {
    return this.#depth > 0;
  }

  run<T>(fn: () => T): T {
    this.#depth += 1;
    try {
      return fn();
    } finally {
      this.#depth -= 1;
    }
  }

  /** Throws when enabled and no step is running: `what` was written outside the loop (a bug, not a user's error). */
  assert(what: string): void {
    if (this.enabled && this.#depth === 0)
      throw new Error(`session state written outside a loop step: ${what}`);
  }
}

export function stepGuardWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.QCB_STEP_GUARD === '1' || env.VITEST !== undefined || env.NODE_ENV === 'test';
}
