import type { OutgoingMessage } from '../protocol/frame-writer.js';
import type { Effect } from './playback/session-playback.js';

/**
 * What one intent decided (docs/architecture.md "Intents"): the frames Qobuz hears, in the order
 * they leave, and the speaker work it started (an Effect the loop does not wait for). Intents in
 * src/session/intents/ return one; handlers pass it on; handle-input.ts applies it once per input
 * (SessionCore.apply). The frames include the core's own state reports (23) made while the intent
 * ran (SessionCore.decide), so a frame an intent says before a report it causes stays before it.
 */
export interface Outcome {
  readonly messages: readonly OutgoingMessage[];
  readonly effect: Effect;
}

/** Nothing to say, nothing for the speaker. */
export const NOTHING: Outcome = { messages: [], effect: null };

/** Frames to send, in this order. */
export function say(...messages: OutgoingMessage[]): Outcome {
  return { messages, effect: null };
}

/** Speaker work only. */
export function work(effect: Effect): Outcome {
  return { messages: [], effect };
}

/** An Outcome as it is; speaker work, or nothing, as an Outcome with nothing to say. */
export function outcomeOf(value: Outcome | Effect | void): Outcome {
  return value && 'messages' in value ? value : work(value ?? null);
}

/**
 * One outcome after another: frames in order; the speaker works together, in order of issue (the
 * speaker applies the newest intent). Not named `then`: a module exporting `then` is a thenable,
 * and an `await import()` of it never settles.
 */
export function inOrder(...outcomes: readonly Outcome[]): Outcome {
  const messages = outcomes.flatMap((o) => o.messages);
  return { messages, effect: allEffects(outcomes.map((o) => o.effect)) };
}

/** Effects together: null when none; one as it is; more settle when all did (the first failure fails them). */
export function allEffects(effects: readonly Effect[]): Effect {
  const started = effects.filter((e): e is Promise<void> => e !== null);
  if (started.length === 0) return null;
  if (started.length === 1) return started[0] ?? null;
  return Promise.all(started).then(() => undefined);
}
