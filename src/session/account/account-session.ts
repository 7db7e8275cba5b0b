import type { Logger } from 'pino';
import type {
  AccountSessionCommand,
  AccountSessionPublisher,
  AccountSessionView,
} from '../../core/account-session-view.js';
import { NO_SESSION } from '../../core/account-session-view.js';
import type { TrackInfo } from '../../core/player-view.js';
import { QcbError, errorMessage } from '../../core/qcb-error.js';
import type {
  RendererPlayState,
  SessionController,
  SessionLinkFact,
  SessionObserver,
  SessionRendererInfo,
} from '../../core/session-observer.js';
import { runAccountCommand, type AccountCommandHost } from './account-commands.js';
import { accountEvents, accountView } from './account-view.js';
import { LoopWaits } from '../loop-waits.js';
import { SessionRoster } from './session-roster.js';

/**
 * The ONE owner of the account's Qobuz Connect session as Home Assistant sees it (README "The
 * Qobuz session", issue #24; docs/architecture.md "The account's session"). Every player's session
 * feeds it the facts its link hears (through the SessionObserver port); it keeps one roster per
 * player and publishes the view of exactly one of them: the first player, in config order, whose
 * link is its own (minted) and joined, else the first joined one. When that link goes, the next
 * player's roster, already whole, takes over. Several players of one bridge therefore never
 * publish conflicting copies: they publish nothing about the session; this does.
 *
 * Facts arrive from the players' loops one at a time (Node runs them on one thread), and each is
 * handled to its end here without waiting, so this needs no loop of its own.
 */

export interface AccountSessionOptions {
  /** Configured players in config order, with their device uuids. */
  readonly players: readonly { readonly id: string; readonly uuid: string }[];
  readonly publisher: () => AccountSessionPublisher | null;
  /** Track metadata (title, artist, album, cover) from the Qobuz REST API; null without app id and secret. */
  readonly trackInfo: ((trackId: number) => Promise<TrackInfo | null>) | null;
  readonly logger: Logger;
  readonly now?: () => number;
  /** How long a command waits for the service's answer (default 10 s). */
  readonly stepTimeoutMs?: number;
}

/** Track metadata kept for the active device's tracks; old entries go first. */
const TRACK_CACHE = 64;
/** Service errors that answer a renderer's own report, not a controller verb (docs/protocol.md §5.13). */
const NOT_A_REFUSAL = /non active renderer/i;

export class AccountSession implements SessionObserver {
  readonly #o: AccountSessionOptions;
  readonly #rosters = new Map<string, SessionRoster>();
  readonly #controllers = new Map<string, SessionController>();
  readonly #errors = new Map<string, { count: number; last: string }>();
  readonly #tracks = new Map<number, TrackInfo | null>();
  readonly #lookups = new Set<number>();
  readonly #waits = new LoopWaits();
  readonly #byUuid: ReadonlyMap<string, string>;
  #view: AccountSessionView = NO_SESSION;
  #json = '';
  #stopped = false;

  constructor(options: AccountSessionOptions) {
    this.#o = options;
    for (const p of options.players) this.#rosters.set(p.id, new SessionRoster());
    this.#byUuid = new Map(options.players.map((p) => [p.uuid.toLowerCase(), p.id]));
  }

  /** The view as last published. */
  get view(): AccountSessionView {
    return this.#view;
  }

  /** The first view (no session yet), retained, so Home Assistant never reads a stale one from before. */
  start(): void {
    this.#publish(true);
  }

  stop(): void {
    this.#stopped = true;
    this.#waits.failAll(new QcbError('ERR_SESSION_CLOSED', 'the bridge is stopping'));
  }

