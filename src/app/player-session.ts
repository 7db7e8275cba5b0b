import type { Logger } from 'pino';
import { QconnectLink, type QconnectLinkOptions } from '../cloud/qconnect-link.js';
import type { ConnectRequest } from '../core/connect-request.js';
import type { PlayerCommand, PlayerView } from '../core/player-view.js';
import { errorMessage } from '../core/qcb-error.js';
import type { QcMessage } from '../protocol/frame-codec.js';
import { ctrlJoinSession, rndrJoinSession } from '../protocol/renderer-messages.js';
import { SerialQueue } from '../util/serial-queue.js';
import {
  onAvailabilityChanged,
  onFormatChanged,
  onItemFailed,
  onQueueEnded,
  onStateChanged,
  onTrackStarted,
  onVolumeChanged,
} from './player-event-handlers.js';
import { HANDLERS } from './qconnect-handlers.js';
import { applyCommand } from './session-commands.js';
import { SessionCore, type SessionCoreOptions } from './session-core.js';

/**
 * One player's Qobuz Connect life (qconnect-protocol.md §5): it joins the session the app
 * hands over, answers the service, drives the Player and reports back. Qobuz messages, player
 * events, MQTT commands and timers all go through ONE serial queue (STYLE.md principle 4), so
 * the state in SessionCore has a single owner. A failure here never reaches another player.
 */

export interface PlayerSessionOptions extends Omit<SessionCoreOptions, 'now'> {
  readonly now?: () => number;
  /** §5.7: report every 10 s while active and playing. */
  readonly heartbeatMs?: number;
  /** Tuning for tests (backoff steps, ping period). */
  readonly link?: Partial<Pick<QconnectLinkOptions, 'backoffStepsMs' | 'pingIntervalMs' | 'deadAfterMs' | 'connectTimeoutMs'>>;
  readonly onLinkEvent?: (event: 'reconnect' | 'frames_in' | 'frames_out', count: number) => void;
  /** Each Qobuz message handled, with how long it took (metrics). */
  readonly onMessageHandled?: (messageType: number, elapsedMs: number) => void;
}

