import { QcbError } from '../core/qcb-error.js';
import { supersededError } from './intent-supersede.js';
import type { OutgoingMessage } from '../protocol/frame-writer.js';
import type { EnqueuePartInput } from './loop-step.js';
import { PendingActions } from './pending-actions.js';
import { QueueStateAnswers } from './queue/queue-state-answers.js';
import type { SessionFacts } from './session-report.js';

/** docs/protocol.md §8 "Silent deregistration": at most one re-join on the same link per this long. */
const REREGISTER_MIN_INTERVAL_MS = 30_000;
/** How long a controller verb waits for the service's answer. */
const ACTION_TIMEOUT_MS = 10_000;

export type LinkState = SessionFacts['linkState'];

/**
 * What a player's session knows of its place in the Qobuz session: the link frames leave by, its
 * state, our renderer id and the active one's, the session uuid, and the controller verbs waiting
 * for the service's answer (docs/protocol.md §5.1-§5.2, §8). Part of SessionCore (docs/architecture.md
 * "One owner per player"): only the core holds one and calls it, from the session's loop.
 */
export class SessionLink {
  readonly #now: () => number;
  readonly #pending: PendingActions;
  /** Plays superseded by a pause or stop (supersedePlays), until when their 41 is expected. */
  readonly #held = new Map<string, number>();
  /** Our 76s on this link, to pair with the 90s answering them (queue-state-answers.ts). */
  readonly #asked = new QueueStateAnswers();
  #send: (messages: OutgoingMessage[]) => boolean = () => false;
  /** Open captures (SessionCore.decide), innermost last: frames sent meanwhile are kept there, not sent. */
  readonly #captures: OutgoingMessage[][] = [];
  /** Subscribe and join again on the current link (set per link). */
  #reregister: () => void = () => {};
  #lastReregisterAtMs: number | null = null;
  #state: LinkState = 'none';
  #expired = false;
  #rendererId: number | null = null;
  #activeRendererId = -1;
  /** The session the service says we are in (81), hyphenated; what a link joined with our own token learns it from. */
  #sessionUuid: string | null = null;

  constructor(now: () => number, step?: EnqueuePartInput) {
    this.#now = now;
    this.#pending = new PendingActions(step);
  }

  get state(): LinkState {
    return this.#state;
  }
  get joined(): boolean {
    return this.#state === 'joined';
  }
  /** The last link ended because its token ran out (MQTT `qobuz_session: "expired"`). */
  get expired(): boolean {
    return this.#expired;
  }
  get rendererId(): number | null {
    return this.#rendererId;
  }
  get activeRendererId(): number {
    return this.#activeRendererId;
  }
  /** The service names us the active renderer. */
  get namesUsActive(): boolean {
    return this.#rendererId !== null && this.#activeRendererId === this.#rendererId;
  }
  get sessionUuid(): string | null {
    return this.#sessionUuid;
  }

  /**
   * Sends now, or drops when no link can carry it (never queued: docs/protocol.md §3). While a
   * capture is open the frames are kept for it instead (they leave when its outcome is applied, in
   * the same input), and true says the link is there to carry them.
   */
  send(messages: readonly OutgoingMessage[]): boolean {
    const capture = this.#captures.at(-1);
    if (capture) {
      capture.push(...messages);
      return this.#state !== 'none';
    }
    const sent = this.#send([...messages]);
    if (sent) this.#asked.sent(messages);
    return sent;
  }

  /**
   * Runs `fn` keeping every frame sent meanwhile (the intent's reports, its verbs) in order. If `fn`
   * throws, what it sent before still leaves, as it would have without the capture.
   */
  capture<T>(fn: () => T): { readonly value: T; readonly messages: OutgoingMessage[] } {
    const messages: OutgoingMessage[] = [];
    this.#captures.push(messages);
    let value: T;
    try {
      value = fn();
    } catch (err) {
      this.#captures.pop();
      if (messages.length > 0) this.send(messages);
      throw err;
    }
    this.#captures.pop();
    return { value, messages };
  }

