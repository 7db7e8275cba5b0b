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
import { SerialQueue } from '../../util/serial-queue.js';
import { StepGuard, deliverPartInput, type EnqueueStep } from '../loop-step.js';
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
 * It is one serial loop of its own, like a player's (docs/architecture.md "The account's
 * session"): every input (the facts the players' links hear, the commands, a track's metadata
 * arriving, a wait's timeout, start and stop) is queued and handled to its end, one at a time, and
 * the waits of the commands look again after each. Nothing here changes outside a step: in
 * development the StepGuard makes every write to the rosters and the view assert it.
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
  /** Development mode (loop-step.ts); a test hands its own to see the steps. */
  readonly guard?: StepGuard;
}

/** Track metadata kept for the active device's tracks; old entries go first. */
const TRACK_CACHE = 64;
/** Service errors that answer a renderer's own report, not a controller verb (docs/protocol.md §5.13). */
const NOT_A_REFUSAL = /non active renderer/i;

export class AccountSession implements SessionObserver {
  readonly #o: AccountSessionOptions;
  readonly #loop = new SerialQueue();
  readonly #guard: StepGuard;
  /** Timers and late answers come back as steps; unlike `#input`, also after stop, so nothing waits forever. */
  readonly #step: EnqueueStep = (what, fn) => this.#enqueue(what, fn);
  readonly #rosters = new Map<string, SessionRoster>();
  readonly #controllers = new Map<string, SessionController>();
  readonly #errors = new Map<string, { count: number; last: string }>();
  readonly #tracks = new Map<number, TrackInfo | null>();
  readonly #lookups = new Set<number>();
  readonly #waits = new LoopWaits((input) => this.#step(input.kind, () => deliverPartInput(input)));
  readonly #byUuid: ReadonlyMap<string, string>;
  #view: AccountSessionView = NO_SESSION;
  #json = '';
  #stopped = false;

  constructor(options: AccountSessionOptions) {
    this.#o = options;
    this.#guard = options.guard ?? new StepGuard();
    for (const p of options.players) this.#rosters.set(p.id, new SessionRoster(this.#guard));
    this.#byUuid = new Map(options.players.map((p) => [p.uuid.toLowerCase(), p.id]));
  }

  /** The first view (no session yet), retained, so Home Assistant never reads a stale one from before. */
  start(): void {
    this.#input('start', () => this.#publish(true));
  }

  /** Shutdown, as one step: the commands still waiting fail; later facts and commands are dropped. */
  async stop(): Promise<void> {
    await this.#run(() => {
      this.#stopped = true;
      this.#waits.failAll(new QcbError('ERR_SESSION_CLOSED', 'the bridge is stopping'));
    });
  }

  /** Resolves once every input queued so far has been handled; true when it had to wait (a test seam). */
  idle(): Promise<boolean> {
    return this.#loop.idle();
  }

  /** `B/session/set` (README "The Qobuz session"). */
  command(command: AccountSessionCommand): Promise<void> {
    return runAccountCommand(this.#host(), command);
  }

  // ---- SessionObserver: facts from the players' loops, each queued as an input of this one ----

  attach(playerId: string, controller: SessionController): void {
    this.#input('attach', () => void this.#controllers.set(playerId, controller));
  }

  link(playerId: string, link: SessionLinkFact | null): void {
    this.#fact('link', playerId, (r) => r.setLink(link));
  }

  rendererAdded(playerId: string, renderer: SessionRendererInfo): void {
    this.#fact('renderer added', playerId, (r) => r.added(renderer));
  }

  rendererRemoved(playerId: string, rendererId: number): void {
    this.#fact('renderer removed', playerId, (r) => r.removed(rendererId));
  }

  activeChanged(playerId: string, rendererId: number): void {
    this.#fact('active changed', playerId, (r) => r.setActive(rendererId));
  }

  rendererState(playerId: string, rendererId: number, state: RendererPlayState | null, connected: boolean): void {
    this.#fact('renderer state', playerId, (r) => r.reported(rendererId, state, connected));
  }

  /** `trackOf` reads the player's queue when the step runs: the newest mapping, never an older one. */
  queueChanged(playerId: string, trackOf: (queueItemId: number) => number | null): void {
    this.#fact('queue changed', playerId, (r) => r.resolveTracks(trackOf));
  }

  serviceError(playerId: string, message: string): void {
    if (NOT_A_REFUSAL.test(message)) return;
    this.#input('service error', () => {
      this.#guard.assert('account service error');
      const e = this.#errors.get(playerId) ?? { count: 0, last: '' };
      this.#errors.set(playerId, { count: e.count + 1, last: message });
    });
  }

  // ---- private -----------------------------------------------------------------------------

  /** One fact about a player's roster; the view is published again when it changed something. */
  #fact(what: string, playerId: string, apply: (roster: SessionRoster) => boolean | void): void {
    this.#input(what, () => {
      const roster = this.#rosters.get(playerId);
      if (roster && apply(roster) !== false) this.#changed();
    });
  }

  /** Queues one input; after stop, facts and commands are dropped (the view is no longer published). */
  #input(what: string, handle: () => void): void {
    if (this.#stopped) return;
    this.#enqueue(what, handle);
  }

  #enqueue(what: string, handle: () => void): void {
    this.#run(handle).catch((err: unknown) =>
      this.#o.logger.warn({ err: errorMessage(err), what }, 'account session input failed'),
    );
  }

  /** One input in the loop, to its end; then whatever waits on the view looks again. */
  #run<T>(task: () => T): Promise<T> {
    return this.#loop.run(() =>
      this.#guard.run(() => {
        try {
          return task();
        } finally {
          this.#waits.check();
        }
      }),
    );
  }

  /** The player whose link answers for the session: own links first, then config order. */
  #answerer(): string | null {
    const joined = this.#o.players.filter((p) => this.#rosters.get(p.id)?.joined);
    return (joined.find((p) => this.#rosters.get(p.id)?.link?.own) ?? joined[0])?.id ?? null;
  }

  #changed(): void {
    if (!this.#stopped) this.#publish(false);
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
    this.#guard.assert('account view');
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
        .then((info) =>
          // The answer comes back to the loop as a step of its own, not from this promise.
          this.#step('track info', () => {
            this.#guard.assert('account track info');
            this.#lookups.delete(trackId);
            this.#tracks.set(trackId, info);
            while (this.#tracks.size > TRACK_CACHE) this.#tracks.delete(this.#tracks.keys().next().value!);
            this.#changed();
          }),
        )
        .catch(() => undefined);
    }
    return null;
  }

  /** A command's step; refused once stopped (nothing would answer it). */
  #live<T>(fn: () => T): Promise<T> {
    return this.#run(() => {
      if (this.#stopped) throw new QcbError('ERR_SESSION_CLOSED', 'the bridge is stopping');
      return fn();
    });
  }

  #host(): AccountCommandHost {
    return {
      inLoop: (fn) => this.#live(fn),
      view: () => this.#view,
      answerer: () => {
        const id = this.#answerer();
        const controller = id ? this.#controllers.get(id) : undefined;
        return id && controller ? { playerId: id, controller } : null;
      },
      errorCount: (id) => this.#errors.get(id)?.count ?? 0,
      lastError: (id) => this.#errors.get(id)?.last ?? '',
      // Registered in a step (its first probe reads the view as the loop left it); the promise settles outside it.
      until: (probe, timeoutMs, what) =>
        this.#live(() => ({ wait: this.#waits.until(probe, timeoutMs, what) })).then((r) => r.wait),
      stepTimeoutMs: this.#o.stepTimeoutMs ?? 10_000,
    };
  }
}
