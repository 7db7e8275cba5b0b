import type { Logger } from 'pino';
import { TOKEN_EXPIRED, type LinkToken } from '../core/link-token.js';
import type { ConnectRequest } from '../core/connect-request.js';
import type { PlayerEvents } from '../core/player.js';
import type { PlayerCommand, PlayerView } from '../core/player-view.js';
import { QcbError, errorMessage } from '../core/qcb-error.js';
import type { QcMessage } from '../protocol/frame-codec.js';
import { joinMessage, uuidBytes } from '../protocol/renderer-messages.js';
import { withTimeout } from '../util/abortable-sleep.js';
import { SerialQueue } from '../util/serial-queue.js';
import { volumeTimedOut } from './verbs/volume-commands.js';
import { CloudPresence } from './activation/cloud-presence.js';
import { ConnectSwitch, type ConnectCandidate } from './activation/connect-candidate.js';
import { dispatchMessages } from './inputs/dispatch-messages.js';
import { supersedesWith } from './intent-supersede.js';
import { LoopWaits } from './loop-waits.js';
import { MediaCommands, type MediaHost } from './verbs/media-commands.js';
import { OwnJoin } from './activation/own-join.js';
import { SPEAKER_HANDLERS } from './inputs/player-event-handlers.js';
import { applyCommand } from './verbs/session-commands.js';
import { logLinkClosed, type SessionLinkPort } from './session-link-port.js';
import { SessionCore, type Effect, type QueueView } from './session-core.js';
import { SessionWatch } from './session-watch.js';
import type { PlayerSessionOptions } from './player-session-options.js';

export type { PlayerSessionOptions } from './player-session-options.js';

/**
 * One player's Qobuz Connect life (docs/protocol.md §5) as ONE loop (docs/architecture.md "One
 * owner per player"): Qobuz messages, speaker events, MQTT commands, timers and link changes are
 * each queued as an input and handled one at a time, to the end, by code that never waits for
 * the speaker. The state lives in SessionCore, which only this loop touches. A failure here never
 * reaches another player.
 */

