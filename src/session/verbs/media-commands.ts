import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { PlayerCommand } from '../../core/player-view.js';
import { QcbError, isQcbError } from '../../core/qcb-error.js';
import { loadQueue, newActionUuid, setPlayerState } from '../../protocol/controller-messages.js';
import { sessionIntents } from '../intents/session-intents.js';
import { jumpKey } from '../intents/wire-values.js';
import { IntentRun } from '../intent-supersede.js';
import type { TrackIdsLookup } from './queue-commands.js';
import type { SessionCore } from '../session-core.js';

/**
 * `play_media` and `transfer` (README "Own Qobuz identity", docs/protocol.md §8): the player acts
 * as a controller on its own link, as the official web client does. Each step that changes the
 * session runs in the player's loop; the waits (the service's answers, the speaker starting) run
 * outside it, so the loop keeps handling Qobuz and the speaker meanwhile. Everything that can be
 * refused (no identity, unknown ids, a token Qobuz will not mint) is checked before the first
 * message leaves, so a refused command leaves the player as it was.
 */

/** What the player's session lends these commands. */
export interface MediaHost {
  /** Runs `fn` in the player's loop, as one input (a 'step' named `what`); a promise it returns settles outside the loop. */
  inLoop<T>(what: string, fn: (core: SessionCore) => T): Promise<Awaited<T>>;
  /** Resolves with the first truthy value of `probe`, checked in the loop now and after each input. */
  until<T>(
    probe: (core: SessionCore) => T | null | undefined | false,
    timeoutMs: number,
    what: string,
  ): Promise<T>;
  /** A joined link: the player's own, or one opened with a freshly minted token. */
  ensureJoined(timeoutMs: number): Promise<void>;
}

export interface MediaCommandsOptions {
  readonly host: MediaHost;
  /** The REST look-up of an album's, playlist's or track's ids; null without app id and secret. */
  readonly trackIdsOf: TrackIdsLookup | null;
  /** A user token is configured: the player can open a link of its own. */
  readonly canMint: boolean;
  /** Each step with the service: minting and joining, the queue load's answer. */
  readonly stepTimeoutMs: number;
  /** The speaker starting to play once the service said what. */
  readonly playTimeoutMs: number;
  readonly logger: Logger;
}

export class MediaCommands {
  readonly #o: MediaCommandsOptions;
  /** The play_media or transfer under way; a newer transport intent cuts it short (intent-supersede.ts). */
  #run: IntentRun | null = null;

  constructor(options: MediaCommandsOptions) {
    this.#o = options;
  }

  /** A newer transport intent: the command under way is answered ERR_SUPERSEDED and takes no further step. */
  supersede(): void {
    this.#run?.supersede();
    this.#run = null;
  }

