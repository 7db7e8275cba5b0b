import type { Logger } from 'pino';
import type { AudioFormat, PlayableItem, Player, PlayerSnapshot } from '../core/player.js';
import type { PlayerView, RepeatMode, SessionEvent, StatePublisher, TrackInfo } from '../core/player-view.js';
import type { TrackSummary } from '../core/queue-listing.js';
import {
  clockAt,
  isFlowing,
  positionAt,
  positionJumped,
  type ClockStatus,
  type PositionClock,
} from '../core/position-clock.js';
import {
  QueueMirror,
  type AutoplayChange,
  type DeltaResult,
  type QueueDelta,
  type QueueSnapshot,
  type QueueVersion,
} from '../core/queue-mirror.js';
import type { OutgoingMessage } from '../protocol/frame-writer.js';
import type { DeviceInfoValue, RendererReport } from '../protocol/renderer-messages.js';
import { setActiveRenderer, stateUpdated } from '../protocol/renderer-messages.js';
import { QcbError } from '../core/qcb-error.js';
import { PendingActions } from './pending-actions.js';
import { QueuePublisher, type QueueListingTuning } from './queue-publisher.js';
import { SessionPeers, type PeerState } from './session-peers.js';
import { playerView, rendererReport, type SessionFacts } from './session-report.js';
import { TrackInfoLookup } from './track-info-lookup.js';

/**
 * Everything one player's Qobuz Connect session knows, private behind a few intent methods
 * (docs/architecture.md "One owner per player"). Only PlayerSession's loop calls them, one input
 * at a time, so no two inputs ever interleave. Each intent changes the state at once, reports it,
 * and hands the speaker work back as an Effect that the loop does not wait for: a slow MPD can
 * delay the sound, never the next command (docs/architecture.md "The newest intent wins").
 */

/** What the speaker still has to do for an intent; failures are the caller's to log or answer. */
export type Effect = Promise<void> | null;

/** docs/protocol.md §8 "Silent deregistration": at most one re-join on the same link per this long. */
export const REREGISTER_MIN_INTERVAL_MS = 30_000;
/** How long a controller verb waits for the service's answer. */
export const ACTION_TIMEOUT_MS = 10_000;
/** How long a fresh start (play_media) waits for its activation before a later one takes over again as usual. */
const FRESH_START_MS = 10_000;

export interface SessionCoreOptions {
  readonly playerId: string;
  readonly device: DeviceInfoValue;
  readonly joinMode: 'controller' | 'renderer';
  /** Configured ceiling, AudioQuality level 1-4. */
  readonly maxAudioQuality: number;
  readonly player: Player;
  readonly publisher: StatePublisher | null;
  readonly trackInfo: ((trackId: number) => Promise<TrackInfo | null>) | null;
  /** Items of the current queue (stream tokens of items that left it die: README "HTTP endpoints"). */
  readonly onQueueItems: ((items: readonly PlayableItem[]) => void) | null;
  readonly logger: Logger;
  readonly now: () => number;
  /** The MQTT queue listing's lookup rate and publish timing (issue #14); defaults suit production. */
  readonly queueListing?: QueueListingTuning;
}

export type { PeerState } from './session-peers.js';

export type LinkState = SessionFacts['linkState'];
/** The read-only face of the queue mirror: handlers read it, only the core changes it. */
export type QueueView = Omit<
  QueueMirror,
  'setRepeat' | 'noteVersion' | 'applySnapshot' | 'applyDelta' | 'applyAutoplay' | 'reset'
>;

