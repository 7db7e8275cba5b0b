import type { Logger } from 'pino';
import type { ConnectRequest } from '../core/connect-request.js';
import type { PlayerEvents } from '../core/player.js';
import type { PlayerCommand, PlayerView } from '../core/player-view.js';
import { QcbError } from '../core/qcb-error.js';
import { SessionConnection } from './activation/session-connection.js';
import { handleInput, type InputContext } from './handle-input.js';
import { supersedesWith } from './intent-supersede.js';
import { InputLoop } from './input-loop.js';
import type { EnqueuePartInput } from './loop-step.js';
import { LoopWaits } from './loop-waits.js';
import { MediaCommands, type MediaHost } from './verbs/media-commands.js';
import { SPEAKER_HANDLERS } from './inputs/player-event-handlers.js';
import { SessionCore, type QueueView } from './session-core.js';
import type { AnswerOf, SessionInput, SpeakerEvent } from './session-input.js';
import { SessionWatch } from './session-watch.js';
import type { PlayerSessionOptions } from './player-session-options.js';

export type { PlayerSessionOptions } from './player-session-options.js';

/**
 * One player's Qobuz Connect life (docs/protocol.md §5) as ONE loop (docs/architecture.md "One
 * owner per player"): Qobuz messages, speaker events, MQTT commands, timers, REST answers and link
 * changes are each one SessionInput (session-input.ts), queued through `#enqueue` and handled one at
 * a time, to the end, by handleInput (handle-input.ts), code that never waits for the speaker. The
 * state lives in SessionCore, which only this loop touches. A failure here never reaches another
 * player.
 */

export class PlayerSession {
  readonly #core: SessionCore;
  readonly #o: PlayerSessionOptions;
  readonly #log: Logger;
  /** The one loop: every input enters through `#enqueue`, handled by handleInput (handle-input.ts). */
  readonly #loop: InputLoop;
  /** The parts' timers and REST answers (loop-step.ts) come back as inputs, also after stop, so nothing waits forever. */
  readonly #step: EnqueuePartInput = (input) => void this.#enqueue(input);
  readonly #waits = new LoopWaits(this.#step);
  readonly #media: MediaCommands;
  /** The player's one link to the service: connects, joins, our own identity (session-connection.ts). */
  readonly #connection: SessionConnection;
  readonly #watch: SessionWatch | null;
  /** What handleInput dispatches to. */
  readonly #ctx: InputContext;
  #heartbeat: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(options: PlayerSessionOptions) {
    this.#o = options;
    this.#log = options.logger;
    this.#loop = new InputLoop({
      handle: (input) => handleInput(this.#ctx, input),
      afterInput: () => {
        this.#waits.check();
        this.#watch?.afterInput();
      },
      stopped: () => this.#stopped,
      logger: this.#log,
    });
    const enqueue = this.#enqueue.bind(this);
    this.#core = new SessionCore({
      ...options,
      now: options.now ?? Date.now,
      awaitVolumeReport: (n) => this.#awaitVolumeReport(n, options.volumeExternal?.reportTimeoutMs ?? 5000),
      step: this.#step,
      guard: this.#loop.guard,
    });
    this.#connection = new SessionConnection({
      core: this.#core,
      log: this.#log,
      options,
      waits: this.#waits,
      watch: () => this.#watch,
      enqueue,
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
    const observer = options.sessionObserver;
    const ownLink = (): boolean => this.#connection.ownLink;
    this.#watch = observer
      ? new SessionWatch({ ...options, observer, core: this.#core, enqueue, ownLink })
      : null;
    this.#ctx = {
      core: this.#core,
      connection: this.#connection,
      media: this.#media,
      watch: this.#watch,
      trackIdsOf: options.trackIdsOf ?? null,
      enqueue,
      stopped: () => this.#stopped,
      shutdown: () => this.#shutdown(),
    };
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
      events.on(name, (...args: PlayerEvents[typeof name]) => {
        const event = { name, args } as SpeakerEvent;
        void this.#enqueue({ kind: 'speaker', event });
      });
    }
    this.#heartbeat = setInterval(
      () => void this.#enqueue({ kind: 'heartbeat' }),
      this.#o.heartbeatMs ?? 10_000,
    );
    void this.#enqueue({ kind: 'start' });
    this.#connection.start();
  }

  /**
   * The app picked us (POST connect-to-qconnect). Make before break (README "Security", issue #26): the
   * new link is built beside the current one (connect-candidate.ts); only once the service has taken
   * its token and named us does the current session end (session-connection.ts). A connect the service
   * refuses or never answers changes nothing. Resolves once the new link is started.
   */
  connect(request: ConnectRequest): Promise<void> {
    return this.#enqueue({ kind: 'connect', request });
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
      void this.#enqueue({ kind: 'supersede', hold: supersedes === 'hold' });
    }
    // README "Own Qobuz identity": controller verbs on our own link, answered once the music plays.
    if (cmd.playMedia) return this.#media.playMedia(cmd.playMedia);
    if (cmd.transfer) {
      await this.#media.transfer();
      return;
    }
    // null: a bare play that means a transfer (handle-input.ts).
    const effects = await this.#enqueue({ kind: 'command', command: cmd });
    if (effects !== null) {
      await Promise.all(effects);
      return;
    }
    // The link came back while the play waited for it, with us the active renderer again (issue #21):
    // nothing to take over, the play is an ordinary one (active now, it no longer means a transfer).
    if (await this.#media.transfer()) return;
    await Promise.all((await this.#enqueue({ kind: 'command', command: cmd })) ?? []);
  }

  /** Shutdown: tell Qobuz we stopped, leave the speaker paused (README "Command line"). */
  stop(): Promise<void> {
    return this.#enqueue({ kind: 'stop' });
  }

  /** Resolves once every input queued so far has been handled; true when it had to wait (tests, shutdown). */
  idle(): Promise<boolean> {
    return this.#loop.idle();
  }

  /** THE way into the loop (input-loop.ts): one input, handled in a step by handleInput, reported once. */
  #enqueue<I extends SessionInput>(input: I): Promise<Awaited<AnswerOf<I>>> {
    return this.#loop.enqueue(input);
  }

  /** The `stop` input (handle-input.ts). */
  #shutdown(): void {
    this.#stopped = true;
    this.#waits.failAll(new QcbError('ERR_SESSION_CLOSED', 'the bridge is stopping'));
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#core.shutdown();
    this.#connection.stop();
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
    wait.catch(() => void this.#enqueue({ kind: 'volume-timeout', n }));
    return wait.then(() => undefined);
  }

  /** What play_media and transfer need of the session (media-commands.ts): their steps are 'step' inputs. */
  #mediaHost(): MediaHost {
    return {
      inLoop: (what, run) => this.#enqueue({ kind: 'step', what, run }),
      until: (probe, timeoutMs, what) =>
        this.#enqueue({
          kind: 'step',
          what: `wait for ${what}`,
          run: (core) => this.#waits.until(() => probe(core), timeoutMs, what),
        }),
      ensureJoined: (timeoutMs) => this.#connection.ensureJoined(timeoutMs),
    };
  }
}
