import type { Logger } from 'pino';
import type { ConnectRequest } from '../core/connect-request.js';
import type { PlayerEvents } from '../core/player.js';
import type { PlayerCommand, PlayerView } from '../core/player-view.js';
import { QcbError, errorMessage } from '../core/qcb-error.js';
import { SerialQueue } from '../util/serial-queue.js';
import { volumeTimedOut } from './verbs/volume-commands.js';
import { SessionConnection } from './activation/session-connection.js';
import { supersedesWith } from './intent-supersede.js';
import { StepGuard, type EnqueueStep } from './loop-step.js';
import { LoopWaits } from './loop-waits.js';
import { MediaCommands, type MediaHost } from './verbs/media-commands.js';
import { SPEAKER_HANDLERS } from './inputs/player-event-handlers.js';
import { applyCommand } from './verbs/session-commands.js';
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
  /** Development mode: SessionCore's writes assert that a step of this loop runs (loop-step.ts). */
  readonly #guard = new StepGuard();
  /** Timers and late answers come back as steps; unlike `#input`, also after stop, so nothing waits forever. */
  readonly #step: EnqueueStep = (what, fn) => this.#enqueue(what, fn);
  readonly #waits = new LoopWaits(this.#step);
  readonly #media: MediaCommands;
  /** The player's one link to the service: connects, joins, our own identity (session-connection.ts). */
  readonly #connection: SessionConnection;
  readonly #watch: SessionWatch | null;
  #heartbeat: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(options: PlayerSessionOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.#core = new SessionCore({
      ...options,
      now: options.now ?? Date.now,
      awaitVolumeReport: (n) => this.#awaitVolumeReport(n, options.volumeExternal?.reportTimeoutMs ?? 5000),
      step: this.#step,
      guard: this.#guard,
    });
    this.#connection = new SessionConnection({
      core: this.#core,
      log: this.#log,
      options,
      waits: this.#waits,
      watch: () => this.#watch,
      input: (what, handle) => this.#input(what, handle),
      run: (task) => this.#run(task),
      inLoop: (fn) => this.#inLoop(fn),
      stopped: () => this.#stopped,
    });
    this.#media = new MediaCommands({
      host: this.#mediaHost(),
      trackIdsOf: options.trackIdsOf ?? null,
      canMint: options.renewToken !== undefined,
      stepTimeoutMs: options.mediaStepTimeoutMs ?? 10_000,
      playTimeoutMs: options.mediaPlayTimeoutMs ?? 20_000,
      logger: this.#log,
    });
    const [observer, inLoop] = [options.sessionObserver, this.#inLoop.bind(this)];
    const ownLink = (): boolean => this.#connection.ownLink;
    this.#watch = observer
      ? new SessionWatch({ ...options, observer, core: this.#core, inLoop, ownLink })
      : null;
  }

  /**
   * The session we are in; "" once its link ended for good (get-connect-info `current_session_id`,
   * issue #12). A link of our own learns it from the service (81).
   */
  get sessionId(): string {
    return this.#connection.sessionId;
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
    this.#input('start', () => this.#core.publishView());
    this.#connection.start();
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
      this.#connection.connect(request);
    });
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
      void this.#run(() => this.#core.verbs.supersedePlays(supersedes === 'hold'));
    }
    // README "Own Qobuz identity": controller verbs on our own link, answered once the music plays.
    if (cmd.playMedia) return this.#media.playMedia(cmd.playMedia);
    if (cmd.transfer) {
      await this.#media.transfer();
      return;
    }
    const apply = () =>
      applyCommand(this.#core, cmd, {
        // A command's slow step (a REST lookup) comes back to the loop for what follows it (issue #14).
        inLoop: (task) => this.#inLoop(task),
        trackIdsOf: this.#o.trackIdsOf ?? null,
      });
    const effects = await this.#run(() =>
      // Only a bare play may become a transfer (media-commands.ts): other commands go straight to their verb.
      (cmd.action === 'play' || cmd.action === 'toggle') && this.#media.playMeansTransfer(this.#core, cmd)
        ? null
        : apply(),
    );
    if (effects !== null) {
      await Promise.all(effects);
      return;
    }
    // The link came back while the play waited for it, with us the active renderer again (issue #21):
    // nothing to take over, the play is an ordinary one.
    if (await this.#media.transfer()) return;
    await Promise.all(await this.#run(apply));
  }

  /** Shutdown: tell Qobuz we stopped, leave the speaker paused (README "Command line"). */
  async stop(): Promise<void> {
    await this.#loop.run(() =>
      this.#guard.run(() => {
        this.#stopped = true;
        this.#waits.failAll(new QcbError('ERR_SESSION_CLOSED', 'the bridge is stopping'));
        if (this.#heartbeat) clearInterval(this.#heartbeat);
        this.#core.shutdown();
        this.#connection.stop();
      }),
    );
  }

  /** Resolves once every input queued so far has been handled; true when it had to wait (tests, shutdown). */
  idle(): Promise<boolean> {
    return this.#loop.idle();
  }

  /** Queues one input; the speaker work it returns runs on without the loop, its failure logged. */
  #input(what: string, handle: () => Effect | void): void {
    if (this.#stopped) return;
    this.#enqueue(what, handle);
  }

  #enqueue(what: string, handle: () => Effect | void): void {
    this.#run(() => {
      handle()?.catch((err: unknown) =>
        this.#log.warn({ err: errorMessage(err), what }, 'speaker command failed'),
      );
    }).catch((err: unknown) => this.#log.warn({ err: errorMessage(err), what }, 'session input failed'));
  }

  /** One input in the loop, to its end; then whatever waits on the session's state looks again. */
  #run<T>(task: () => T): Promise<T> {
    return this.#loop.run(() =>
      this.#guard.run(() => {
        try {
          return task();
        } finally {
          this.#waits.check();
          this.#watch?.afterInput();
        }
      }),
    );
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
    const wait = this.#waits.until(
      () => this.#core.playback.external?.settled(n),
      timeoutMs,
      "the amplifier's volume_report",
    );
    wait.catch(() => this.#input('volume report timeout', () => volumeTimedOut(this.#core, n)));
    return wait.then(() => undefined);
  }

  /** What play_media and transfer need of the session (media-commands.ts). */
  #mediaHost(): MediaHost {
    return {
      inLoop: (fn) => this.#inLoop(fn),
      until: (probe, timeoutMs, what) =>
        this.#inLoop((core) => this.#waits.until(() => probe(core), timeoutMs, what)),
      ensureJoined: (timeoutMs) => this.#connection.ensureJoined(timeoutMs),
    };
  }
}