export class SessionCore {
  readonly #o: SessionCoreOptions;
  readonly #mirror = new QueueMirror();
  readonly #peers = new SessionPeers();
  /** Controller verbs sent on our link, waiting for the service's answer (docs/protocol.md §8). */
  readonly #pending = new PendingActions();
  readonly #info: TrackInfoLookup;
  /** The queue on MQTT (`B/<player>/queue`, issue #14). */
  readonly #listing: QueuePublisher;
  #send: (messages: OutgoingMessage[]) => boolean = () => false;
  /** Subscribe and join again on the current link (set per link). */
  #reregister: () => void = () => {};
  #lastReregisterAtMs: number | null = null;
  #linkState: LinkState = 'none';
  #expired = false;
  #rendererId: number | null = null;
  #activeRendererId = -1;
  #active = false;
  /** Become active as soon as our renderer id is known (a pick, or a rejoin while we were active). */
  #wantActive = false;
  #playOnActivate = false;
  /** We stepped aside for another MPD client while active: the service still names us active (issue #16). */
  #steppedAside = false;
  #current: PlayableItem | null = null;
  #next: PlayableItem | null = null;
  /** What we are doing, as commanded; reports extrapolate from it. */
  #clock: PositionClock;
  #volume = 50;
  #muted = false;
  /** AudioQuality level the app allows (44); the stream asks for min(this, configured). */
  #sessionMaxQuality: number;
  /** Whether the speaker has answered once: until then volume and mute are not known, and no view leaves (issue #12). */
  #speakerKnown: boolean;
  /** The session the service says we are in (81), hyphenated; what a link joined with our own token learns it from. */
  #sessionUuid: string | null = null;
  /** Until then an activation takes nothing over: a controller verb of ours is about to play a new queue (play_media). */
  #freshUntilMs = 0;
  /** Qobuz plays here (README "Own Qobuz identity": session_started until session_ended or session_taken_over). */
  #playingHere = false;
  /** Loads asked for so far: a command waiting for the speaker tells its own load from an earlier one (queue item ids repeat). */
  #loads = 0;

