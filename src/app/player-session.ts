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
import { errorMessage } from '../core/qcb-error.js';
import type { QcMessage } from '../protocol/frame-codec.js';
import { MESSAGE_NAMES } from '../protocol/message-types.js';
import { ctrlJoinSession, rndrJoinSession } from '../protocol/renderer-messages.js';
import { SerialQueue } from '../util/serial-queue.js';
import { SPEAKER_HANDLERS } from './player-event-handlers.js';
import { HANDLERS } from './qconnect-handlers.js';
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

export interface PlayerSessionOptions extends Omit<SessionCoreOptions, 'now'> {
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
  /** Track ids of an album, playlist or track from the Qobuz REST API, for `queue_add` (issue #14). */
  readonly trackIdsOf?: TrackIdsLookup;
}

export class PlayerSession {
  readonly #core: SessionCore;
  readonly #loop = new SerialQueue();
  readonly #o: PlayerSessionOptions;
  readonly #log: Logger;
  #link: QconnectLink | null = null;
  #request: ConnectRequest | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(options: PlayerSessionOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.#core = new SessionCore({ ...options, now: options.now ?? Date.now });
  }

  /** The session we are in; "" once its link ended for good (get-connect-info `current_session_id`, issue #12). */
  get sessionId(): string {
    return this.#link && this.#request ? this.#request.sessionId : '';
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
    return this.#core.effectiveMaxQuality;
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
  }

  /** The app picked us (POST connect-to-qconnect): join that session, replacing any previous one cleanly. */
  connect(request: ConnectRequest): Promise<void> {
    return this.#loop.run(() => {
      // The app picking us again in the same session keeps the queue; any other connect starts clean (issue #12).
      const fresh = request.sessionId !== this.sessionId;
      this.#closeLink('replaced by a new connect');
      this.#request = request;
      if (fresh) {
        this.#core
          .newSession()
          ?.catch((err: unknown) => this.#log.warn({ err: errorMessage(err) }, 'speaker command failed'));
      }
      const link = new QconnectLink({
        endpoint: request.jwtQconnect.endpoint,
        jwt: request.jwtQconnect.jwt,
        expiresAtMs: request.jwtQconnect.exp * 1000,
        logger: this.#log.child({ module: 'cloud' }),
        now: () => this.#core.now(),
        ...(this.#o.renewToken ? { renewToken: this.#o.renewToken } : {}),
        ...this.#o.link,
      });
      this.#link = link;
      this.#core.linkOpened(
        (messages) => link.send(messages),
        request.becomeActive,
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
    });
  }

  /**
   * A command from MQTT, applied in the loop like any input; the answer waits (outside the loop)
   * until the speaker did it. Rejects with a QcbError (ERR_NO_SESSION …) the adapter turns into a reply.
   */
  async command(cmd: PlayerCommand): Promise<void> {
    const effects = await this.#loop.run(() =>
      applyCommand(this.#core, cmd, {
        // A command's slow step (a REST lookup) comes back to the loop for what follows it (issue #14).
        inLoop: (task) => this.#loop.run(task),
        trackIdsOf: this.#o.trackIdsOf ?? null,
      }),
    );
    await Promise.all(effects);
  }

  /** Shutdown: tell Qobuz we stopped, leave the speaker paused (README "Command line"). */
  async stop(): Promise<void> {
    await this.#loop.run(() => {
      this.#stopped = true;
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
    this.#loop
      .run(() => {
        handle()?.catch((err: unknown) =>
          this.#log.warn({ err: errorMessage(err), what }, 'speaker command failed'),
        );
      })
      .catch((err: unknown) => this.#log.warn({ err: errorMessage(err), what }, 'session input failed'));
  }

  #join(link: QconnectLink, reconnection: boolean): void {
    if (link !== this.#link || !this.#request) return;
    // §5.12: a background rejoin must not take playback; re-activate only if we were active.
    if (reconnection) this.#o.onLinkEvent?.('reconnect', 1);
    this.#sendJoin(link, reconnection);
  }

  /** The join (§5.1); `background` for a rejoin that must not take playback by itself (§5.12). */
  #sendJoin(link: QconnectLink, background: boolean): void {
    if (link !== this.#link || !this.#request) return;
    const c = this.#core;
    const reconnection = background;
    c.joining();
    const sessionUuid = uuidBytes(this.#request.sessionId);
    if (c.joinMode === 'renderer') {
      c.send([
        rndrJoinSession(sessionUuid, c.device, {
          reconnection,
          isActive: !reconnection && c.wantsActive,
          initialState: c.rendererReport(),
        }),
      ]);
    } else {
      c.send([ctrlJoinSession(sessionUuid, c.device)]);
    }
  }

  /** A batch of Qobuz messages, handled in order (docs/protocol.md §3); one failing handler never stops the rest. */
  #dispatch(link: QconnectLink, messages: QcMessage[]): Effect {
    if (link !== this.#link) return null;
    const effects: Promise<void>[] = [];
    for (const m of messages) {
      if (m.type === 'unknown') {
        this.#log.debug({ messageType: m.messageType }, 'unknown message type ignored');
        continue;
      }
      const name = MESSAGE_NAMES[m.type];
      const handler = HANDLERS[name] as ((core: SessionCore, body: unknown) => Effect) | undefined;
      if (!handler) {
        this.#log.debug({ messageType: m.type, name }, 'message without handler ignored');
        continue;
      }
      const started = performance.now();
      try {
        const effect = handler(this.#core, m.body);
        if (effect)
          effects.push(
            effect.catch((err: unknown) =>
              this.#log.warn({ err: errorMessage(err), name }, 'speaker command failed'),
            ),
          );
        this.#o.onMessageHandled?.(m.type, performance.now() - started);
      } catch (err) {
        this.#log.warn({ err: errorMessage(err), messageType: m.type, name }, 'handler failed');
      }
    }
    return effects.length > 0 ? Promise.all(effects).then(() => undefined) : null;
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
      this.#log.info({ reason }, 'Qobuz session closed: waiting for the app');
    }
    this.#link = null;
    this.#core.linkClosed(reason, expired);
  }

  #closeLink(reason: string): void {
    const link = this.#link;
    if (!link) return;
    this.#link = null;
    this.#core.linkClosed(null);
    link.close(reason);
  }
}

/** The app's hyphenated session uuid as the 16 bytes the joins carry (§5.1). */
export function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  return /^[0-9a-fA-F]{32}$/.test(hex)
    ? Uint8Array.from(Buffer.from(hex, 'hex'))
    : new TextEncoder().encode(uuid);
}
