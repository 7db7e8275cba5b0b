import type { Logger } from 'pino';
import { errorMessage } from '../core/qcb-error.js';
import { SerialQueue } from '../util/serial-queue.js';
import { StepGuard } from './loop-step.js';
import type { Effect } from './session-core.js';
import { ANSWERED_KINDS, DROPPED_ONCE_STOPPED, type AnswerOf, type SessionInput } from './session-input.js';

export interface InputLoopOptions {
  /** THE handler: handleInput (handle-input.ts) in a PlayerSession. */
  readonly handle: (input: SessionInput) => unknown;
  /** Once after each input: whatever waits on the session's state looks again; the owner hears of the link. */
  readonly afterInput: () => void;
  /** True once the session stopped: inputs from outside are dropped (DROPPED_ONCE_STOPPED). */
  readonly stopped: () => boolean;
  readonly logger: Logger;
  readonly guard?: StepGuard;
}

/**
 * A player's serial loop (docs/architecture.md "One owner per player"): every SessionInput enters
 * through `enqueue`, the one way in, and is handled in a step (StepGuard), one at a time, to its end,
 * by the one handler; after each input, the loop reports once (`afterInput`).
 */
export class InputLoop {
  readonly guard: StepGuard;
  readonly #queue = new SerialQueue();
  readonly #o: InputLoopOptions;

  constructor(options: InputLoopOptions) {
    this.#o = options;
    this.guard = options.guard ?? new StepGuard();
  }

  /**
   * Queues one input. Resolves with its answer; a promise answer (a verb waiting for the service) is
   * wrapped so it settles outside the loop and never holds it. An input nobody waits on has the
   * speaker work it started, and its own failure, logged.
   */
  enqueue<I extends SessionInput>(input: I): Promise<Awaited<AnswerOf<I>>> {
    if (this.#o.stopped() && DROPPED_ONCE_STOPPED.has(input.kind)) return Promise.resolve() as Promise<never>;
    const answered = ANSWERED_KINDS.has(input.kind);
    const step = this.#queue.run(() =>
      this.guard.run(() => {
        try {
          const value = this.#o.handle(input);
          if (!answered) this.#logFailure(value as Effect | void, input, 'speaker command failed');
          return { value: answered ? value : undefined };
        } finally {
          // The last input (stop) reports nothing: the session is over.
          if (input.kind !== 'stop') this.#o.afterInput();
        }
      }),
    );
    const result = step.then(({ value }) => value as Awaited<AnswerOf<I>>);
    if (answered) return result;
    this.#logFailure(result, input, 'session input failed');
    return result.catch(() => undefined) as Promise<never>;
  }

  /** Resolves once every input queued so far has been handled; true when it had to wait. */
  idle(): Promise<boolean> {
    return this.#queue.idle();
  }

  #logFailure(work: Effect | void | Promise<unknown>, input: SessionInput, msg: string): void {
    const what =
      input.kind === 'step' ? input.what : input.kind === 'speaker' ? input.event.name : input.kind;
    work?.catch((err: unknown) => this.#o.logger.warn({ err: errorMessage(err), what }, msg));
  }
}