  /** `B/session/set` (README "The Qobuz session"). */
  command(command: AccountSessionCommand): Promise<void> {
    return runAccountCommand(this.#host(), command);
  }

  // ---- SessionObserver: facts from the players' loops ------------------------------------------

  attach(playerId: string, controller: SessionController): void {
    this.#controllers.set(playerId, controller);
  }

  link(playerId: string, link: SessionLinkFact | null): void {
    this.#roster(playerId)?.setLink(link);
    this.#changed();
  }

  rendererAdded(playerId: string, renderer: SessionRendererInfo): void {
    this.#roster(playerId)?.added(renderer);
    this.#changed();
  }

  rendererRemoved(playerId: string, rendererId: number): void {
    this.#roster(playerId)?.removed(rendererId);
    this.#changed();
  }

  activeChanged(playerId: string, rendererId: number): void {
    const r = this.#roster(playerId);
    if (r) r.activeRendererId = rendererId;
    this.#changed();
  }

  rendererState(playerId: string, rendererId: number, state: RendererPlayState | null, connected: boolean): void {
    this.#roster(playerId)?.reported(rendererId, state, connected);
    this.#changed();
  }

  queueChanged(playerId: string, trackOf: (queueItemId: number) => number | null): void {
    if (this.#roster(playerId)?.resolveTracks(trackOf)) this.#changed();
  }

  serviceError(playerId: string, message: string): void {
    if (NOT_A_REFUSAL.test(message)) return;
    const e = this.#errors.get(playerId) ?? { count: 0, last: '' };
    this.#errors.set(playerId, { count: e.count + 1, last: message });
    this.#waits.check();
  }

  // ---- private -----------------------------------------------------------------------------

  #roster(playerId: string): SessionRoster | undefined {
    return this.#rosters.get(playerId);
  }

  /** The player whose link answers for the session: own links first, then config order. */
  #answerer(): string | null {
    const joined = this.#o.players.filter((p) => this.#rosters.get(p.id)?.joined);
    return (joined.find((p) => this.#rosters.get(p.id)?.link?.own) ?? joined[0])?.id ?? null;
  }

  #changed(): void {
    if (this.#stopped) return;
    this.#publish(false);
    this.#waits.check();
  }

  /** Derives the view; publishes it, and the events since the last one, when it changed. */
  #publish(force: boolean): void {
    const via = this.#answerer();
    const next = accountView({
      roster: via ? (this.#rosters.get(via) ?? null) : null,
      via,
      playersByUuid: this.#byUuid,
      track: (id) => this.#track(id),
    });
    const json = JSON.stringify(next);
    if (!force && json === this.#json) return;
    const events = accountEvents(this.#view, next, this.#o.now?.() ?? Date.now());
    this.#view = next;
    this.#json = json;
    const publisher = this.#o.publisher();
    publisher?.publishSessionState(next);
    for (const e of events) publisher?.publishSessionEvent(e);
    if (events.length > 0) this.#o.logger.debug({ events: events.map((e) => e.type) }, 'Qobuz session changed');
  }

  /** Known metadata, or null while it is looked up (the view is published again when it arrives). */
  #track(trackId: number): TrackInfo | null {
    if (this.#tracks.has(trackId)) return this.#tracks.get(trackId) ?? null;
    const lookup = this.#o.trackInfo;
    if (lookup && !this.#lookups.has(trackId)) {
      this.#lookups.add(trackId);
      lookup(trackId)
        .catch((err: unknown) => {
          this.#o.logger.debug({ err: errorMessage(err), trackId }, 'no metadata for the session view');
          return null;
        })
        .then((info) => {
          this.#lookups.delete(trackId);
          this.#tracks.set(trackId, info);
          while (this.#tracks.size > TRACK_CACHE) this.#tracks.delete(this.#tracks.keys().next().value!);
          this.#changed();
        })
        .catch(() => undefined);
    }
    return null;
  }

  #host(): AccountCommandHost {
    return {
      view: () => this.#view,
      answerer: () => {
        const id = this.#answerer();
        const controller = id ? this.#controllers.get(id) : undefined;
        return id && controller ? { playerId: id, controller } : null;
      },
      errorCount: (id) => this.#errors.get(id)?.count ?? 0,
      lastError: (id) => this.#errors.get(id)?.last ?? '',
      until: (probe, timeoutMs, what) => this.#waits.until(probe, timeoutMs, what),
      stepTimeoutMs: this.#o.stepTimeoutMs ?? 10_000,
    };
  }
}
