import type { Player, PlayerSnapshot } from '../../core/player.js';
import type { SessionEvent } from '../../core/player-view.js';
import { positionAt } from '../../core/position-clock.js';
import { setActiveRenderer } from '../../protocol/renderer-messages.js';
import type { SessionLink } from '../session-link.js';
import type { SessionPeers } from '../session-peers.js';
import type { Effect, SessionPlayback } from '../playback/session-playback.js';

/** How long a fresh start (play_media) waits for its activation before a later one takes over again as usual. */
const FRESH_START_MS = 10_000;
/** How long a 63 of ours counts as waiting for the service's 43 (a verb's answer time, session-link.ts). */
const REQUEST_WAIT_MS = 10_000;

/** What a pause or stop sent while our 63 waits makes of the activation that follows (issue #21). */
export type ActivationHold = 'paused' | 'stopped';

/** What the activation reads and tells of the rest of the session (SessionCore hands it). */
export interface ActivationHost {
  readonly link: SessionLink;
  readonly peers: SessionPeers;
  readonly playback: SessionPlayback;
  readonly player: Player;
  now(): number;
  speaker(): PlayerSnapshot;
  event(type: SessionEvent['type'], fields?: Record<string, unknown>): void;
  publishView(): void;
}

/**
 * Becoming active and taking over (docs/protocol.md §5.3-§5.5, §5.11; README "Own Qobuz identity"):
 * whether we are the session's active renderer, whether we want to be, and what plays when we
 * become it. Part of SessionCore's state (docs/architecture.md "One owner per player"): only the
 * core and the loop's handlers, through `core.activation`, change it.
 */
export class SessionActivation {
  readonly #h: ActivationHost;
  #active = false;
  /** Become active as soon as our renderer id is known (a pick, or a rejoin while we were active). */
  #wantActive = false;
  #playOnActivate = false;
  /** We stepped aside for another MPD client while active: the service still names us active (issue #16). */
  #steppedAside = false;
  /** Until then an activation takes nothing over: a controller verb of ours is about to play a new queue (play_media). */
  #freshUntilMs = 0;
  /** Qobuz plays here (README "Own Qobuz identity": session_started until session_ended or session_taken_over). */
  #playingHere = false;
  /** We were the active renderer when the link dropped, and have been neither re-activated nor replaced since (§5.12). */
  #activeAtDrop = false;
  /** Until then our 63 waits for the service's 43 (request). */
  #requestedUntilMs = 0;
  /** A pause or stop came while our 63 waited: the activation takes over silent (hold). */
  #hold: ActivationHold | null = null;

  constructor(host: ActivationHost) {
    this.#h = host;
  }

  get active(): boolean {
    return this.#active;
  }
  get wantsActive(): boolean {
    return this.#wantActive;
  }
  /**
   * The link dropped while we were the active renderer and the rejoin has not settled it yet
   * (docs/protocol.md §5.12): a pause or stop from MQTT still applies to the speaker meanwhile,
   * and the rejoin's report tells Qobuz (issue #21).
   */
  get activeAtDrop(): boolean {
    return this.#activeAtDrop;
  }
  /** We asked to become active (63) and the service has not made us so yet (43). */
  get awaitingActivation(): boolean {
    return !this.#active && this.#h.now() < this.#requestedUntilMs;
  }
  /**
   * A pause or stop while our 63 waits (a play that asked for playback, then a pause: the newest
   * intent wins, docs/architecture.md): the activation that follows takes over without playing.
   * False when no 63 waits.
   */
  hold(status: ActivationHold): boolean {
    if (!this.awaitingActivation) return false;
    this.#playOnActivate = false;
    this.#hold = status;
    return true;
  }
  /** Whether becoming active would have something to play: another renderer's or the session's last item, or ours. */
  get canTakeOver(): boolean {
    return this.takeoverPeer() !== null || this.#h.playback.current !== null;
  }

  takeoverPeer(): ReturnType<SessionPeers['takeover']> {
    return this.#h.peers.takeover(this.#h.link.activeRendererId, this.#h.link.rendererId);
  }