  constructor(options: SessionCoreOptions) {
    this.#o = options;
    this.#info = new TrackInfoLookup(options.trackInfo, options.logger);
    this.#listing = new QueuePublisher({
      playerId: options.playerId,
      publisher: options.publisher,
      trackInfo: options.trackInfo,
      logger: options.logger,
      ...(options.queueListing ? { tuning: options.queueListing } : {}),
    });
    this.#sessionMaxQuality = options.maxAudioQuality;
    this.#clock = clockAt('stopped', 0, options.now());
    const snap = options.player.snapshot();
    this.#speakerKnown = snap.available;
    this.#adoptSpeakerVolume(snap);
  }

  // ---- reads -------------------------------------------------------------------------------

  get log(): Logger {
    return this.#o.logger;
  }
  get device(): DeviceInfoValue {
    return this.#o.device;
  }
  get joinMode(): SessionCoreOptions['joinMode'] {
    return this.#o.joinMode;
  }
  get linkState(): LinkState {
    return this.#linkState;
  }
  get rendererId(): number | null {
    return this.#rendererId;
  }
  get activeRendererId(): number {
    return this.#activeRendererId;
  }
  get active(): boolean {
    return this.#active;
  }
  get wantsActive(): boolean {
    return this.#wantActive;
  }
  get current(): PlayableItem | null {
    return this.#current;
  }
  get next(): PlayableItem | null {
    return this.#next;
  }
  get clock(): PositionClock {
    return this.#clock;
  }
  get status(): ClockStatus {
    return this.#clock.status;
  }
  get volume(): number {
    return this.#volume;
  }
  get muted(): boolean {
    return this.#muted;
  }
  get queue(): QueueView {
    return this.#mirror;
  }
  get sessionMaxQuality(): number {
    return this.#sessionMaxQuality;
  }
  /** The session uuid the service named (81), null before. */
  get sessionUuid(): string | null {
    return this.#sessionUuid;
  }
  get loads(): number {
    return this.#loads;
  }
  /** Whether becoming active would have something to play: another renderer's or the session's last item, or ours. */
  get canTakeOver(): boolean {
    return this.#peers.takeover(this.#activeRendererId, this.#rendererId) !== null || this.#current !== null;
  }
  get effectiveMaxQuality(): number {
    return Math.min(this.#sessionMaxQuality, this.#o.maxAudioQuality);
  }
  now(): number {
    return this.#o.now();
  }
  positionNow(): number {
    return positionAt(this.#clock, this.#o.now());
  }
  speaker(): PlayerSnapshot {
    return this.#o.player.snapshot();
  }
  /** What follows `item` now: the mirror under loop and shuffle (docs/protocol.md §5.8). */
  nextAfter(item: PlayableItem | null): PlayableItem | null {
    return item ? this.#mirror.next(item.queueItemId) : null;
  }
  /** The item the session plays: ours while active, else what the active renderer last reported (82). */
  sessionItem(): PlayableItem | null {
    if (this.#active) return this.#current;
    return this.#peers.takeover(this.#activeRendererId, this.#rendererId)?.item ?? this.#current;
  }
  /** What the queue listing knows of a track (queue events carry the titles already known). */
  trackSummary(trackId: number): TrackSummary | undefined {
    return this.#listing.summary(trackId);
  }
  /** A queue item as the mirror knows it (with its track id), else as given. */
  resolve(item: PlayableItem): PlayableItem {
    return this.#mirror.find(item.queueItemId) ?? item;
  }

  // ---- outputs: the report and the view are derived in session-report.ts only ---------------

  send(messages: OutgoingMessage[]): void {
    this.#send(messages);
  }

  rendererReport(): RendererReport {
    return rendererReport(this.#facts(), this.speaker(), this.#o.now());
  }

  view(): PlayerView {
    return playerView(this.#facts(), this.speaker(), this.#o.now());
  }

  /** Only the active renderer reports (docs/protocol.md §5.7); MQTT always hears. */
  reportState(): void {
    if (this.#active) this.#send([stateUpdated(this.rendererReport())]);
    this.publishView();
  }

  /** README "MQTT topics": the first state carries the speaker's real volume, so none leaves before the speaker answered. */
  publishView(): void {
    this.#updateListing();
    if (this.#speakerKnown) this.#o.publisher?.publishState(this.#o.playerId, this.view());
  }

  event(type: SessionEvent['type'], fields: Record<string, unknown> = {}): void {
    this.#o.publisher?.publishEvent(this.#o.playerId, { type, atMs: this.#o.now(), fields });
  }

  // ---- controller verbs on our own link (docs/protocol.md §8 "Controller verbs") ---------------

  /**
   * Sends a controller verb and returns a promise for the service's answer naming `actionUuid`
   * (its broadcast, or its refusal). Fails at once when no joined link can carry it.
   */
  sendAction(
    messages: OutgoingMessage[],
    actionUuid: Uint8Array | string,
    what: string,
    timeoutMs = ACTION_TIMEOUT_MS,
  ): Promise<void> {
    if (this.#linkState !== 'joined')
      return Promise.reject(new QcbError('ERR_NO_SESSION', 'no Qobuz session'));
    const answer = this.#pending.expect(actionUuid, what, timeoutMs);
    if (!this.#send(messages)) {
      this.#pending.refused(actionUuid, 'the link is down');
    }
    return answer;
  }

  /** A broadcast carrying an action uuid came back: the verb that sent it (if ours) is done; true when it was ours. */
  actionAnswered(actionUuid: Uint8Array | string | null | undefined): boolean {
    return this.#pending.answered(actionUuid);
  }

  /** 88: the service refused a queue edit. */
  actionRefused(actionUuid: Uint8Array | null | undefined, reason: string): void {
    this.#pending.refused(actionUuid, reason);
  }

  // ---- the link ----------------------------------------------------------------------------

  /** A connect from the app: frames go to `send` from now on; `becomeActive` asks to take playback once joined. */
  linkOpened(
    send: (messages: OutgoingMessage[]) => boolean,
    becomeActive: boolean,
    reregister: () => void = () => {},
  ): void {
    this.#send = send;
    this.#reregister = reregister;
    this.#lastReregisterAtMs = null;
    this.#expired = false;
    this.#wantActive = becomeActive;
    this.#linkState = 'connecting';
    this.publishView();
  }

  /**
   * A connect into another session than the one we are in (or after ours ended): nothing of the
   * old one carries over — queue, version, current and next item, peers, renderer ids, the app's
   * quality ceiling (issue #12). A Qobuz item the speaker still plays belongs to the old queue, so
   * it stops; music that was never ours is left alone.
   */
  newSession(): Effect {
    const ours = this.#current !== null;
    this.#pending.failAll(
      new QcbError('ERR_SESSION_CLOSED', 'a new Qobuz session replaced the one the command was for'),
    );
    this.#mirror.reset();
    this.#listing.queueChanged();
    this.#peers.clear();
    this.#rendererId = null;
    this.#activeRendererId = -1;
    this.#active = false;
    this.#playOnActivate = false;
    this.#steppedAside = false;
    this.#current = null;
    this.#next = null;
    this.#sessionMaxQuality = this.#o.maxAudioQuality;
    this.#sessionUuid = null;
    this.#freshUntilMs = 0;
    this.#notPlayingHere('session_ended', { reason: 'a new Qobuz session' });
    this.#info.forget();
    this.#o.onQueueItems?.([]);
    this.#setClock('stopped', 0, false);
    this.publishView();
    return ours ? this.#o.player.stopPlayback() : null;
  }

  /** The socket is up and about to join: not active, renderer id unknown until the service names us (83). */
  joining(): void {
    this.#active = false;
    this.#rendererId = null;
  }

  /** The link dropped and will come back: keep playing, stop reporting, remember whether to take playback back (§5.12). */
  linkDown(): void {
    this.#pending.failAll(
      new QcbError('ERR_SESSION_CLOSED', 'the Qobuz link dropped before the service answered'),
    );
    this.#wantActive = this.#active || this.#wantActive;
    this.#active = false;
    this.#linkState = 'connecting';
    this.publishView();
  }

  /** The link ended for good (or was replaced): no frames leave until the next connect; `expired` when its token ran out. */
  linkClosed(reason: string | null, expired = false): void {
    this.#pending.failAll(
      new QcbError('ERR_SESSION_CLOSED', 'the Qobuz session ended before the service answered'),
    );
    this.#expired = expired;
    this.#send = () => false;
    this.#reregister = () => {};
    this.#active = false;
    this.#freshUntilMs = 0;
    this.#steppedAside = false;
    this.#linkState = 'none';
    if (reason !== null) {
      this.event('session_closed', { reason });
      this.#notPlayingHere('session_ended', { reason });
      this.publishView();
    }
  }

  /** The service named our renderer id (83 with our device uuid): joined. */
  joinedAs(rendererId: number): void {
    this.#rendererId = rendererId;
    this.#linkState = 'joined';
    this.event('session_connected', { renderer_id: rendererId });
    this.publishView();
  }

  /** 81: who is active, the queue version and loop mode, and which session this is. */
  noteSessionState(
    activeRendererId: number,
    version: QueueVersion | null,
    repeat: RepeatMode | null,
    sessionUuid: string | null = null,
  ): void {
    if (sessionUuid) this.#sessionUuid = sessionUuid;
    this.#activeRendererId = activeRendererId;
    if (version) this.#mirror.noteVersion(version);
    if (repeat) this.#mirror.setRepeat(repeat);
  }

  /** 82 of another renderer: where it is, to take over from it. */
  notePeer(rendererId: number, peer: PeerState): void {
    if (rendererId === this.#rendererId) return; // our own report echoed (§5.10)
    this.#peers.note(rendererId, peer);
    this.#updateListing();
  }

  /**
   * The service answered as if it no longer knew us while the socket stays open (docs/protocol.md
   * §8 "Silent deregistration"): subscribe and join again on the same link, taking playback back if
   * we had it. Rate-limited; false when nothing was sent.
   */
  serviceForgotUs(): boolean {
    if (this.#linkState !== 'joined') return false;
    const now = this.#o.now();
    if (this.#lastReregisterAtMs !== null && now - this.#lastReregisterAtMs < REREGISTER_MIN_INTERVAL_MS)
      return false;
    this.#lastReregisterAtMs = now;
    this.#wantActive = this.#active || this.#wantActive;
    this.#reregister();
    return true;
  }

  /** 85: a renderer left the session; its last state is no place to take over from. */
  removePeer(rendererId: number): void {
    this.#peers.remove(rendererId);
  }

  /** 86: another renderer took over. */
  activeRendererChanged(rendererId: number): Effect {
    this.#activeRendererId = rendererId;
    return this.#active && rendererId !== this.#rendererId ? this.deactivate() : null;
  }

  /**
   * Ask the service to make us active (63) and play once it does; false when the service has not
   * named us yet. `fresh`: a queue of ours is about to be played (play_media, README "Own Qobuz
   * identity"), so the activation takes nothing over from the previous renderer and plays nothing
   * by itself: the controller's 62 that follows says what plays.
   */
  requestActive(o: { fresh?: boolean } = {}): boolean {
    if (this.#rendererId === null) return false;
    if (o.fresh) {
      if (this.#active) return true; // already ours: the 62 that follows is enough
      this.#freshUntilMs = this.#o.now() + FRESH_START_MS;
      this.#playOnActivate = false;
    } else {
      this.#playOnActivate = true;
    }
    this.#send([setActiveRenderer(this.#rendererId)]);
    return true;
  }

  /** 43 true: active from now on; take over where the previous renderer was (§5.3-§5.5). Returns the speaker work. */
  activate(): { readonly took: boolean; readonly effect: Effect } {
    const fresh = this.#o.now() < this.#freshUntilMs;
    this.#freshUntilMs = 0;
    if (this.#active) return { took: false, effect: null };
    this.#active = true;
    this.#wantActive = false;
    if (!this.#playingHere) {
      this.#playingHere = true;
      this.event('session_started');
    }
    if (fresh) {
      this.#playOnActivate = false;
      this.publishView();
      return { took: true, effect: null };
    }
    const peer = this.#peers.takeover(this.#activeRendererId, this.#rendererId);
    const snap = this.speaker();
    // Re-activated after our own link dropped: the speaker is still on our item, leave it be.
    const stillOurs =
      !peer &&
      this.#current !== null &&
      snap.current?.queueItemId === this.#current.queueItemId &&
      snap.status !== 'stopped';
    if (peer?.item) {
      this.#current = this.resolve(peer.item);
      this.#next = this.nextAfter(this.#current);
      const status = peer.clock.status === 'playing' || this.#playOnActivate ? 'playing' : 'paused';
      this.#clock = clockAt(status, positionAt(peer.clock, this.#o.now()), this.#o.now(), true);
    } else if (stillOurs && this.#playOnActivate) {
      this.#setClock('playing', this.positionNow());
    }
    const resume = this.#playOnActivate || this.#clock.status === 'playing';
    this.#playOnActivate = false;
    this.publishView();
    if (stillOurs)
      return { took: true, effect: resume && snap.status === 'paused' ? this.#o.player.play() : null };
    if (this.#current && this.#current.trackId !== 0) {
      // The activation batch carries the state report itself (§5.4).
      return { took: true, effect: this.load(this.#current, this.positionNow(), resume, { report: false }) };
    }
    return { took: true, effect: null };
  }

  /** 43 false or another renderer active: pause, report nothing more, keep the link (§5.11). */
  deactivate(): Effect {
    this.#steppedAside = false;
    if (!this.#active) return null;
    this.#active = false;
    this.#notPlayingHere('session_taken_over');
    if (this.#clock.status === 'playing') this.#setClock('paused', this.positionNow(), false);
    this.publishView();
    return this.#o.player.pause();
  }

  /** A play after `speakerTakenByOther`: the service still names us active, so we are again, no hand-over (issue #16). */
  resumeAfterStepAside(): boolean {
    if (!this.#steppedAside || this.#linkState !== 'joined' || this.#activeRendererId !== this.#rendererId) return false;
    this.#steppedAside = false;
    this.#active = true;
    return true;
  }

  /** Play again where the last renderer was, for a play with no current item (§5.5). */
  resumeFromPeers(): Effect {
    const peer = this.#peers.takeover(this.#activeRendererId, this.#rendererId);
    if (!peer?.item) return null;
    return this.load(this.resolve(peer.item), peer.clock.positionMs, true);
  }

  // ---- playback intents (each one is the newest, and wins) ------------------------------------

  /**
   * Play `item` from `positionMs`, the following item queued for a gapless change. The new state
   * is reported first, before the slow work (§5.6), unless `report` is off because the caller
   * sends its own report.
   */
  load(
    item: PlayableItem,
    positionMs: number,
    play: boolean,
    o: { next?: PlayableItem | null; report?: boolean } = {},
  ): Effect {
    const next = o.next === undefined ? this.nextAfter(item) : o.next;
    this.#loads += 1;
    this.#current = item;
    this.#next = next;
    this.#setClock(play ? 'playing' : 'paused', positionMs, true);
    if (o.report !== false) this.reportState();
    this.#fetchTrackInfo(item);
    return this.#o.player.load(item, { positionMs, play, next });
  }

  /** A position change on the current item; `status`, when given, also plays or pauses. */
  seek(positionMs: number, status?: 'playing' | 'paused'): Effect {
    this.#setClock(status ?? (this.#clock.status === 'playing' ? 'playing' : 'paused'), positionMs);
    this.reportState();
    const seek = this.#o.player.seek(positionMs);
    if (status === undefined) return seek;
    const toggle = status === 'playing' ? this.#o.player.play() : this.#o.player.pause();
    return Promise.all([seek, toggle]).then(() => undefined);
  }

  setPlaying(playing: boolean): Effect {
    this.#setClock(playing ? 'playing' : 'paused', this.positionNow());
    this.reportState();
    return playing ? this.#o.player.play() : this.#o.player.pause();
  }

  stop(): Effect {
    this.#setClock('stopped', 0, false);
    this.reportState();
    return this.#o.player.stopPlayback();
  }

  /** Re-computes what follows the current item and tells the speaker when it changed. */
  refreshNext(): Effect {
    return this.setNext(this.nextAfter(this.#current));
  }

  /** What follows the current item, as the service or the mirror says. */
  setNext(next: PlayableItem | null): Effect {
    if (next?.queueItemId === this.#next?.queueItemId && next?.trackId === this.#next?.trackId) return null;
    this.#next = next;
    return this.#current ? this.#o.player.setNext(next) : null;
  }

  setVolume(volume: number): Effect {
    this.#volume = Math.max(0, Math.min(100, Math.round(volume)));
    this.publishView();
    return this.#o.player.setVolume(this.#volume);
  }

  setMuted(muted: boolean): Effect {
    this.#muted = muted;
    this.publishView();
    return this.#o.player.setMuted(muted);
  }

  /** 44: the app's ceiling; the new format applies from the next stream request, so reload where we are (§5.9). */
  setSessionMaxQuality(level: number): Effect {
    this.#sessionMaxQuality = level;
    if (!this.#current || this.#clock.status === 'stopped') return null;
    return this.load(this.#current, this.positionNow(), this.#clock.status === 'playing', {
      next: this.#next,
      report: false,
    });
  }

  // ---- the queue ---------------------------------------------------------------------------

  noteQueueVersion(version: QueueVersion): void {
    this.#mirror.noteVersion(version);
  }

  applyQueueSnapshot(snapshot: QueueSnapshot): Effect {
    this.#mirror.applySnapshot(snapshot);
    if (this.#current) this.#current = this.resolve(this.#current);
    this.#queueChanged();
    return this.refreshNext();
  }

  applyQueueDelta(delta: QueueDelta): { readonly result: DeltaResult; readonly effect: Effect } {
    const result = this.#mirror.applyDelta(delta);
    if (result === 'stale') return { result, effect: null };
    if (delta.kind === 'cleared') return { result, effect: this.#queueCleared() };
    this.#queueChanged();
    return { result, effect: this.refreshNext() };
  }

  /** 102-104: autoplay on or off, suggestions loaded or removed; what follows the queue's end may change. */
  applyAutoplay(change: AutoplayChange): Effect {
    this.#mirror.applyAutoplay(change);
    this.#queueChanged();
    return this.refreshNext();
  }

  setRepeat(mode: RepeatMode): Effect {
    this.#mirror.setRepeat(mode);
    const effect = this.refreshNext();
    this.publishView();
    return effect;
  }

  // ---- what the speaker did (docs/architecture.md "Speaker events") --------------------------

  /**
   * The speaker moved on by itself to `item` (a gapless change). Dropped when a newer command is
   * still on its way to the speaker or the speaker has moved on since: it describes the past.
   */
  speakerTrackStarted(item: PlayableItem): Effect {
    const snap = this.speaker();
    if (!snap.settled || snap.current?.queueItemId !== item.queueItemId) return null;
    this.#current = this.resolve(item);
    this.#next = this.nextAfter(this.#current);
    this.#setClock('playing', 0, false);
    this.#fetchTrackInfo(this.#current);
    this.reportState();
    return this.#o.player.setNext(this.#next);
  }

  /** The current item ended with nothing after it: report STOPPED (§5.8). */
  speakerQueueEnded(): void {
    const snap = this.speaker();
    if (!snap.settled || snap.current !== null) return;
    this.#next = null;
    this.#setClock('stopped', 0, false);
    this.reportState();
  }

  /** Adopt what the speaker does now (a pause at the speaker, audio starting, a seek from elsewhere). */
  speakerStateChanged(): void {
    const snap = this.speaker();
    if (!snap.available || !snap.settled) return;
    const before = this.#clock;
    // A load of ours not started yet can show MPD stopped for a moment: keep the intent.
    const status =
      snap.status === 'stopped' && this.#current && before.buffering ? before.status : snap.status;
    const now = this.#o.now();
    this.#clock = clockAt(status, positionAt(snap, now), now, snap.buffering);
    if (
      before.status !== status ||
      before.buffering !== snap.buffering ||
      positionJumped(before, this.#clock)
    )
      this.reportState();
  }

  /**
   * Another MPD client plays its own music (issue #16, docs/protocol.md §9.4): Qobuz hears STOPPED
   * once, then nothing, as from an inactive renderer; link and item stay, for `resumeAfterStepAside`.
   */
  speakerTakenByOther(): void {
    const snap = this.speaker();
    if (!snap.available || !snap.settled) return;
    const changed = this.#clock.status !== 'stopped' || this.#clock.buffering || this.#active;
    this.#setClock('stopped', 0, false);
    if (this.#active) this.#send([stateUpdated(this.rendererReport())]);
    this.#steppedAside ||= this.#active;
    this.#active = false;
    if (changed) this.publishView();
  }

  /** Volume or mute changed at the speaker: tell Qobuz (25 / 29 are built by the caller). */
  speakerVolume(
    volumePercent: number,
    muted: boolean,
  ): { readonly volume: boolean; readonly muted: boolean } {
    const changed = { volume: volumePercent !== this.#volume, muted: muted !== this.#muted };
    this.#volume = volumePercent;
    this.#muted = muted;
    if (changed.volume || changed.muted) this.publishView();
    return changed;
  }

  speakerFormat(f: AudioFormat): void {
    this.#info.format(f);
    this.publishView();
  }

  /** Whether a failure report about `item` is about what we play now (not a command ago). */
  failureIsCurrent(item: PlayableItem): boolean {
    const snap = this.speaker();
    if (!snap.settled) return false;
    return item.queueItemId === this.#current?.queueItemId || item.queueItemId === this.#next?.queueItemId;
  }

  /** MPD went away or came back: buffer ERROR and stopped while away, keeping the position for the resume. */
  speakerAvailability(available: boolean): void {
    if (available && !this.#speakerKnown) {
      // The first answer: volume and mute as the speaker has them, before anything is published.
      this.#speakerKnown = true;
      this.#adoptSpeakerVolume(this.speaker());
    }
    this.#o.publisher?.publishAvailability(this.#o.playerId, available);
    if (!available && this.#clock.status !== 'stopped') this.#setClock('stopped', this.positionNow(), false);
    this.reportState();
  }

  /** Shutdown: tell Qobuz we stopped, then say nothing more. */
  shutdown(): void {
    if (this.#active && this.#clock.status !== 'stopped') {
      this.#setClock('stopped', this.positionNow(), false);
      this.reportState();
    }
    this.#active = false;
    this.#listing.stop();
  }

  /** Every 10 s while active and playing (§5.7). */
  heartbeat(): void {
    if (this.#active && isFlowing(this.#clock)) this.reportState();
  }

  // ---- private -----------------------------------------------------------------------------

  /** Qobuz no longer plays here: the session ended, or another device took over (README "Own Qobuz identity"). */
  #notPlayingHere(type: 'session_ended' | 'session_taken_over', fields: Record<string, unknown> = {}): void {
    if (!this.#playingHere) return;
    this.#playingHere = false;
    this.event(type, fields);
  }

  #adoptSpeakerVolume(snap: PlayerSnapshot): void {
    if (snap.volumePercent !== null) this.#volume = snap.volumePercent;
    this.#muted = snap.muted;
  }

  #setClock(status: ClockStatus, positionMs: number, buffering = this.#clock.buffering): void {
    this.#clock = clockAt(status, positionMs, this.#o.now(), buffering);
  }

  #facts(): SessionFacts {
    return {
      clock: this.#clock,
      current: this.#current,
      next: this.#next,
      queue: this.#mirror,
      track: this.#info.track,
      volume: this.#volume,
      muted: this.#muted,
      active: this.#active,
      linkState: this.#linkState,
      expired: this.#expired,
    };
  }

  /** 89: the queue is empty, so nothing is current any more: stop, and never report the cleared item again (issue #12). */
  #queueCleared(): Effect {
    const playing = this.#current !== null || this.#clock.status !== 'stopped';
    this.#current = null;
    this.#next = null;
    this.#info.forget();
    this.#listing.queueChanged();
    this.#o.onQueueItems?.([...this.#mirror.items, ...this.#mirror.autoplay]);
    this.#setClock('stopped', 0, false);
    this.reportState();
    return playing ? this.#o.player.stopPlayback() : null;
  }

  #queueChanged(): void {
    this.#listing.queueChanged();
    this.#o.onQueueItems?.([...this.#mirror.items, ...this.#mirror.autoplay]);
    this.publishView();
  }

  /** The MQTT queue listing follows the session: the queue is copied only when it, the current or the next item changed. */
  #updateListing(): void {
    const current = this.sessionItem();
    const next = current ? this.#mirror.next(current.queueItemId) : (this.#mirror.playOrder()[0] ?? null);
    this.#listing.update({ inSession: this.#linkState !== 'none', current, next }, () => ({
      version: this.#mirror.version,
      order: [...this.#mirror.playOrder()],
      shuffle: this.#mirror.shuffle,
      autoplay: [...this.#mirror.autoplay],
    }));
  }

  /** Track metadata for MQTT, once per track change; a late answer for another track is dropped. */
  #fetchTrackInfo(item: PlayableItem): void {
    this.#info.fetch(
      item,
      () => this.#current?.trackId === item.trackId,
      () => this.publishView(),
    );
  }
}