export class PlayerSession {
  readonly core: SessionCore;
  readonly #queue = new SerialQueue();
  readonly #o: PlayerSessionOptions;
  readonly #log: Logger;
  #link: QconnectLink | null = null;
  #request: ConnectRequest | null = null;
  #heartbeat: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(options: PlayerSessionOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.core = new SessionCore({ ...options, now: options.now ?? Date.now });
  }

  get sessionId(): string {
    return this.#request?.sessionId ?? '';
  }

  get connected(): boolean {
    return this.core.linkState === 'joined';
  }

  view(): PlayerView {
    return this.core.view();
  }

  start(): void {
    const p = this.#o.player.events;
    p.on('trackStarted', (item) => this.#run('trackStarted', () => onTrackStarted(this.core, item)));
    p.on('queueEnded', () => this.#run('queueEnded', () => onQueueEnded(this.core)));
    p.on('stateChanged', (snap) => this.#run('stateChanged', () => onStateChanged(this.core, snap)));
    p.on('volumeChanged', (v, m) => this.#run('volumeChanged', () => onVolumeChanged(this.core, v, m)));
    p.on('formatChanged', (f) => this.#run('formatChanged', () => onFormatChanged(this.core, f)));
    p.on('itemFailed', (item, why) => this.#run('itemFailed', () => onItemFailed(this.core, item, why)));
    p.on('availabilityChanged', (a) => this.#run('availability', () => onAvailabilityChanged(this.core, a)));
    this.#heartbeat = setInterval(() => this.#run('heartbeat', () => this.#beat()), this.#o.heartbeatMs ?? 10_000);
    this.core.publishView();
  }

  /** The app picked us (POST connect-to-qconnect): join that session, replacing any previous one cleanly. */
  connect(request: ConnectRequest): Promise<void> {
    return this.#queue.run(() => {
      this.#closeLink('replaced by a new connect');
      this.#request = request;
      this.core.wantActive = request.becomeActive;
      this.core.linkState = 'connecting';
      const link = new QconnectLink({
        endpoint: request.jwtQconnect.endpoint,
        jwt: request.jwtQconnect.jwt,
        expiresAtMs: request.jwtQconnect.exp * 1000,
        logger: this.#log.child({ module: 'cloud' }),
        now: this.core.o.now,
        ...this.#o.link,
      });
      this.#link = link;
      this.core.send = (messages) => link.send(messages);
      link.events.on('connected', ({ reconnection }) => this.#run('connected', () => this.#join(link, reconnection)));
      link.events.on('messages', (messages) => this.#run('messages', () => this.#dispatch(link, messages)));
      link.events.on('disconnected', (info) => this.#run('disconnected', () => this.#onDown(link, info.reason)));
      link.events.on('closed', (reason) => this.#run('closed', () => this.#onClosed(link, reason)));
      link.events.on('framesIn', (n) => this.#o.onLinkEvent?.('frames_in', n));
      link.events.on('framesOut', (n) => this.#o.onLinkEvent?.('frames_out', n));
      link.start();
      this.core.publishView();
    });
  }

  /** A command from MQTT; rejects with a QcbError (ERR_NO_SESSION …) the adapter turns into a reply. */
  command(cmd: PlayerCommand): Promise<void> {
    return this.#queue.run(() => applyCommand(this.core, cmd));
  }

  /** Shutdown: tell Qobuz we stopped, leave the speaker paused (SPEC.md "Command line"). */
  async stop(): Promise<void> {
    await this.#queue.run(async () => {
      this.#stopped = true;
      if (this.#heartbeat) clearInterval(this.#heartbeat);
      if (this.core.active && this.core.intent.status !== 'stopped') {
        this.core.setIntent('stopped', this.core.positionNow(), false);
        this.core.reportState();
      }
      this.#closeLink('bridge stopping');
      this.core.active = false;
    });
  }

  /** Resolves once everything queued so far has been handled (tests, shutdown). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  #run(what: string, task: () => Promise<void> | void): void {
    if (this.#stopped) return;
    this.#queue.run(task).catch((err: unknown) => this.#log.warn({ err: errorMessage(err), what }, 'session task failed'));
  }

  #join(link: QconnectLink, reconnection: boolean): void {
    if (link !== this.#link || !this.#request) return;
    const c = this.core;
    // §5.12: a background rejoin must not take playback; re-activate only if we were active.
    if (reconnection) this.#o.onLinkEvent?.('reconnect', 1);
    c.active = false;
    c.rendererId = null;
    const sessionUuid = uuidBytes(this.#request.sessionId);
    if (this.#o.joinMode === 'renderer') {
      c.send([
        rndrJoinSession(sessionUuid, this.#o.device, {
          reconnection,
          isActive: !reconnection && c.wantActive,
          initialState: c.rendererReport(),
        }),
      ]);
    } else {
      c.send([ctrlJoinSession(sessionUuid, this.#o.device)]);
    }
  }

  async #dispatch(link: QconnectLink, messages: QcMessage[]): Promise<void> {
    if (link !== this.#link) return;
    for (const m of messages) {
      if (m.type === 'unknown') {
        this.#log.debug({ messageType: m.messageType }, 'unknown message type ignored');
        continue;
      }
      const handler = HANDLERS[m.type] as ((core: SessionCore, body: unknown) => Promise<void> | void) | undefined;
      if (!handler) {
        this.#log.debug({ messageType: m.type }, 'message type without handler ignored');
        continue;
      }
      const started = performance.now();
      try {
        await handler(this.core, m.body);
        this.#o.onMessageHandled?.(m.type, performance.now() - started);
      } catch (err) {
        this.#log.warn({ err: errorMessage(err), messageType: m.type }, 'handler failed');
      }
    }
  }

  #onDown(link: QconnectLink, reason: string): void {
    if (link !== this.#link) return;
    this.#log.info({ reason }, 'Qobuz link down');
    // Keep playing; stop reporting until rejoined. Remember whether to take playback back.
    this.core.wantActive = this.core.active || this.core.wantActive;
    this.core.active = false;
    this.core.linkState = 'connecting';
    this.core.publishView();
  }

  #onClosed(link: QconnectLink, reason: string): void {
    if (link !== this.#link) return;
    this.#log.info({ reason }, 'Qobuz session closed: waiting for the app');
    this.#link = null;
    this.core.send = () => false;
    this.core.active = false;
    this.core.linkState = 'none';
    this.core.event('session_closed', { reason });
    this.core.publishView();
  }

  #beat(): void {
    if (this.core.active && this.core.intent.status === 'playing') this.core.reportState();
  }

  #closeLink(reason: string): void {
    const link = this.#link;
    if (!link) return;
    this.#link = null;
    this.core.send = () => false;
    link.close(reason);
    this.core.linkState = 'none';
  }
}

/** The app's hyphenated session uuid as the 16 bytes the joins carry (§5.1). */
export function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  return /^[0-9a-fA-F]{32}$/.test(hex) ? Uint8Array.from(Buffer.from(hex, 'hex')) : new TextEncoder().encode(uuid);
}