  /**
   * Sends a controller verb and returns a promise for the service's answer naming `actionUuid`
   * (its broadcast, or its refusal). Fails at once when no joined link can carry it.
   */
  sendAction(
    messages: OutgoingMessage[],
    actionUuid: Uint8Array | string,
    what: string,
    timeoutMs = ACTION_TIMEOUT_MS,
  ): Promise<void> {
    if (this.#state !== 'joined') return Promise.reject(new QcbError('ERR_NO_SESSION', 'no Qobuz session'));
    const answer = this.#pending.expect(actionUuid, what, timeoutMs);
    // No messages: a verb already sent (transfer's 63) waits for its answer or refusal like the others.
    if (messages.length > 0 && !this.send(messages)) this.#pending.refused(actionUuid, 'the link is down');
    return answer;
  }

  /**
   * A broadcast carrying an action uuid came back: the verb that sent it (if ours) is done; true when
   * it was ours. `queueState`: a 90, which answers our oldest 76 even without the echo (queue-state-answers.ts).
   */
  answered(actionUuid: Uint8Array | string | null | undefined, queueState = false): boolean {
    if (queueState && typeof actionUuid !== 'string')
      return this.#pending.answered(this.#asked.arrived(actionUuid));
    return this.#pending.answered(actionUuid);
  }

  /**
   * 88: the service refused a queue edit. `'pending'`: a type-1 error, which names no verb, refuses
   * every verb still waiting (docs/protocol.md "Unknowns": a refusal must never wait for the timeout).
   */
  refused(actionUuid: Uint8Array | 'pending' | null | undefined, reason: string): void {
    if (actionUuid === 'pending') this.#pending.refuseAll(reason);
    else this.#pending.refused(actionUuid, reason);
  }

  /**
   * A newer intent supersedes the plays still waiting for the service (intent-supersede.ts): they
   * are answered ERR_SUPERSEDED now. With `hold`, the service's play for one of them, when it still
   * comes, is applied paused (heldPlay).
   */
  supersedePlays(hold: boolean): void {
    const keys = this.#pending.failWhere((key) => key.startsWith('jump:'), supersededError());
    this.#held.clear();
    if (hold) for (const key of keys) this.#held.set(key, this.#now() + ACTION_TIMEOUT_MS);
  }

  /**
   * True once for a play superseded by a pause or stop, while its answer may still come: the
   * service's 41 for it must not start the music. Later, a 41 for that item is the app's own again.
   */
  heldPlay(key: string): boolean {
    const until = this.#held.get(key);
    this.#held.delete(key);
    return until !== undefined && this.#now() <= until;
  }

  /** A new link: frames go to `send` from now on. */
  opened(send: (messages: OutgoingMessage[]) => boolean, reregister: () => void): void {
    this.#send = send;
    this.#reregister = reregister;
    this.#lastReregisterAtMs = null;
    this.#asked.reset();
    this.#expired = false;
    this.#state = 'connecting';
  }

  /** Another session than ours: nothing of the old one's identities carries over (issue #12). */
  forgetSession(): void {
    this.#pending.failAll(
      new QcbError('ERR_SESSION_CLOSED', 'a new Qobuz session replaced the one the command was for'),
    );
    this.#held.clear();
    this.#rendererId = null;
    this.#activeRendererId = -1;
    this.#sessionUuid = null;
  }

  /** The socket is up and about to join: our renderer id is unknown until the service names us (83). */
  joining(): void {
    this.#rendererId = null;
  }

  /** The socket dropped and will come back. */
  down(): void {
    this.#pending.failAll(
      new QcbError('ERR_SESSION_CLOSED', 'the Qobuz link dropped before the service answered'),
    );
    this.#asked.reset();
    this.#state = 'connecting';
  }

  /** The link ended for good (or was replaced): no frames leave until the next one. */
  closed(expired: boolean): void {
    this.#pending.failAll(
      new QcbError('ERR_SESSION_CLOSED', 'the Qobuz session ended before the service answered'),
    );
    this.#expired = expired;
    this.#asked.reset();
    this.#send = () => false;
    this.#reregister = () => {};
    this.#state = 'none';
  }

  /** The service named our renderer id (83 with our device uuid). */
  joinedAs(rendererId: number): void {
    this.#rendererId = rendererId;
    this.#state = 'joined';
  }

  /** 81 and 86: who is active (and, from 81, which session this is). */
  noteActive(activeRendererId: number, sessionUuid: string | null = null): void {
    if (sessionUuid) this.#sessionUuid = sessionUuid;
    this.#activeRendererId = activeRendererId;
  }

  /**
   * The service answered as if it no longer knew us while the socket stays open (docs/protocol.md
   * §8 "Silent deregistration"): subscribe and join again on the same link. Rate-limited; false
   * when nothing was sent.
   */
  rejoin(): boolean {
    if (this.#state !== 'joined') return false;
    const now = this.#now();
    if (this.#lastReregisterAtMs !== null && now - this.#lastReregisterAtMs < REREGISTER_MIN_INTERVAL_MS)
      return false;
    this.#lastReregisterAtMs = now;
    this.#reregister();
    return true;
  }
}