  /** The host's steps and waits, each cut short once a newer intent supersedes this run. */
  #host(): { run: IntentRun; host: MediaHost } {
    const run = new IntentRun();
    this.#run = run;
    const h = this.#o.host;
    const host: MediaHost = {
      inLoop: (what, fn) =>
        run.race(
          h.inLoop(what, (core) => {
            run.check();
            return fn(core);
          }),
        ),
      until: (probe, timeoutMs, what) => run.race(h.until(probe, timeoutMs, what)),
      ensureJoined: (timeoutMs) => run.race(h.ensureJoined(timeoutMs)),
    };
    return { run, host };
  }

  /** `play` (or `toggle`) on a player Qobuz does not play on, with an identity of its own, is a transfer. */
  playMeansTransfer(core: SessionCore, cmd: PlayerCommand): boolean {
    if (!this.#o.canMint || core.active || Object.keys(cmd).length !== 1) return false;
    return cmd.action === 'play' || (cmd.action === 'toggle' && core.playback.status !== 'playing');
  }

  /** Load an album, playlist or track as the new queue, make this player active and play it (§8). */
  async playMedia(media: NonNullable<PlayerCommand['playMedia']>): Promise<void> {
    const started = performance.now();
    const { run, host } = this.#host();
    await host.inLoop('play_media: check', (core) => this.#check(core));
    if (!this.#o.trackIdsOf)
      throw new QcbError(
        'ERR_QOBUZ_API',
        'qobuz.app_id and qobuz.app_secret are not set: the bridge cannot ask Qobuz',
      );
    const { title, trackIds } = await run.race(this.#o.trackIdsOf(media.type, media.id));
    await host.ensureJoined(this.#o.stepTimeoutMs);
    // Shuffled, the queue starts at a random track: the pivot the service shuffles the rest around.
    const start = media.shuffle ? randomInt(trackIds.length) : 0;
    const action = newActionUuid();
    await host.inLoop('play_media: load the queue', (core) =>
      core.verbs.sendAction(
        [
          loadQueue(core.queue.version, action, trackIds, {
            position: start,
            pivotIndex: start,
            shuffle: media.shuffle,
          }),
        ],
        action,
        'the queue load',
        this.#o.stepTimeoutMs,
      ),
    );
    // The service numbered the items (91); the mirror has them once that is applied (or after a resync, the 90).
    const first = await host.until(
      (core) => {
        alive(core);
        const items = core.queue.items;
        const same =
          items.length === trackIds.length && items.every((item, i) => item.trackId === trackIds[i]);
        return same ? { item: items[start]!, ids: new Set(items.map((i) => i.queueItemId)) } : null;
      },
      this.#o.stepTimeoutMs,
      'the loaded queue',
    );
    const { loadsBefore, refused } = await host.inLoop('play_media: play', (core) => {
      // 63 naming ourselves, then 62 PLAYING from 0 at the first item: the service sends us the 41 that plays it.
      if (!core.activation.request({ fresh: true }))
        throw new QcbError('ERR_SESSION_CLOSED', 'the Qobuz session ended');
      const id = first.item.queueItemId;
      const play = setPlayerState({ playing: true, positionMs: 0, queueItemId: id });
      // Waits like a play_item, so a type-1 refusal of the 62 answers at once (service-errors.ts).
      const answer = core.verbs.sendAction([play], jumpKey(id), 'the play', this.#o.playTimeoutMs);
      return { loadsBefore: core.playback.loads, refused: onlyRefusal(answer) };
    });
    // Queue item ids start at 0 on every load: what played before may carry one of the new ids, so only a load since counts.
    await Promise.race([
      host.until(
        (core) => core.playback.loads > loadsBefore && playingOneOf(core, first.ids),
        this.#o.playTimeoutMs,
        'the speaker starting the new queue',
      ),
      run.race(refused),
    ]);
    this.#o.logger.info(
      {
        type: media.type,
        id: media.id,
        title,
        tracks: trackIds.length,
        ms: Math.round(performance.now() - started),
      },
      'playing from Home Assistant',
    );
  }

  /**
   * Take over what the account plays elsewhere, where it is, as picking the speaker in the app does
   * (§5.3-§5.5). False when the player was the active renderer already (a rejoin while the
   * command waited for the link may make it so again): nothing was taken over.
   */
  async transfer(): Promise<boolean> {
    const started = performance.now();
    const { run, host } = this.#host();
    await host.inLoop('transfer: check', (core) => this.#check(core));
    await host.ensureJoined(this.#o.stepTimeoutMs);
    // Where the active renderer is, and the queue, as of now: 77 then 76, answered in order (the 90 names our uuid).
    const sync = newActionUuid();
    await host.inLoop('transfer: ask the session state', (core) =>
      core.active
        ? undefined
        : core.verbs.sendAction(
            sessionIntents.sessionStateFrames(core, sync),
            sync,
            'the session state',
            this.#o.stepTimeoutMs,
          ),
    );
    const asked = await host.inLoop('transfer: take over', (core) => {
      if (core.active) return false; // already playing here: nothing to take over
      if (!core.activation.canTakeOver)
        throw new QcbError(
          'ERR_BAD_COMMAND',
          'nothing to take over: no Qobuz device of this account has anything to play',
        );
      if (!core.activation.request()) throw new QcbError('ERR_SESSION_CLOSED', 'the Qobuz session ended');
      // The 63 just sent waits like any verb, so a type-1 refusal of it answers at once (service-errors.ts).
      const answer = core.verbs.sendAction([], ACTIVATION_KEY, 'the activation', this.#o.playTimeoutMs);
      return { refused: onlyRefusal(answer) };
    });
    if (!asked) return false;
    try {
      await Promise.race([
        host.until(
          (core) => {
            alive(core);
            const snap = core.speaker();
            const current = core.playback.current;
            return (
              core.active &&
              current !== null &&
              playing(core) &&
              snap.current?.queueItemId === current.queueItemId
            );
          },
          this.#o.playTimeoutMs,
          'the speaker taking over',
        ),
        run.race(asked.refused),
      ]);
    } finally {
      await this.#o.host.inLoop('transfer: done', (core) => core.verbs.answered(ACTIVATION_KEY));
    }
    this.#o.logger.info({ ms: Math.round(performance.now() - started) }, 'took over the Qobuz session');
    return true;
  }

  /** Before anything leaves: a way into a session, and a speaker to play on. */
  #check(core: SessionCore): void {
    if (core.linkState === 'none' && !this.#o.canMint) {
      throw new QcbError('ERR_NO_USER_TOKEN', 'no Qobuz session, and no qobuz.user_auth_token to start one');
    }
    if (!core.speaker().available)
      throw new QcbError('ERR_MPD_UNREACHABLE', "the player's MPD is not reachable");
  }
}

/** The pending key of transfer's 63 (it carries no action uuid and nothing answers it by name). */
const ACTIVATION_KEY = 'transfer:activation';

/** Settles only when `answer` is refused: the speaker playing, not the service's echo, is what answers the command. */
function onlyRefusal(answer: Promise<void>): Promise<never> {
  return answer.then(
    () => new Promise<never>(() => {}),
    (err: unknown) => {
      if (isQcbError(err, 'ERR_QOBUZ_REFUSED')) throw err;
      return new Promise<never>(() => {});
    },
  );
}

/** The link is gone: nothing asked of it will come. */
function alive(core: SessionCore): void {
  if (core.linkState === 'none') throw new QcbError('ERR_SESSION_CLOSED', 'the Qobuz session ended');
}

/** Audio flows from the speaker, as the newest command asked (docs/architecture.md "The newest intent wins"). */
function playing(core: SessionCore): boolean {
  const snap = core.speaker();
  return snap.settled && snap.status === 'playing' && !snap.buffering;
}

/** Music of the new queue plays here (a first track Qobuz cannot stream is skipped by the service: any item counts). */
function playingOneOf(core: SessionCore, ids: ReadonlySet<number>): boolean {
  alive(core);
  const current = core.speaker().current;
  return core.active && playing(core) && current !== null && ids.has(current.queueItemId);
}
