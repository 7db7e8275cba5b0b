import type { Logger } from 'pino';
import type { LinkToken } from '../../core/link-token.js';
import type { SessionLinkPort } from '../session-link-port.js';
import { sameSessionId, type ConnectRequest } from '../../core/connect-request.js';
import type { QcMessage } from '../../protocol/frame-codec.js';
import { MESSAGE_TYPES } from '../../protocol/message-types.js';
import { joinMessage, uuidBytes, type RendererReport } from '../../protocol/renderer-messages.js';
import { qconnect } from '../../protocol/generated/qconnect.js';
import { NOTHING, type Outcome } from '../outcome.js';
import type { SessionCore } from '../session-core.js';

/**
 * Why an app's connect did not become the player's session (README "Security", issue #26): the
 * `reason` of the log line and of `qcb_connects_total{result="rejected"}`.
 * - `service_closed`: the service closed the new link before naming us (a refused token, a refused join);
 * - `timeout`: the service did not name us in time;
 * - `superseded`: a newer connect came first;
 * - `no_join`: the service sent a great deal, but never our join;
 * - `bridge_stopping`.
 */
export type ConnectRejection = 'service_closed' | 'timeout' | 'superseded' | 'no_join' | 'bridge_stopping';

/** Messages kept while waiting for the join: the service names us (83) among its first few. */
const MAX_BUFFERED_MESSAGES = 256;

/**
 * Make before break (README "Security", issue #26): the app's connect builds its link BESIDE the
 * current one. Until the service has taken the new token and named our device in the session (83
 * AddRenderer, docs/protocol.md §5.2), what it sends is kept here, in order, and nothing of the
 * current session changes; the player's loop then promotes the candidate (the current session ends,
 * the kept messages are handled as the new link's first ones) or drops it (nothing changed).
 */
export class ConnectCandidate {
  readonly request: ConnectRequest;
  readonly link: SessionLinkPort;
  /** Once promoted, the link may mint tokens with the user's own token; never before (issue #26). */
  accepted = false;
  readonly #deviceUuid: Buffer;
  #buffer: QcMessage[] = [];
  #timer: NodeJS.Timeout | null;

  constructor(o: {
    readonly request: ConnectRequest;
    readonly link: SessionLinkPort;
    readonly deviceUuid: Uint8Array;
    readonly timeoutMs: number;
    readonly onTimeout: () => void;
  }) {
    this.request = o.request;
    this.link = o.link;
    this.#deviceUuid = Buffer.from(o.deviceUuid);
    this.#timer = setTimeout(o.onTimeout, o.timeoutMs);
    this.#timer.unref();
  }

