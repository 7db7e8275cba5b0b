import type { Logger } from 'pino';
import { sameSessionId, type ConnectRequest } from '../../core/connect-request.js';
import { TOKEN_EXPIRED, type LinkToken } from '../../core/link-token.js';
import { QcbError } from '../../core/qcb-error.js';
import type { QcMessage } from '../../protocol/frame-codec.js';
import { joinMessage, uuidBytes } from '../../protocol/renderer-messages.js';
import { withTimeout } from '../../util/abortable-sleep.js';
import { dispatchMessages } from '../inputs/dispatch-messages.js';
import type { LoopWaits } from '../loop-waits.js';
import type { PlayerSessionOptions } from '../player-session-options.js';
import { NOTHING, say, inOrder, work, type Outcome } from '../outcome.js';
import type { SessionCore } from '../session-core.js';
import type { Enqueue, LinkEvent } from '../session-input.js';
import { logLinkClosed, type SessionLinkPort } from '../session-link-port.js';
import type { SessionWatch } from '../session-watch.js';
import { CloudPresence } from './cloud-presence.js';
import { ConnectSwitch, type ConnectCandidate } from './connect-candidate.js';
import { OwnJoin } from './own-join.js';

/** What the connection needs of the player's loop (player-session.ts). */
export interface ConnectionHost {
  readonly core: SessionCore;
  readonly log: Logger;
  readonly options: PlayerSessionOptions;
  readonly waits: LoopWaits;
  watch(): SessionWatch | null;
  /** Sends an input into the player's loop (session-input.ts). */
  readonly enqueue: Enqueue;
  stopped(): boolean;
}

/**
 * The player's one link to the Qobuz service (docs/protocol.md §5.1, §8): an app's connect, made
 * before the current one breaks (connect-candidate.ts, issue #26), or a link of our own (cloud
 * presence and play_media, README "Own Qobuz identity"); the join, and the link's ups and downs.
 * Every method runs in the player's loop (handle-input.ts), but `ensureJoined`, which queues its steps.
 */
export class SessionConnection {
  readonly #h: ConnectionHost;
  readonly #log: Logger;
  readonly #cloud: CloudPresence | null;
  readonly #ownJoin: OwnJoin;
  /** An app's connect being built beside the current link (make before break, issue #26). */
  readonly #switch: ConnectSwitch;
  #link: SessionLinkPort | null = null;
  /** The app's connect the link came from; null for a link of our own (cloud presence, play_media). */
  #request: ConnectRequest | null = null;