export class PlayerSession {
  readonly #core: SessionCore;
  readonly #loop = new SerialQueue();
  readonly #o: PlayerSessionOptions;
  readonly #log: Logger;
  readonly #waits = new LoopWaits();
  readonly #media: MediaCommands;
  readonly #cloud: CloudPresence | null;
  readonly #ownJoin: OwnJoin;
  /** An app's connect being built beside the current link (make before break, issue #26). */
  readonly #switch: ConnectSwitch;
  readonly #watch: SessionWatch | null;
  #link: SessionLinkPort | null = null;
  /** The app's connect the link came from; null for a link of our own (cloud presence, play_media). */
  #request: ConnectRequest | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(options: PlayerSessionOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.#core = new SessionCore({
      ...options,
      now: options.now ?? Date.now,
      awaitVolumeReport: (n) => this.#awaitVolumeReport(n, options.volumeExternal?.reportTimeoutMs ?? 5000),
    });
    const mint = options.renewToken;
    this.#ownJoin = new OwnJoin(this.#log.child({ module: 'cloud' }));
    this.#cloud =
      options.cloud && mint
        ? new CloudPresence({
            mint,
            join: (token) => this.#input('cloud join', () => this.#openOwnLink(token)),
            logger: this.#log.child({ module: 'cloud' }),
            ...(options.cloudRetryStepsMs ? { retryStepsMs: options.cloudRetryStepsMs } : {}),
          })
        : null;
    this.#switch = new ConnectSwitch({
      core: this.#core,
      log: this.#log,
      timeoutMs: options.connectAcceptTimeoutMs ?? 20_000,
      newLink: (token, mayRenew) => this.#newLink(token, mayRenew),
      input: (what, task) => this.#input(what, task),
      currentSessionId: () => this.sessionId,
      promote: (c, messages) => this.#promote(c, messages),
      rejected: (c, reason) => {
        options.onConnectRejected?.(c.request, reason);
        // Cloud presence waited for this connect (#openOwnLink): with no link at all, it joins again.
        if (!this.#link && reason !== 'bridge_stopping') this.#cloud?.rejoinLater();
      },
    });
    this.#media = new MediaCommands({
      host: this.#mediaHost(),
      trackIdsOf: options.trackIdsOf ?? null,
      canMint: mint !== undefined,
      stepTimeoutMs: options.mediaStepTimeoutMs ?? 10_000,
      playTimeoutMs: options.mediaPlayTimeoutMs ?? 20_000,
      logger: this.#log,
    });
    const [observer, inLoop, ownLink] = [options.sessionObserver, this.#inLoop.bind(this), () => !this.#request];
    this.#watch = observer ? new SessionWatch({ ...options, observer, core: this.#core, inLoop, ownLink }) : null;
  }

  /**
   * The session we are in; "" once its link ended for good (get-connect-info `current_session_id`,
   * issue #12). A link of our own learns it from the service (81).
   */
  get sessionId(): string {
    if (!this.#link) return '';
    return this.#request ? this.#request.sessionId : (this.#core.sessionUuid ?? '');
  }

  get connected(): boolean {
    return this.#core.linkState === 'joined';
  }

  /** The queue as the session mirrors it (read-only). */
  get queue(): QueueView {
    return this.#core.queue;
  }

  /** The AudioQuality level streams are asked for: the configured one, lowered by the app's (44). */
  get effectiveMaxQuality(): number {
    return this.#core.playback.effectiveMaxQuality;
  }

  view(): PlayerView {
    return this.#core.view();
  }

  start(): void {
    const events = this.#o.player.events;
    for (const name of Object.keys(SPEAKER_HANDLERS) as Array<keyof typeof SPEAKER_HANDLERS>) {
      const handler = SPEAKER_HANDLERS[name] as (core: SessionCore, ...args: unknown[]) => Effect;
      events.on(name, (...args: PlayerEvents[typeof name]) =>
        this.#input(name, () => handler(this.#core, ...args)),
      );
    }
    this.#heartbeat = setInterval(
      () => this.#input('heartbeat', () => this.#core.heartbeat()),
      this.#o.heartbeatMs ?? 10_000,
    );
    this.#core.publishView();
    this.#cloud?.start();
  }

  /**
   * The app picked us (POST connect-to-qconnect). Make before break (README "Security", issue #26): the
   * new link is built beside the current one (connect-candidate.ts); only once the service has taken
   * its token and named us does the current session end (#promote). A connect the service refuses or
   * never answers changes nothing. Resolves once the new link is started.
   */
  connect(request: ConnectRequest): Promise<void> {
    return this.#run(() => {
      if (this.#stopped) throw new QcbError('ERR_SESSION_CLOSED', 'the bridge is stopping');
      this.#switch.start(request);
    });
  }

  /** The service accepted the connect: now, and only now, the current session ends and the new one begins. */
  #promote(c: ConnectCandidate, messages: QcMessage[]): Effect {
    const request = c.request;
    // The app picking us again in the same session keeps the queue; any other connect starts clean (issue #12).
    const fresh = request.sessionId.toLowerCase() !== this.sessionId.toLowerCase();
    // One link per player (docs/protocol.md §8): the app's replaces ours, or the previous app's.
    this.#closeLink('replaced by a new connect');
    this.#request = request;
    this.#ownJoin.seen(request.sessionId);
    this.#o.onConnectAccepted?.(request, fresh);
    const stopped = fresh ? this.#core.newSession() : null;
    this.#adopt(c.link, request.becomeActive);
    this.#core.joining();
    this.#log.info(
      { sessionChanged: fresh },
      'connect-to-qconnect joined: the new session replaces the previous one',
    );
    const handled = this.#dispatch(c.link, messages);
    return stopped && handled ? Promise.all([stopped, handled]).then(() => undefined) : (stopped ?? handled);
  }

  /**
   * A command from MQTT, applied in the loop like any input; the answer waits (outside the loop)
   * until the speaker did it. Rejects with a QcbError (ERR_NO_SESSION …) the adapter turns into a reply.
   */
  async command(cmd: PlayerCommand): Promise<void> {
    // The newest intent wins (intent-supersede.ts): what an older transport command still waits for is cut short now.
    const supersedes = supersedesWith(cmd);
    if (supersedes) {
      this.#media.supersede();
      void this.#run(() => this.#core.supersedePlays(supersedes === 'hold'));
    }
    // README "Own Qobuz identity": controller verbs on our own link, answered once the music plays.
    if (cmd.playMedia) return this.#media.playMedia(cmd.playMedia);
    if (cmd.transfer) return this.#media.transfer();
    const effects = await this.#run(() =>
      this.#media.playMeansTransfer(this.#core, cmd)
        ? null
        : applyCommand(this.#core, cmd, {
            // A command's slow step (a REST lookup) comes back to the loop for what follows it (issue #14).
            inLoop: (task) => this.#inLoop(task),
            trackIdsOf: this.#o.trackIdsOf ?? null,
          }),
    );
    if (effects === null) return this.#media.transfer();
    await Promise.all(effects);
  }

  /** Shutdown: tell Qobuz we stopped, leave the speaker paused (README "Command line"). */
  async stop(): Promise<void> {
    await this.#loop.run(() => {
      this.#stopped = true;
      this.#cloud?.stop();
      this.#waits.failAll(new QcbError('ERR_SESSION_CLOSED', 'the bridge is stopping'));
      if (this.#heartbeat) clearInterval(this.#heartbeat);
      this.#core.shutdown();
      this.#switch.drop('bridge_stopping', 'the bridge is stopping');
      this.#closeLink('bridge stopping');
    });
  }

  /** Resolves once every input queued so far has been handled; true when it had to wait (tests, shutdown). */
  idle(): Promise<boolean> {
    return this.#loop.idle();
  }

  /** Queues one input; the speaker work it returns runs on without the loop, its failure logged. */
  #input(what: string, handle: () => Effect | void): void {
    if (this.#stopped) return;
    this.#run(() => {
      handle()?.catch((err: unknown) =>
        this.#log.warn({ err: errorMessage(err), what }, 'speaker command failed'),
      );
    }).catch((err: unknown) => this.#log.warn({ err: errorMessage(err), what }, 'session input failed'));
  }

  /** One input in the loop, to its end; then whatever waits on the session's state looks again. */
  #run<T>(task: () => T): Promise<T> {
    return this.#loop.run(() => {
      try {
        return task();
      } finally {
        this.#waits.check();
        this.#watch?.afterInput();
      }
    });
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
    this.#core.linkOpened(
      (messages) => link.send(messages),
      becomeActive,
      () => {
        if (link === this.#link && link.resubscribe()) this.#sendJoin(link, true);
      },
    );
  }

  /** A link, not started: a pending connect's events go to the switch until it is promoted, the rest here. */
  #newLink(token: LinkToken, mayRenew: () => boolean): SessionLinkPort {
    const sw = this.#switch;
    return this.#o.linkFactory({
      token,
      mayRenew,
      renew: this.#o.renewToken,
      logger: this.#log.child({ module: 'cloud' }),
      now: () => this.#core.now(),
      routes: (link) => ({
        connected: (again) =>
          this.#input('connected', () => (sw.owns(link) ? sw.connected() : this.#join(link, again))),
        messages: (m) =>
          this.#input('messages', () => (sw.owns(link) ? sw.messages(m) : this.#dispatch(link, m))),
        disconnected: (why) =>
          this.#input('disconnected', () => (sw.owns(link) ? sw.ended(why) : this.#onDown(link, why))),
        closed: (why) =>
          this.#input('closed', () => (sw.owns(link) ? sw.ended(why) : this.#onClosed(link, why))),
      }),
    });
  }

  /**
   * A link with a token we minted (README "Own Qobuz identity"): joins the account's session without
   * taking playback. Only when the player has no link: an app's connect is never replaced by ours.
   */
  #openOwnLink(token: LinkToken): void {
    if (this.#link || this.#switch.pending || this.#stopped) return;
    this.#request = null;
    this.#log.info('joining the Qobuz account in the background (qobuz.user_auth_token)');
    this.#openLink(token, false);
  }

  /**
   * Runs `fn` as one input of the loop and resolves with what it returns. A promise it returns (an
   * answer to wait for) is wrapped, so it settles outside the loop and never holds it.
   */
  async #inLoop<T>(fn: (core: SessionCore) => T): Promise<Awaited<T>> {
    // An async function adopts the promise it returns: awaited here, out of the loop.
    return (await this.#run(() => ({ value: fn(this.#core) }))).value as Awaited<T>;
  }

  /**
   * README "Volume modes", `external`: called in the loop; a report settles it in the loop, and a
   * timeout comes back to the loop so the app hears the amplifier's real level again.
   */
  #awaitVolumeReport(n: number, timeoutMs: number): Promise<void> {
    const wait = this.#waits.until(() => this.#core.playback.external?.settled(n), timeoutMs, "the amplifier's volume_report");
    wait.catch(() => this.#input('volume report timeout', () => volumeTimedOut(this.#core, n)));
    return wait.then(() => undefined);
  }

  /** What play_media and transfer need of the session (media-commands.ts). */
  #mediaHost(): MediaHost {
    return {
      inLoop: (fn) => this.#inLoop(fn),
      until: (probe, timeoutMs, what) => this.#inLoop((core) => this.#waits.until(() => probe(core), timeoutMs, what)),
      ensureJoined: (timeoutMs) => this.#ensureJoined(timeoutMs),
    };
  }

  /** The link joined: the one we have (waiting for it to join), else one opened with a minted token. */
  async #ensureJoined(timeoutMs: number): Promise<void> {
    const hasLink = await this.#run(() => this.#link !== null);
    const mint = this.#o.renewToken;
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
      await this.#run(() => this.#openOwnLink(token));
    }
    await this.#inLoop((core) =>
      this.#waits.until(
        () => {
          if (core.linkState === 'joined') return true;
          if (!this.#link)
            throw this.#ownJoin.refusal() ?? new QcbError('ERR_SESSION_CLOSED', 'the Qobuz link ended before it joined');
          return false;
        },
        timeoutMs,
        'joining the Qobuz session',
      ),
    );
  }

  #join(link: SessionLinkPort, reconnection: boolean): void {
    if (link !== this.#link) return;
    // §5.12: a background rejoin must not take playback; re-activate only if we were active.
    if (reconnection) this.#o.onLinkEvent?.('reconnect', 1);
    this.#sendJoin(link, reconnection);
  }

  /** The join (§5.1); `background` for a rejoin that must not take playback by itself (§5.12). */
  #sendJoin(link: SessionLinkPort, background: boolean): void {
    if (link !== this.#link) return;
    const c = this.#core;
    c.joining();
    c.send([
      joinMessage({
        // Our own token names the account, not a session (docs/protocol.md §8): 61 without one, unless refused (own-join.ts).
        sessionUuid: this.#request ? uuidBytes(this.#request.sessionId) : this.#ownJoin.sessionUuid(),
        device: c.device,
        renderer: this.#request !== null && c.joinMode === 'renderer',
        background,
        wantsActive: c.activation.wantsActive,
        report: () => c.rendererReport(),
      }),
    ]);
  }

  /** A batch of Qobuz messages for the current link (docs/protocol.md §3). */
  #dispatch(link: SessionLinkPort, messages: QcMessage[]): Effect {
    if (link !== this.#link) return null;
    const effect = dispatchMessages(this.#core, messages, this.#log, this.#o.onMessageHandled);
    this.#watch?.messages(messages);
    // A join of ours refused (docs/protocol.md "Unknowns"): again with what is known, or presence off for a while.
    const c = this.#core;
    const step = this.#ownJoin.afterBatch(!this.#request, c.linkState === 'joined', c.sessionUuid, messages);
    if (step === 'retry') this.#sendJoin(link, false);
    if (step === 'off') {
      this.#closeLink('the service refused our join');
      this.#cloud?.rejoinLater();
    }
    return effect;
  }

  #onDown(link: SessionLinkPort, reason: string): void {
    if (link !== this.#link) return;
    this.#log.info({ reason }, 'Qobuz link down');
    this.#core.linkDown();
  }

  #onClosed(link: SessionLinkPort, reason: string): void {
    if (link !== this.#link) return;
    const expired = reason === TOKEN_EXPIRED;
    logLinkClosed(this.#log, reason, expired, this.#cloud !== null);
    this.#link = null;
    this.#core.linkClosed(reason, expired);
    // README "Own Qobuz identity": the player comes back to the account's session after a while.
    this.#cloud?.rejoinLater();
  }

  #closeLink(reason: string): void {
    const link = this.#link;
    if (!link) return;
    this.#link = null;
    this.#core.linkClosed(null);
    link.close(reason);
  }
}