  /**
   * A batch from the new link: kept. 'joined' once the kept messages hold the service naming our
   * device; 'overflow' when far more came than a join brings, without it.
   */
  offer(messages: readonly QcMessage[]): 'joined' | 'waiting' | 'overflow' {
    this.#buffer.push(...messages);
    if (messages.some((m) => this.#namesUs(m))) return 'joined';
    return this.#buffer.length > MAX_BUFFERED_MESSAGES ? 'overflow' : 'waiting';
  }

  /**
   * The join (§5.1) on the new link, as the session's own would be; for another session than
   * `currentSessionId` it announces a fresh session's state (with 21), not the current one's.
   */
  sendJoin(core: SessionCore, currentSessionId: string): void {
    const fresh = !sameSessionId(this.request.sessionId, currentSessionId);
    this.link.send([
      joinMessage({
        sessionUuid: uuidBytes(this.request.sessionId),
        device: core.device,
        renderer: core.joinMode === 'renderer',
        background: false,
        wantsActive: this.request.becomeActive,
        report: () =>
          fresh ? freshSessionReport(core.now(), core.speaker().available) : core.rendererReport(),
      }),
    ]);
  }

  /** The kept messages, in order, handed over once (to the promoted session). */
  takeMessages(): QcMessage[] {
    const messages = this.#buffer;
    this.#buffer = [];
    return messages;
  }

  /** No more timeout; the link itself is the caller's to keep (promoted) or close (dropped). */
  settle(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#buffer = [];
  }

  #namesUs(m: QcMessage): boolean {
    if (m.type !== MESSAGE_TYPES.SrvrCtrlAddRenderer) return false;
    const uuid = m.body.device_info?.device_uuid;
    return uuid !== undefined && uuid !== null && Buffer.compare(Buffer.from(uuid), this.#deviceUuid) === 0;
  }
}

/**
 * The state a renderer join (21) announces for a connect into another session than the current
 * one: nothing plays there yet. The current session's report would name items of its own queue.
 */
function freshSessionReport(nowMs: number, speakerAvailable: boolean): RendererReport {
  return {
    playingState: qconnect.PlayingState.STOPPED,
    bufferState: speakerAvailable ? qconnect.BufferState.OK : qconnect.BufferState.ERROR,
    positionMs: 0,
    positionAtMs: nowMs,
    durationMs: null,
    queueVersion: null,
    currentQueueItemId: -1,
    nextQueueItemId: -1,
  };
}

/** What the switch needs of the player's session (session-connection.ts). */
export interface ConnectSwitchHost {
  readonly core: SessionCore;
  readonly log: Logger;
  readonly timeoutMs: number;
  /** A link, not started, whose events reach the switch while it is a candidate's. */
  newLink(token: LinkToken, mayRenew: () => boolean): SessionLinkPort;
  /** The candidate's accept deadline passed: queued into the player's loop (a 'connect-timeout' input). */
  timedOut(candidate: ConnectCandidate): void;
  currentSessionId(): string;
  /** The service named us on the candidate's link: the session takes it, with these first messages. */
  promote(candidate: ConnectCandidate, messages: QcMessage[]): Outcome;
  /** The connect did not become the session (already logged). */
  rejected(candidate: ConnectCandidate, reason: ConnectRejection): void;
}

/**
 * The one connect, at most, being built beside the player's link (make before break, issue #26). Runs
 * in the player's loop: every method is called from it.
 */
export class ConnectSwitch {
  readonly #host: ConnectSwitchHost;
  #candidate: ConnectCandidate | null = null;

  constructor(host: ConnectSwitchHost) {
    this.#host = host;
  }

  get pending(): boolean {
    return this.#candidate !== null;
  }

  /** The app's connect: its link starts beside the current one (a pending older connect is dropped). */
  start(request: ConnectRequest): void {
    this.drop('superseded', 'a newer connect came first');
    const t = request.jwtQconnect;
    let candidate: ConnectCandidate | null = null;
    // Never a token of ours for a connect the service has not accepted (issue #26): no upgrade of the app's.
    const token = { jwt: t.jwt, expiresAtMs: t.exp * 1000, endpoint: t.endpoint };
    const link = this.#host.newLink(token, () => candidate?.accepted === true);
    candidate = new ConnectCandidate({
      request,
      link,
      deviceUuid: this.#host.core.device.uuid,
      timeoutMs: this.#host.timeoutMs,
      onTimeout: () => {
        if (candidate) this.#host.timedOut(candidate);
      },
    });
    this.#candidate = candidate;
    link.start();
  }

  /** The accept deadline of `candidate` passed (in the loop): dropped, unless it is no longer the pending one. */
  timedOut(candidate: ConnectCandidate): void {
    if (this.#candidate === candidate) this.drop('timeout', 'the service did not accept the connect in time');
  }

  /** Whether `link` is the pending connect's (its events are the switch's, not the session's). */
  owns(link: SessionLinkPort): boolean {
    return this.#candidate?.link === link;
  }

  /** The candidate's socket is up: its join (§5.1). */
  connected(): void {
    this.#candidate?.sendJoin(this.#host.core, this.#host.currentSessionId());
  }

  /** A batch on the candidate's link: kept until the service names us, then the session takes the link. */
  messages(messages: QcMessage[]): Outcome {
    const c = this.#candidate;
    if (!c) return NOTHING;
    const step = c.offer(messages);
    if (step === 'overflow') this.drop('no_join', 'the service never named us in the session');
    if (step !== 'joined') return NOTHING;
    const kept = c.takeMessages();
    c.settle();
    c.accepted = true;
    this.#candidate = null;
    return this.#host.promote(c, kept);
  }

  /** The candidate's link went down or closed before the join: the service refused the connect. */
  ended(reason: string): void {
    this.drop('service_closed', reason);
  }

  /** Drops the pending connect, if any: its link closes, and nothing else changes. */
  drop(reason: ConnectRejection, detail: string): void {
    const c = this.#candidate;
    if (!c) return;
    this.#candidate = null;
    c.settle();
    c.link.close(`connect dropped: ${reason}`);
    // The one line that says why (README "Security"); the detail is the service's close, never a token.
    const quiet = reason === 'superseded' || reason === 'bridge_stopping';
    this.#host.log[quiet ? 'info' : 'warn'](
      { reason, detail },
      'connect-to-qconnect rejected: nothing changed',
    );
    this.#host.rejected(c, reason);
  }
}