  constructor(host: ConnectionHost) {
    this.#h = host;
    this.#log = host.log;
    const options = host.options;
    const mint = options.renewToken;
    this.#ownJoin = new OwnJoin(this.#log.child({ module: 'cloud' }));
    this.#cloud =
      options.cloud && mint
        ? new CloudPresence({
            mint,
            join: (token) => void host.enqueue({ kind: 'minted', token }),
            logger: this.#log.child({ module: 'cloud' }),
            ...(options.cloudRetryStepsMs ? { retryStepsMs: options.cloudRetryStepsMs } : {}),
          })
        : null;
    this.#switch = new ConnectSwitch({
      core: host.core,
      log: this.#log,
      timeoutMs: options.connectAcceptTimeoutMs ?? 20_000,
      newLink: (token, mayRenew) => this.#newLink(token, mayRenew),
      timedOut: (candidate) => void host.enqueue({ kind: 'connect-timeout', candidate }),
      currentSessionId: () => this.sessionId,
      promote: (c, messages) => this.#promote(c, messages),
      rejected: (c, reason) => {
        options.onConnectRejected?.(c.request, reason);
        // Cloud presence waited for this connect (openOwnLink): with no link at all, it joins again.
        if (!this.#link && reason !== 'bridge_stopping') this.#cloud?.rejoinLater();
      },
    });
  }

  /**
   * The session we are in; "" once its link ended for good (get-connect-info `current_session_id`,
   * issue #12). A link of our own learns it from the service (81).
   */
  get sessionId(): string {
    if (!this.#link) return '';
    return this.#request ? this.#request.sessionId : (this.#h.core.sessionUuid ?? '');
  }

  /** The link is one of our own (minted), not an app's connect. */
  get ownLink(): boolean {
    return !this.#request;
  }

  start(): void {
    this.#cloud?.start();
  }

  /** An app's connect (make before break): built beside the current link (connect-candidate.ts). */
  connect(request: ConnectRequest): void {
    this.#switch.start(request);
  }

  /** A pending connect's accept deadline passed (a 'connect-timeout' input). */
  connectTimedOut(candidate: ConnectCandidate): void {
    this.#switch.timedOut(candidate);
  }

  /** A link's event (a 'link' input): a pending connect's go to the switch, the rest to the session. */
  linkEvent(link: SessionLinkPort, e: LinkEvent): Outcome | void {
    const sw = this.#switch;
    switch (e.type) {
      case 'connected':
        return sw.owns(link) ? sw.connected() : this.#join(link, e.reconnection);
      case 'messages':
        return sw.owns(link) ? sw.messages(e.messages) : this.#dispatch(link, e.messages);
      case 'disconnected':
        return sw.owns(link) ? sw.ended(e.reason) : this.#onDown(link, e.reason);
      case 'closed':
        return sw.owns(link) ? sw.ended(e.reason) : this.#onClosed(link, e.reason);
    }
  }

  /** Shutdown: no more joins, the pending connect dropped, the link closed. */
  stop(): void {
    this.#cloud?.stop();
    this.#switch.drop('bridge_stopping', 'the bridge is stopping');
    this.#closeLink('bridge stopping');
  }

  /** The link joined: the one we have (waiting for it to join), else one opened with a minted token. */
  async ensureJoined(timeoutMs: number): Promise<void> {
    const h = this.#h;
    const hasLink = await h.enqueue({
      kind: 'step',
      what: 'ensureJoined: a link?',
      run: () => {
        // A link waiting out its reconnect backoff (up to 20 s) tries now: the command would otherwise
        // time out before it joins (docs/protocol.md §5.12).
        this.#link?.retryNow();
        return this.#link !== null;
      },
    });
    const mint = h.options.renewToken;
    if (!hasLink) {
      if (!mint)
        throw new QcbError(
          'ERR_NO_USER_TOKEN',
          'no Qobuz session, and no qobuz.user_auth_token to start one',
        );
      const token = await withTimeout(
        mint(),
        timeoutMs,
        () =>
          new QcbError(
            'ERR_TIMEOUT',
            `Qobuz did not mint a WebSocket token (qws/createToken) within ${Math.round(timeoutMs / 1000)} s`,
          ),
      );
      await h.enqueue({
        kind: 'step',
        what: 'ensureJoined: open our link',
        run: () => this.openOwnLink(token),
      });
    }
    await h.enqueue({
      kind: 'step',
      what: 'ensureJoined: wait for the join',
      run: (core) =>
        h.waits.until(
          () => {
            if (core.linkState === 'joined') return true;
            if (!this.#link)
              throw (
                this.#ownJoin.refusal() ??
                new QcbError('ERR_SESSION_CLOSED', 'the Qobuz link ended before it joined')
              );
            return false;
          },
          timeoutMs,
          'joining the Qobuz session',
        ),
    });
  }

  /** The service accepted the connect: now, and only now, the current session ends and the new one begins. */
  #promote(c: ConnectCandidate, messages: QcMessage[]): Outcome {
    const request = c.request;
    // The app picking us again in the same session keeps the queue; any other connect starts clean (issue #12).
    const fresh = !sameSessionId(request.sessionId, this.sessionId);
    // One link per player (docs/protocol.md §8): the app's replaces ours, or the previous app's.
    this.#closeLink('replaced by a new connect');
    this.#request = request;
    this.#ownJoin.seen(request.sessionId);
    this.#h.options.onConnectAccepted?.(request, fresh);
    const core = this.#h.core;
    const stopped = fresh ? core.newSession() : null;
    this.#adopt(c.link, request.becomeActive);
    core.joining();
    this.#log.info(
      { sessionChanged: fresh },
      'connect-to-qconnect joined: the new session replaces the previous one',
    );
    return inOrder(work(stopped), this.#dispatch(c.link, messages));
  }

  /** Opens the player's one link with `token`; `becomeActive` takes playback once joined (§5.3). */
  #openLink(token: LinkToken, becomeActive: boolean): void {
    const link = this.#newLink(token, () => true);
    this.#adopt(link, becomeActive);
    link.start();
  }

  /** The session's link from now on (its frames go out through it). */
  #adopt(link: SessionLinkPort, becomeActive: boolean): void {
    this.#link = link;
    this.#h.core.linkOpened(
      (messages) => link.send(messages),
      becomeActive,
      () => {
        if (link === this.#link && link.resubscribe()) this.#sendJoin(link, true);
      },
    );
  }

  /** A link, not started: a pending connect's events go to the switch until it is promoted, the rest here. */
  #newLink(token: LinkToken, mayRenew: () => boolean): SessionLinkPort {
    const h = this.#h;
    const post = (link: SessionLinkPort, event: LinkEvent): void =>
      void h.enqueue({ kind: 'link', link, event });
    return h.options.linkFactory({
      token,
      mayRenew,
      renew: h.options.renewToken,
      logger: this.#log.child({ module: 'cloud' }),
      now: () => h.core.now(),
      routes: (link) => ({
        connected: (reconnection) => post(link, { type: 'connected', reconnection }),
        messages: (messages) => post(link, { type: 'messages', messages }),
        disconnected: (reason) => post(link, { type: 'disconnected', reason }),
        closed: (reason) => post(link, { type: 'closed', reason }),
      }),
    });
  }

  /**
   * A link with a token we minted (README "Own Qobuz identity"; a 'minted' input, or ensureJoined's
   * step): joins the account's session without taking playback. Only when the player has no link: an
   * app's connect is never replaced by ours.
   */
  openOwnLink(token: LinkToken): void {
    if (this.#link || this.#switch.pending || this.#h.stopped()) return;
    this.#request = null;
    this.#log.info('joining the Qobuz account in the background (qobuz.user_auth_token)');
    this.#openLink(token, false);
  }

  #join(link: SessionLinkPort, reconnection: boolean): void {
    if (link !== this.#link) return;
    // §5.12: a background rejoin must not take playback; re-activate only if we were active.
    if (reconnection) this.#h.options.onLinkEvent?.('reconnect', 1);
    this.#sendJoin(link, reconnection);
  }

  /** The join (§5.1); `background` for a rejoin that must not take playback by itself (§5.12). */
  #sendJoin(link: SessionLinkPort, background: boolean): void {
    if (link !== this.#link) return;
    const c = this.#h.core;
    c.joining();
    c.apply(say(
      joinMessage({
        // Our own token names the account, not a session (docs/protocol.md §8): 61 without one, unless refused (own-join.ts).
        sessionUuid: this.#request ? uuidBytes(this.#request.sessionId) : this.#ownJoin.sessionUuid(),
        device: c.device,
        renderer: this.#request !== null && c.joinMode === 'renderer',
        background,
        wantsActive: c.activation.wantsActive,
        report: () => c.rendererReport(),
      }),
    ));
  }

  /** A batch of Qobuz messages for the current link (docs/protocol.md §3). */
  #dispatch(link: SessionLinkPort, messages: QcMessage[]): Outcome {
    if (link !== this.#link) return NOTHING;
    const c = this.#h.core;
    const handled = dispatchMessages(c, messages, this.#log, this.#h.options.onMessageHandled);
    this.#h.watch()?.messages(messages);
    // A join of ours refused (docs/protocol.md "Unknowns"): again with what is known, or presence off for a while.
    const step = this.#ownJoin.afterBatch(!this.#request, c.linkState === 'joined', c.sessionUuid, messages);
    if (step === 'retry') return inOrder(handled, c.decide(() => this.#sendJoin(link, false)));
    if (step === 'off') {
      // What the batch's intents said leaves on this link, before it closes.
      const effect = c.apply(handled);
      this.#closeLink('the service refused our join');
      this.#cloud?.rejoinLater();
      return work(effect);
    }
    return handled;
  }

  #onDown(link: SessionLinkPort, reason: string): void {
    if (link !== this.#link) return;
    this.#log.info({ reason }, 'Qobuz link down');
    this.#h.core.linkDown();
  }

  #onClosed(link: SessionLinkPort, reason: string): void {
    if (link !== this.#link) return;
    const expired = reason === TOKEN_EXPIRED;
    logLinkClosed(this.#log, reason, expired, this.#cloud !== null);
    this.#link = null;
    this.#h.core.linkClosed(reason, expired);
    // README "Own Qobuz identity": the player comes back to the account's session after a while.
    this.#cloud?.rejoinLater();
  }

  #closeLink(reason: string): void {
    const link = this.#link;
    if (!link) return;
    this.#link = null;
    this.#h.core.linkClosed(null);
    link.close(reason);
  }
}
