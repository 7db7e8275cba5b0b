import { QcbError } from '../core/qcb-error.js';
import type { SessionConnection } from './activation/session-connection.js';
import { SPEAKER_HANDLERS } from './inputs/player-event-handlers.js';
import { volumeIntents } from './intents/volume-intents.js';
import { deliverPartInput } from './loop-step.js';
import { outcomeOf, type Outcome } from './outcome.js';
import type { SessionCore } from './session-core.js';
import type { Enqueue, SessionInput } from './session-input.js';
import type { SessionWatch } from './session-watch.js';
import type { MediaCommands } from './verbs/media-commands.js';
import { sendAdd, type TrackIdsLookup } from './verbs/queue-commands.js';
import { applyCommand } from './verbs/session-commands.js';

/** What the handler dispatches to: the player's session and its parts (player-session.ts builds it). */
export interface InputContext {
  readonly core: SessionCore;
  readonly connection: SessionConnection;
  readonly media: MediaCommands;
  readonly watch: SessionWatch | null;
  readonly trackIdsOf: TrackIdsLookup | null;
  readonly enqueue: Enqueue;
  stopped(): boolean;
  /** Shutdown (the `stop` input): waits failed, timers cleared, Qobuz told, the link closed. */
  shutdown(): void;
}

/**
 * THE handler of a player's loop (docs/architecture.md "One owner per player", "Where each input is
 * handled"): every input, timers and REST answers included, is one SessionInput (session-input.ts),
 * handled here, in a step of the loop, to its end. Each case hands the input to the module that owns
 * it and returns what the sender waits for, or the speaker work it started (which runs on without
 * the loop). An input that reaches intents (src/session/intents/) comes back as one Outcome, applied
 * here once: its frames leave in one send, in the order the intents decided, and its Effect is
 * returned. PlayerSession reports once after each input (LoopWaits, SessionWatch).
 */
export function handleInput(ctx: InputContext, input: SessionInput): unknown {
  const core = ctx.core;
  switch (input.kind) {
    case 'start':
      return core.publishView();
    case 'heartbeat':
      return core.heartbeat();
    case 'speaker': {
      const handler = SPEAKER_HANDLERS[input.event.name] as (core: SessionCore, ...args: unknown[]) => Outcome;
      return core.apply(core.decide(() => handler(core, ...input.event.args)));
    }
    case 'link':
      return core.apply(outcomeOf(ctx.connection.linkEvent(input.link, input.event)));
    case 'minted':
      return ctx.connection.openOwnLink(input.token);
    case 'connect':
      if (ctx.stopped()) throw new QcbError('ERR_SESSION_CLOSED', 'the bridge is stopping');
      return ctx.connection.connect(input.request);
    case 'connect-timeout':
      return ctx.connection.connectTimedOut(input.candidate);
    case 'command': {
      const cmd = input.command;
      // Only a bare play may become a transfer (media-commands.ts): null says so; other commands go to their verb.
      if ((cmd.action === 'play' || cmd.action === 'toggle') && ctx.media.playMeansTransfer(core, cmd))
        return null;
      return [core.apply(core.decide(() => applyCommand(core, cmd, { enqueue: ctx.enqueue, trackIdsOf: ctx.trackIdsOf })))];
    }
    case 'supersede':
      return core.verbs.supersedePlays(input.hold);
    case 'observer-verb': {
      const watch = ctx.watch;
      if (watch) core.apply(core.decide(() => watch.verb(input.verb)));
      return;
    }
    case 'volume-timeout':
      return core.apply(core.decide(() => volumeIntents.reportTimedOut(core, input.n)));
    case 'queue-add':
      return core.apply(core.decide(() => sendAdd(core, input.trackIds, input.next)));
    case 'step':
      return input.run(core);
    case 'stop':
      return ctx.shutdown();
    // The parts' timers and REST answers, each to the part's named handler (loop-step.ts's deliverPartInput).
    case 'wait-timeout':
    case 'verb-timeout':
    case 'track-info':
    case 'queue-metadata':
    case 'queue-metadata-rate':
    case 'queue-listing':
    case 'volume-refused':
      return deliverPartInput(input);
    default:
      return unhandled(input);
  }
}

/** A kind added to SessionInput and not handled above fails to compile here. */
function unhandled(input: never): never {
  throw new Error(`unhandled session input: ${(input as { kind: string }).kind}`);
}
