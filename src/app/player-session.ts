import type { Logger } from 'pino';
import {
  QconnectLink,
  TOKEN_EXPIRED,
  type LinkToken,
  type QconnectLinkOptions,
} from '../cloud/qconnect-link.js';
import type { ConnectRequest } from '../core/connect-request.js';
import type { PlayerEvents } from '../core/player.js';
import type { PlayerCommand, PlayerView } from '../core/player-view.js';
import { QcbError, errorMessage } from '../core/qcb-error.js';
import type { QcMessage } from '../protocol/frame-codec.js';
import { joinMessage, uuidBytes } from '../protocol/renderer-messages.js';
import { withTimeout } from '../util/abortable-sleep.js';
import { SerialQueue } from '../util/serial-queue.js';
import { volumeTimedOut } from './volume-commands.js';
import { CloudPresence } from './cloud-presence.js';
import { dispatchMessages } from './dispatch-messages.js';
import { LoopWaits } from './loop-waits.js';
import { MediaCommands, type MediaHost } from './media-commands.js';
import { SPEAKER_HANDLERS } from './player-event-handlers.js';
import type { TrackIdsLookup } from './queue-commands.js';
import { applyCommand } from './session-commands.js';
import { SessionCore, type Effect, type QueueView, type SessionCoreOptions } from './session-core.js';

/**
 * One player's Qobuz Connect life (docs/protocol.md §5) as ONE loop (docs/architecture.md "One
 * owner per player"): Qobuz messages, speaker events, MQTT commands, timers and link changes are
 * each queued as an input and handled one at a time, to the end, by code that never waits for
 * the speaker. The state lives in SessionCore, which only this loop touches. A failure here never
 * reaches another player.
 */

export interface PlayerSessionOptions extends Omit<SessionCoreOptions, 'now' | 'awaitVolumeReport'> {
  readonly now?: () => number;
  /** docs/protocol.md §5.7: report every 10 s while active and playing. */
  readonly heartbeatMs?: number;
  /** Tuning for tests (backoff steps, ping period). */
  readonly link?: Partial<
    Pick<QconnectLinkOptions, 'backoffStepsMs' | 'pingIntervalMs' | 'deadAfterMs' | 'connectTimeoutMs'>
  >;
  readonly onLinkEvent?: (
    event: 'reconnect' | 'frames_in' | 'frames_out' | 'token_renewed_ahead' | 'token_renewed_at_reconnect',
    count: number,
  ) => void;
  /** Mints a WebSocket token with the user's own token (README "Own Qobuz identity"): sessions outlive the app's hour. */
  readonly renewToken?: () => Promise<LinkToken>;
  /** Each Qobuz message handled, with how long it took (metrics). */
  readonly onMessageHandled?: (messageType: number, elapsedMs: number) => void;
  /** Track ids of an album, playlist or track from the Qobuz REST API, for `queue_add` (issue #14) and `play_media`. */
  readonly trackIdsOf?: TrackIdsLookup;
  // ---- the player's own Qobuz identity (README "Own Qobuz identity"): all need `renewToken` ----
  /** Join the account's session at start, in the background, with a minted token (cloud presence). */
  readonly cloud?: boolean;
  /** Delays between failed cloud joins (default CLOUD_RETRY_STEPS_MS). */
  readonly cloudRetryStepsMs?: readonly number[];
  /** play_media / transfer: each step with the service (default 10 s) and the speaker starting (default 20 s). */
  readonly mediaStepTimeoutMs?: number;
  readonly mediaPlayTimeoutMs?: number;
}

