import type { ConnectRequest } from '../core/connect-request.js';
import type { LinkToken } from '../core/link-token.js';
import type { PlayerEvents } from '../core/player.js';
import type { PlayerCommand } from '../core/player-view.js';
import type { QcMessage } from '../protocol/frame-codec.js';
import type { ConnectCandidate } from './activation/connect-candidate.js';
import type { PartInput } from './loop-step.js';
import type { Effect, SessionCore } from './session-core.js';
import type { SessionLinkPort } from './session-link-port.js';

export type { PartInput } from './loop-step.js';

/**
 * Every input of a player's loop, as one value (docs/architecture.md "Where each input is
 * handled"): PlayerSession enqueues each through one method and handle-input.ts handles each in one
 * exhaustive switch, one at a time, to its end. Kinds carry typed payloads; only `step` carries a
 * closure, for the continuation steps of multi-step verbs (play_media, transfer, joining).
 */
export type SessionInput =
  /** The session starts: the first report of the player's view. */
  | { readonly kind: 'start' }
  /** The heartbeat timer (every `heartbeatMs`): the renderer state, again (docs/protocol.md §5.8). */
  | { readonly kind: 'heartbeat' }
  /** The speaker did something (a Player event, inputs/player-event-handlers.ts). */
  | { readonly kind: 'speaker'; readonly event: SpeakerEvent }
  /** The player's link (or a pending connect's) came up, brought messages, went down or closed. */
  | { readonly kind: 'link'; readonly link: SessionLinkPort; readonly event: LinkEvent }
  /** Cloud presence minted a token for a link of our own (cloud-presence.ts): open it. */
  | { readonly kind: 'minted'; readonly token: LinkToken }
  /** The app's connect (POST connect-to-qconnect). Answered once its link started. */
  | { readonly kind: 'connect'; readonly request: ConnectRequest }
  /** A pending connect's accept deadline passed (connect-candidate.ts). */
  | { readonly kind: 'connect-timeout'; readonly candidate: ConnectCandidate }
  /** An MQTT command; answered with its effects, or null when a bare play means a transfer. */
  | { readonly kind: 'command'; readonly command: PlayerCommand }
  /** A newer transport intent cut the pending play_item and activation short (intent-supersede.ts). */
  | { readonly kind: 'supersede'; readonly hold: boolean }
  /** The account's owner asks the player to send a controller verb (session-watch.ts). Answered. */
  | { readonly kind: 'observer-verb'; readonly verb: ObserverVerb }
  /** The amplifier never reported volume `n` (README "Volume modes", `external`). */
  | { readonly kind: 'volume-timeout'; readonly n: number }
  /** queue_add's track ids came from REST: the 68 or 67 with the queue as it is now. Answered. */
  | { readonly kind: 'queue-add'; readonly trackIds: readonly number[]; readonly next: boolean }
  /** A continuation step of a multi-step verb; answered with what `run` returns. */
  | StepInput<unknown>
  /** Shutdown: the last input of the loop. */
  | { readonly kind: 'stop' }
  | PartInput;

/** A continuation step of a verb (media-commands.ts, session-connection.ts's ensureJoined): `what` names it in logs. */
export interface StepInput<T> {
  readonly kind: 'step';
  readonly what: string;
  readonly run: (core: SessionCore) => T;
}

type SpeakerEvents = {
  [K in keyof PlayerEvents as string extends K ? never : K]: {
    readonly name: K;
    readonly args: PlayerEvents[K];
  };
};
export type SpeakerEvent = SpeakerEvents[keyof SpeakerEvents];

export type LinkEvent =
  | { readonly type: 'connected'; readonly reconnection: boolean }
  | { readonly type: 'messages'; readonly messages: QcMessage[] }
  | { readonly type: 'disconnected'; readonly reason: string }
  | { readonly type: 'closed'; readonly reason: string };

export type ObserverVerb =
  | { readonly type: 'setActiveRenderer'; readonly rendererId: number }
  | { readonly type: 'setPlaying'; readonly playing: boolean };

/** What each kind answers its sender with; the kinds not named answer with the speaker work they started. */
interface Answers {
  readonly command: Effect[] | null;
  readonly connect: void;
  readonly 'observer-verb': void;
  readonly 'queue-add': Promise<void>;
  readonly stop: void;
}

/** The kinds someone waits on: their failure is the sender's, not logged by the loop. */
export const ANSWERED_KINDS: ReadonlySet<SessionInput['kind']> = new Set([
  'command',
  'connect',
  'observer-verb',
  'queue-add',
  'stop',
  'step',
]);

/** Inputs from outside, dropped once the session stopped; timers and answers still run, so nothing waits forever. */
export const DROPPED_ONCE_STOPPED: ReadonlySet<SessionInput['kind']> = new Set([
  'start',
  'heartbeat',
  'speaker',
  'link',
  'minted',
  'connect-timeout',
  'volume-timeout',
]);

export type AnswerOf<I extends SessionInput> =
  I extends StepInput<infer T> ? T : I['kind'] extends keyof Answers ? Answers[I['kind']] : Effect | void;

/** Sends an input into the player's loop; resolves with its answer (a promise answer settles outside the loop). */
export type Enqueue = <I extends SessionInput>(input: I) => Promise<Awaited<AnswerOf<I>>>;