  /**
   * Ask the service to make us active (63) and play once it does; false when the service has not
   * named us yet. `fresh`: a queue of ours is about to be played (play_media, README "Own Qobuz
   * identity"), so the activation takes nothing over from the previous renderer and plays nothing
   * by itself: the controller's 62 that follows says what plays.
   */
  request(o: { fresh?: boolean } = {}): boolean {
    const rendererId = this.#h.link.rendererId;
    if (rendererId === null) return false;
    if (o.fresh) {
      if (this.#active) return true; // already ours: the 62 that follows is enough
      this.#freshUntilMs = this.#h.now() + FRESH_START_MS;
      this.#playOnActivate = false;
    } else {
      this.#playOnActivate = true;
    }
    this.#hold = null;
    this.#requestedUntilMs = this.#h.now() + REQUEST_WAIT_MS;
    this.#h.link.send([setActiveRenderer(rendererId)]);
    return true;
  }

  /** 43 true: active from now on; take over where the previous renderer was (§5.3-§5.5). Returns the speaker work. */
  activate(): { readonly took: boolean; readonly effect: Effect } {
    const fresh = this.#h.now() < this.#freshUntilMs;
    this.#freshUntilMs = 0;
    if (this.#active) return { took: false, effect: null };
    this.#active = true;
    this.#wantActive = false;
    const rejoined = this.#activeAtDrop;
    this.#activeAtDrop = false;
    const hold = this.#h.now() < this.#requestedUntilMs ? this.#hold : null;
    this.#hold = null;
    this.#requestedUntilMs = 0;
    if (!this.#playingHere) {
      this.#playingHere = true;
      this.#h.event('session_started');
    }
    if (fresh) {
      this.#playOnActivate = false;
      this.#h.publishView();
      return { took: true, effect: null };
    }
    const pb = this.#h.playback;
    const peer = this.takeoverPeer();
    const snap = this.#h.speaker();
    const current = pb.current;
    // Re-activated after our own link dropped: the speaker is still on our item, leave it be.
    const stillOurs =
      !peer &&
      current !== null &&
      snap.current?.queueItemId === current.queueItemId &&
      snap.status !== 'stopped';
    if (peer?.item) {
      const status = hold ?? (peer.clock.status === 'playing' || this.#playOnActivate ? 'playing' : 'paused');
      pb.takeOver(peer.item, status, hold === 'stopped' ? 0 : positionAt(peer.clock, this.#h.now()));
    } else if (stillOurs && this.#playOnActivate) {
      pb.setClock('playing', pb.positionNow());
    }
    const resume = this.#playOnActivate || pb.status === 'playing';
    this.#playOnActivate = false;
    this.#h.publishView();
    if (stillOurs)
      return { took: true, effect: resume && snap.status === 'paused' ? this.#h.player.play() : null };
    // Stopped from MQTT while our link was down or our 63 waited (issue #21): it stays stopped, and the report says so.
    if ((hold === 'stopped' || (rejoined && !peer)) && !resume && pb.status === 'stopped')
      return { took: true, effect: snap.status === 'stopped' ? null : this.#h.player.stopPlayback() };
    const now = pb.current;
    // The activation batch carries the state report itself (§5.4).
    if (now && now.trackId !== 0)
      return { took: true, effect: pb.load(now, pb.positionNow(), resume, { report: false }) };
    return { took: true, effect: null };
  }

  /** 43 false or another renderer active: pause, report nothing more, keep the link (§5.11). */
  deactivate(): Effect {
    this.#steppedAside = false;
    this.#requestedUntilMs = 0;
    this.#hold = null;
    this.#activeAtDrop = false;
    if (!this.#active) return null;
    this.#active = false;
    this.notPlayingHere('session_taken_over');
    const pb = this.#h.playback;
    if (pb.status === 'playing') pb.setClock('paused', pb.positionNow(), false);
    this.#h.publishView();
    return this.#h.player.pause();
  }

  /** A play after `steppedAside`: the service still names us active, so we are again, no hand-over (issue #16). */
  resumeAfterStepAside(): boolean {
    if (!this.#steppedAside || !this.#h.link.joined || !this.#h.link.namesUsActive) return false;
    this.#steppedAside = false;
    this.#active = true;
    return true;
  }

  /** Play again where the last renderer was, for a play with no current item (§5.5). */
  resumeFromPeers(): Effect {
    const peer = this.takeoverPeer();
    if (!peer?.item) return null;
    return this.#h.playback.load(this.#h.playback.resolve(peer.item), peer.clock.positionMs, true);
  }

  // ---- what the link's life does to the activation (SessionCore's link intents) ----------------

  /** A new connect: `becomeActive` asks to take playback once joined. */
  linkOpened(becomeActive: boolean): void {
    this.#wantActive = becomeActive;
  }

  /** A new session: nothing of the old one's activation carries over (issue #12). */
  newSession(): void {
    this.#active = false;
    this.#playOnActivate = false;
    this.#steppedAside = false;
    this.#freshUntilMs = 0;
    this.#activeAtDrop = false;
    this.#requestedUntilMs = 0;
    this.#hold = null;
    this.notPlayingHere('session_ended', { reason: 'a new Qobuz session' });
  }

  /** About to join, or shutting down: not active. */
  inactive(): void {
    this.#active = false;
  }

  /** The link dropped and will come back: take playback back once it does if we had it (§5.12). */
  linkDown(): void {
    this.#wantActive = this.#active || this.#wantActive;
    this.#activeAtDrop ||= this.#active;
    this.#active = false;
    // A 63 sent on the dropped link is answered on no link (hold).
    this.#requestedUntilMs = 0;
    this.#hold = null;
  }

  /** The link ended for good; `reason` null when it was replaced quietly. */
  linkClosed(reason: string | null): void {
    this.#active = false;
    this.#freshUntilMs = 0;
    this.#steppedAside = false;
    this.#activeAtDrop = false;
    this.#requestedUntilMs = 0;
    this.#hold = null;
    if (reason !== null) this.notPlayingHere('session_ended', { reason });
  }

  /** A rejoin on the same link takes playback back if we had it; `rejoin` false: nothing was sent, nothing changes. */
  rejoin(rejoin: () => boolean): boolean {
    const wanted = this.#wantActive;
    this.#wantActive = this.#active || this.#wantActive;
    if (rejoin()) return true;
    this.#wantActive = wanted;
    return false;
  }

  /** Another MPD client took the speaker (issue #16): not active, but remember we were, for `resumeAfterStepAside`. */
  stepAside(): void {
    this.#steppedAside ||= this.#active;
    this.#active = false;
  }

  /** Qobuz no longer plays here: the session ended, or another device took over (README "Own Qobuz identity"). */
  notPlayingHere(type: 'session_ended' | 'session_taken_over', fields: Record<string, unknown> = {}): void {
    if (!this.#playingHere) return;
    this.#playingHere = false;
    this.#h.event(type, fields);
  }
}