export class PlayerSession {
  readonly #core: SessionCore;
  readonly #loop = new SerialQueue();
  readonly #o: PlayerSessionOptions;
  readonly #log: Logger;
  readonly #waits = new LoopWaits();
  readonly #media: MediaCommands;
  readonly #cloud: CloudPresence | null;
  #link: QconnectLink | null = null;
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
    this.#cloud =
      options.cloud && mint
        ? new CloudPresence({
            mint,
            join: (token) => this.#input('cloud join', () => this.#openOwnLink(token)),
            logger: this.#log.child({ module: 'cloud' }),
            ...(options.cloudRetryStepsMs ? { retryStepsMs: options.cloudRetryStepsMs } : {}),
          })
        : null;
    this.#media = new MediaCommands({
      host: this.#mediaHost(),
      trackIdsOf: options.trackIdsOf ?? null,
      canMint: mint !== undefined,
      stepTimeoutMs: options.mediaStepTimeoutMs ?? 10_000,
      playTimeoutMs: options.mediaPlayTimeoutMs ?? 20_000,
      logger: this.#log,
    });
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

  /** The app picked us (POST connect-to-qconnect): join that session, replacing any previous one cleanly. */
  connect(request: ConnectRequest): Promise<void> {
    return this.#run(() => {
      // The app picking us again in the same session keeps the queue; any other connect starts clean (issue #12).
      const fresh = request.sessionId.toLowerCase() !== this.sessionId.toLowerCase();
      // One link per player (docs/protocol.md §8): the app's replaces ours, or the previous app's.
      this.#closeLink('replaced by a new connect');
      this.#request = request;
      if (fresh) {
        this.#core
          .newSession()
          ?.catch((err: unknown) => this.#log.warn({ err: errorMessage(err) }, 'speaker command failed'));
      }
      const t = request.jwtQconnect;
      this.#openLink({ jwt: t.jwt, expiresAtMs: t.exp * 1000, endpoint: t.endpoint }, request.becomeActive);
    });
  }

  /**
   * A command from MQTT, applied in the loop like any input; the answer waits (outside the loop)
   * until the speaker did it. Rejects with a QcbError (ERR_NO_SESSION …) the adapter turns into a reply.
   */
  async command(cmd: PlayerCommand): Promise<void> {
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
      }
    });
  }

  /** Opens the player's one link with `token`; `becomeActive` takes playback once joined (§5.3). */
  #openLink(token: LinkToken, becomeActive: boolean): void {
    const link = new QconnectLink({
      endpoint: token.endpoint,
      jwt: token.jwt,
      expiresAtMs: token.expiresAtMs,
      logger: this.#log.child({ module: 'cloud' }),
      now: () => this.#core.now(),
      ...(this.#o.renewToken ? { renewToken: this.#o.renewToken } : {}),
      ...this.#o.link,
    });
    this.#link = link;
    this.#core.linkOpened(
      (messages) => link.send(messages),
      becomeActive,
      () => {
        if (link === this.#link && link.resubscribe()) this.#sendJoin(link, true);
      },
    );
    link.events.on('connected', ({ reconnection }) =>
      this.#input('connected', () => this.#join(link, reconnection)),
    );
    link.events.on('messages', (messages) => this.#input('messages', () => this.#dispatch(link, messages)));
    link.events.on('disconnected', (info) =>
      this.#input('disconnected', () => this.#onDown(link, info.reason)),
    );
    link.events.on('closed', (reason) => this.#input('closed', () => this.#onClosed(link, reason)));
    link.events.on('tokenRenewed', ({ ahead }) =>
      this.#o.onLinkEvent?.(ahead ? 'token_renewed_ahead' : 'token_renewed_at_reconnect', 1),
    );
    link.events.on('framesIn', (n) => this.#o.onLinkEvent?.('frames_in', n));
    link.events.on('framesOut', (n) => this.#o.onLinkEvent?.('frames_out', n));
    link.start();
  }

  /**
   * A link with a token we minted (README "Own Qobuz identity"): joins the account's session without
   * taking playback. Only when the player has no link: an app's connect is never replaced by ours.
   */
  #openOwnLink(token: LinkToken): void {
    if (this.#link || this.#stopped) return;
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
          if (!this.#link) throw new QcbError('ERR_SESSION_CLOSED', 'the Qobuz link ended before it joined');
          return false;
        },
        timeoutMs,
        'joining the Qobuz session',
      ),
    );
  }

  #join(link: QconnectLink, reconnection: boolean): void {
    if (link !== this.#link) return;
    // §5.12: a background rejoin must not take playback; re-activate only if we were active.
    if (reconnection) this.#o.onLinkEvent?.('reconnect', 1);
    this.#sendJoin(link, reconnection);
  }

  /** The join (§5.1); `background` for a rejoin that must not take playback by itself (§5.12). */
  #sendJoin(link: QconnectLink, background: boolean): void {
    if (link !== this.#link) return;
    const c = this.#core;
    c.joining();
    c.send([
      joinMessage({
        // Our own token names the account, not a session (docs/protocol.md §8): 61 without a session uuid.
        sessionUuid: this.#request ? uuidBytes(this.#request.sessionId) : null,
        device: c.device,
        renderer: this.#request !== null && c.joinMode === 'renderer',
        background,
        wantsActive: c.wantsActive,
        report: () => c.rendererReport(),
      }),
    ]);
  }

  /** A batch of Qobuz messages for the current link (docs/protocol.md §3). */
  #dispatch(link: QconnectLink, messages: QcMessage[]): Effect {
    if (link !== this.#link) return null;
    return dispatchMessages(this.#core, messages, this.#log, this.#o.onMessageHandled);
  }

  #onDown(link: QconnectLink, reason: string): void {
    if (link !== this.#link) return;
    this.#log.info({ reason }, 'Qobuz link down');
    this.#core.linkDown();
  }

  #onClosed(link: QconnectLink, reason: string): void {
    if (link !== this.#link) return;
    const expired = reason === TOKEN_EXPIRED;
    if (expired) {
      // README "MQTT topics" (`expired`): the one line that tells the user what happened and what to do.
      this.#log.warn(
        "Qobuz session ended: the app's token expired (they last about an hour); pick this speaker in the Qobuz app again, or set qobuz.user_auth_token so the bridge renews it itself",
      );
    } else {
      this.#log.info(
        { reason },
        this.#cloud
          ? 'Qobuz session closed: joining the account again shortly'
          : 'Qobuz session closed: waiting for the app',
      );
    }
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
