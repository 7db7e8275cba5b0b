import type { TrackInfo } from '../core/player-view.js';
import type { TrackSummary } from '../core/queue-listing.js';

/**
 * The inputs the session's parts produce (docs/architecture.md "Where each input is handled"): a
 * timer that fired or a REST answer that came, each with what it carries and the part that handles
 * it by name. They are kinds of SessionInput (session-input.ts) and enter the player's loop like any
 * other input, so no session state is written outside a step.
 */
export type PartInput =
  /** A LoopWaits condition was not met in time (loop-waits.ts). */
  | { readonly kind: 'wait-timeout'; readonly waits: WaitTimeouts; readonly wait: object }
  /** The service did not answer a controller verb in time (pending-actions.ts). */
  | {
      readonly kind: 'verb-timeout';
      readonly verbs: VerbTimeouts;
      readonly key: string;
      readonly waiter: object;
    }
  /** REST track/get answered for what plays (track-info-lookup.ts). */
  | {
      readonly kind: 'track-info';
      readonly lookup: TrackInfoAnswers;
      readonly trackId: number;
      readonly info: TrackInfo | null;
    }
  /** REST track/get answered for a queue entry (queue-metadata.ts). */
  | {
      readonly kind: 'queue-metadata';
      readonly metadata: MetadataAnswers;
      readonly trackId: number;
      readonly summary: TrackSummary | null;
    }
  /** The queue metadata's rate limit let the next look-ups go (queue-metadata.ts). */
  | { readonly kind: 'queue-metadata-rate'; readonly metadata: MetadataAnswers; readonly timer: object }
  /** The queue listing is due to be published (queue-publisher.ts). */
  | { readonly kind: 'queue-listing'; readonly listing: ListingTimer; readonly timer: object }
  /** The speaker refused a volume or mute (session-volume.ts): the level falls back to the speaker's. */
  | { readonly kind: 'volume-refused'; readonly volume: VolumeRefusals; readonly ask: number };

export interface WaitTimeouts {
  timedOut(wait: object): void;
}
export interface VerbTimeouts {
  timedOut(key: string, waiter: object): void;
}
export interface TrackInfoAnswers {
  arrived(trackId: number, info: TrackInfo | null): void;
}
export interface MetadataAnswers {
  resolved(trackId: number, summary: TrackSummary | null): void;
  rateTimer(timer: object): void;
}
export interface ListingTimer {
  due(timer: object): void;
}
export interface VolumeRefusals {
  refusedAsk(ask: number): void;
}

/**
 * Queues a part's input into the player's loop (docs/architecture.md "One owner per player"): the
 * typed port SessionCore and its parts are handed. PlayerSession's builds a SessionInput of it.
 */
export type EnqueuePartInput = (input: PartInput) => void;

/**
 * A loop that takes named closures as steps: AccountSession's (src/session/account/). It hands
 * LoopWaits a part port whose step delivers the input (deliverPartInput).
 */
export type EnqueueStep = (what: string, fn: () => void) => void;

/** Hands a part's input to the part that handles it: handle-input.ts calls it in the loop, AccountSession in a step of its own. */
export function deliverPartInput(input: PartInput): void {
  switch (input.kind) {
    case 'wait-timeout':
      return input.waits.timedOut(input.wait);
    case 'verb-timeout':
      return input.verbs.timedOut(input.key, input.waiter);
    case 'track-info':
      return input.lookup.arrived(input.trackId, input.info);
    case 'queue-metadata':
      return input.metadata.resolved(input.trackId, input.summary);
    case 'queue-metadata-rate':
      return input.metadata.rateTimer(input.timer);
    case 'queue-listing':
      return input.listing.due(input.timer);
    case 'volume-refused':
      return input.volume.refusedAsk(input.ask);
  }
}

/** For a part used on its own, outside a PlayerSession (a unit test of that part): handles its input at once. */
export const runNow: EnqueuePartInput = deliverPartInput;

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
