import type { Logger } from 'pino';
import type { PlayableItem, Player, PlayerSnapshot } from '../core/player.js';
import type { PlayerView, RepeatMode, SessionEvent, StatePublisher, TrackInfo } from '../core/player-view.js';
import { isFlowing, positionAt } from '../core/position-clock.js';
import type { TrackSummary } from '../core/queue-listing.js';
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
import { QueuePublisher, type QueueListingTuning } from './queue/queue-publisher.js';
import { SessionLink, type LinkState } from './session-link.js';
import { SessionPeers, type PeerState } from './session-peers.js';
import { SessionPlayback, type Effect } from './playback/session-playback.js';
import { playerView, rendererReport, type SessionFacts } from './session-report.js';

/**
 * Everything one player's Qobuz Connect session knows (docs/architecture.md "One owner per
 * player"), behind intent methods that only PlayerSession's loop calls, one input at a time, so no
 * two inputs ever interleave. The core owns three parts and decides between them: the link and our
 * place in the session (SessionLink), what plays (SessionPlayback, reached as `playback`), and the
 * queue mirror; here live the decisions that need more than one of them: becoming active and
 * taking over, a new session, the queue changing under what plays, and who hears a report.
 */

export type { Effect } from './playback/session-playback.js';
export { ACTION_TIMEOUT_MS, REREGISTER_MIN_INTERVAL_MS, type LinkState } from './session-link.js';
export type { PeerState } from './session-peers.js';

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
  /** README "Volume modes", `external`: volume intents are published for the amplifier (issue #23). */
  readonly volumeExternal?: { readonly reportTimeoutMs: number };
  /** `external`: settles when request `n` was answered by the amplifier; rejects (ERR_TIMEOUT) when not in time. Given by PlayerSession. */
  readonly awaitVolumeReport?: (n: number) => Promise<void>;
}

/** The read-only face of the queue mirror: handlers read it, only the core changes it. */
export type QueueView = Omit<
  QueueMirror,
  'setRepeat' | 'noteVersion' | 'applySnapshot' | 'applyDelta' | 'applyAutoplay' | 'reset'
>;

export class SessionCore {
  readonly #o: SessionCoreOptions;
  readonly #mirror = new QueueMirror();
  readonly #peers = new SessionPeers();
  /** The link, our renderer id, the active one's, and controller verbs awaiting answers (docs/protocol.md §8). */
  readonly #link: SessionLink;
  readonly #playback: SessionPlayback;
  /** The queue on MQTT (`B/<player>/queue`, issue #14). */
  readonly #listing: QueuePublisher;
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

  constructor(options: SessionCoreOptions) {
    this.#o = options;
    this.#link = new SessionLink(options.now);
    this.#playback = new SessionPlayback({
      player: options.player,
      queue: this.#mirror,
      trackInfo: options.trackInfo,
      maxAudioQuality: options.maxAudioQuality,
      logger: options.logger,
      now: options.now,
      report: () => this.reportState(),
      publish: () => this.publishView(),
      volumeFixed: !options.device.volumeRemoteControl,
      ...(options.volumeExternal
        ? { volumeRequest: (r) => options.publisher?.publishVolumeRequest?.(options.playerId, r) }
        : {}),
    });
    this.#listing = new QueuePublisher({
      playerId: options.playerId,
      publisher: options.publisher,
      trackInfo: options.trackInfo,
      logger: options.logger,
      ...(options.queueListing ? { tuning: options.queueListing } : {}),
    });
  }

  // ---- reads -------------------------------------------------------------------------------

  /** README "Volume modes", `external`: the wait for the amplifier's report of request `n` (volume-commands.ts). */
  awaitVolumeReport(n: number): Promise<void> {
    return this.#o.awaitVolumeReport?.(n) ?? Promise.resolve();
  }

  get log(): Logger {
    return this.#o.logger;
  }
  get device(): DeviceInfoValue {
    return this.#o.device;
  }
  get joinMode(): SessionCoreOptions['joinMode'] {
    return this.#o.joinMode;
  }
  /** What plays, and the playback intents (load, seek, play or pause, stop, volume …). */
  get playback(): SessionPlayback {
    return this.#playback;
  }
  get linkState(): LinkState {
    return this.#link.state;
  }
  get rendererId(): number | null {
    return this.#link.rendererId;
  }
  get activeRendererId(): number {
    return this.#link.activeRendererId;
  }
  get active(): boolean {
    return this.#active;
  }
  get wantsActive(): boolean {
    return this.#wantActive;
  }
  get queue(): QueueView {
    return this.#mirror;
  }
  /** The session uuid the service named (81), null before. */
  get sessionUuid(): string | null {
    return this.#link.sessionUuid;
  }
  /** Whether becoming active would have something to play: another renderer's or the session's last item, or ours. */
  get canTakeOver(): boolean {
    return this.#takeoverPeer() !== null || this.#playback.current !== null;
  }
  now(): number {
    return this.#o.now();
  }
  speaker(): PlayerSnapshot {
    return this.#o.player.snapshot();
  }
  /** The item the session plays: ours while active, else what the active renderer last reported (82). */
  sessionItem(): PlayableItem | null {
    if (this.#active) return this.#playback.current;
    return this.#takeoverPeer()?.item ?? this.#playback.current;
  }
  /** What the queue listing knows of a track (queue events carry the titles already known). */
  trackSummary(trackId: number): TrackSummary | undefined {
    return this.#listing.summary(trackId);
  }

  // ---- outputs: the report and the view are derived in session-report.ts only ---------------

  send(messages: OutgoingMessage[]): void {
    this.#link.send(messages);
  }

  rendererReport(): RendererReport {
    return rendererReport(this.#facts(), this.speaker(), this.#o.now());
  }

  view(): PlayerView {
    return playerView(this.#facts(), this.speaker(), this.#o.now());
  }

  /** Only the active renderer reports (docs/protocol.md §5.7); MQTT always hears. */
  reportState(): void {
    if (this.#active) this.#link.send([stateUpdated(this.rendererReport())]);
    this.publishView();
  }

  /** README "MQTT topics": the first state carries the speaker's real volume, so none leaves before the speaker answered. */
  publishView(): void {
    this.#updateListing();
    if (this.#playback.speakerKnown) this.#o.publisher?.publishState(this.#o.playerId, this.view());
  }

  event(type: SessionEvent['type'], fields: Record<string, unknown> = {}): void {
    this.#o.publisher?.publishEvent(this.#o.playerId, { type, atMs: this.#o.now(), fields });
  }

  // ---- controller verbs on our own link (docs/protocol.md §8 "Controller verbs") ---------------

  /** A controller verb; resolves with the service's answer naming `actionUuid` (SessionLink.sendAction). */
  sendAction(
    messages: OutgoingMessage[],
    actionUuid: Uint8Array | string,
    what: string,
    timeoutMs?: number,
  ): Promise<void> {
    return this.#link.sendAction(messages, actionUuid, what, timeoutMs);
  }

  /** A broadcast carrying an action uuid came back (`queueState`: a 90): true when it answered a verb of ours. */
  actionAnswered(actionUuid: Uint8Array | string | null | undefined, queueState = false): boolean {
    return this.#link.answered(actionUuid, queueState);
  }

  /** A newer intent: the plays waiting for the service are superseded (intent-supersede.ts). */
  supersedePlays(hold: boolean): void {
    this.#link.supersedePlays(hold);
  }

  /** The 41 answering a play a pause superseded: applied paused (intent-supersede.ts). */
  heldPlay(key: string): boolean {
    return this.#link.heldPlay(key);
  }

  /** 88: the service refused a queue edit; 'pending': a type-1 error refuses every verb waiting. */
  actionRefused(actionUuid: Uint8Array | 'pending' | null | undefined, reason: string): void {
    this.#link.refused(actionUuid, reason);
  }

  // ---- the link ----------------------------------------------------------------------------

  /** A connect from the app: frames go to `send` from now on; `becomeActive` asks to take playback once joined. */
  linkOpened(
    send: (messages: OutgoingMessage[]) => boolean,
    becomeActive: boolean,
    reregister: () => void = () => {},
  ): void {
    this.#link.opened(send, reregister);
    this.#wantActive = becomeActive;
    this.publishView();
  }

  /**
   * A connect into another session than the one we are in (or after ours ended): nothing of the
   * old one carries over — queue, version, current and next item, peers, renderer ids, the app's
   * quality ceiling (issue #12). A Qobuz item the speaker still plays belongs to the old queue, so
   * it stops; music that was never ours is left alone.
   */
  newSession(): Effect {
    const ours = this.#playback.current !== null;
    this.#link.forgetSession();
    this.#mirror.reset();
    this.#listing.queueChanged();
    this.#peers.clear();
    this.#active = false;
    this.#playOnActivate = false;
    this.#steppedAside = false;
    this.#freshUntilMs = 0;
    this.#notPlayingHere('session_ended', { reason: 'a new Qobuz session' });
    this.#playback.clear({ resetQuality: true });
    this.#o.onQueueItems?.([]);
    this.publishView();
    return ours ? this.#o.player.stopPlayback() : null;
  }

  /** The socket is up and about to join: not active, renderer id unknown until the service names us (83). */
  joining(): void {
    this.#active = false;
    this.#link.joining();
  }

  /** The link dropped and will come back: keep playing, stop reporting, remember whether to take playback back (§5.12). */
  linkDown(): void {
    this.#link.down();
    this.#wantActive = this.#active || this.#wantActive;
    this.#active = false;
    this.publishView();
  }

  /** The link ended for good (or was replaced): no frames leave until the next connect; `expired` when its token ran out. */
  linkClosed(reason: string | null, expired = false): void {
    this.#link.closed(expired);
    this.#active = false;
    this.#freshUntilMs = 0;
    this.#steppedAside = false;
    if (reason !== null) {
      this.event('session_closed', { reason });
      this.#notPlayingHere('session_ended', { reason });
      this.publishView();
    }
  }

  /** The service named our renderer id (83 with our device uuid): joined. */
  joinedAs(rendererId: number): void {
    this.#link.joinedAs(rendererId);
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
    this.#link.noteActive(activeRendererId, sessionUuid);
    if (version) this.#mirror.noteVersion(version);
    if (repeat) this.#mirror.setRepeat(repeat);
  }

  /** 82 of another renderer: where it is, to take over from it. */
  notePeer(rendererId: number, peer: PeerState): void {
    if (rendererId === this.#link.rendererId) return; // our own report echoed (§5.10)
    this.#peers.note(rendererId, peer);
    this.#updateListing();
  }

  /**
   * The service answered as if it no longer knew us while the socket stays open (docs/protocol.md
   * §8 "Silent deregistration"): subscribe and join again on the same link, taking playback back if
   * we had it. Rate-limited; false when nothing was sent.
   */
  serviceForgotUs(): boolean {
    const wanted = this.#wantActive;
    this.#wantActive = this.#active || this.#wantActive;
    if (this.#link.rejoin()) return true;
    this.#wantActive = wanted;
    return false;
  }

  /** 85: a renderer left the session; its last state is no place to take over from. */
  removePeer(rendererId: number): void {
    this.#peers.remove(rendererId);
  }

  /** 86: another renderer took over. */
  activeRendererChanged(rendererId: number): Effect {
    this.#link.noteActive(rendererId);
    return this.#active && rendererId !== this.#link.rendererId ? this.deactivate() : null;
  }

  // ---- becoming active, taking over (docs/protocol.md §5.3-§5.5, §5.11) -----------------------

  /**
   * Ask the service to make us active (63) and play once it does; false when the service has not
   * named us yet. `fresh`: a queue of ours is about to be played (play_media, README "Own Qobuz
   * identity"), so the activation takes nothing over from the previous renderer and plays nothing
   * by itself: the controller's 62 that follows says what plays.
   */
  requestActive(o: { fresh?: boolean } = {}): boolean {
    const rendererId = this.#link.rendererId;
    if (rendererId === null) return false;
    if (o.fresh) {
      if (this.#active) return true; // already ours: the 62 that follows is enough
      this.#freshUntilMs = this.#o.now() + FRESH_START_MS;
      this.#playOnActivate = false;
    } else {
      this.#playOnActivate = true;
    }
    this.#link.send([setActiveRenderer(rendererId)]);
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
    const pb = this.#playback;
    const peer = this.#takeoverPeer();
    const snap = this.speaker();
    const current = pb.current;
    // Re-activated after our own link dropped: the speaker is still on our item, leave it be.
    const stillOurs =
      !peer &&
      current !== null &&
      snap.current?.queueItemId === current.queueItemId &&
      snap.status !== 'stopped';
    if (peer?.item) {
      const status = peer.clock.status === 'playing' || this.#playOnActivate ? 'playing' : 'paused';
      pb.takeOver(peer.item, status, positionAt(peer.clock, this.#o.now()));
    } else if (stillOurs && this.#playOnActivate) {
      pb.setClock('playing', pb.positionNow());
    }
    const resume = this.#playOnActivate || pb.status === 'playing';
    this.#playOnActivate = false;
    this.publishView();
    if (stillOurs)
      return { took: true, effect: resume && snap.status === 'paused' ? this.#o.player.play() : null };
    const now = pb.current;
    // The activation batch carries the state report itself (§5.4).
    if (now && now.trackId !== 0)
      return { took: true, effect: pb.load(now, pb.positionNow(), resume, { report: false }) };
    return { took: true, effect: null };
  }

  /** 43 false or another renderer active: pause, report nothing more, keep the link (§5.11). */
  deactivate(): Effect {
    this.#steppedAside = false;
    if (!this.#active) return null;
    this.#active = false;
    this.#notPlayingHere('session_taken_over');
    if (this.#playback.status === 'playing')
      this.#playback.setClock('paused', this.#playback.positionNow(), false);
    this.publishView();
    return this.#o.player.pause();
  }

  /** A play after `speakerTakenByOther`: the service still names us active, so we are again, no hand-over (issue #16). */
  resumeAfterStepAside(): boolean {
    if (!this.#steppedAside || !this.#link.joined || !this.#link.namesUsActive) return false;
    this.#steppedAside = false;
    this.#active = true;
    return true;
  }

  /** Play again where the last renderer was, for a play with no current item (§5.5). */
  resumeFromPeers(): Effect {
    const peer = this.#takeoverPeer();
    if (!peer?.item) return null;
    return this.#playback.load(this.#playback.resolve(peer.item), peer.clock.positionMs, true);
  }

  // ---- the queue ---------------------------------------------------------------------------

  noteQueueVersion(version: QueueVersion): void {
    this.#mirror.noteVersion(version);
  }

  applyQueueSnapshot(snapshot: QueueSnapshot): Effect {
    this.#mirror.applySnapshot(snapshot);
    this.#playback.requeued();
    this.#queueChanged();
    return this.#playback.refreshNext();
  }

  applyQueueDelta(delta: QueueDelta): { readonly result: DeltaResult; readonly effect: Effect } {
    const result = this.#mirror.applyDelta(delta);
    if (result === 'stale') return { result, effect: null };
    if (delta.kind === 'cleared') return { result, effect: this.#queueCleared() };
    this.#queueChanged();
    return { result, effect: this.#playback.refreshNext() };
  }

  /** 102-104: autoplay on or off, suggestions loaded or removed; what follows the queue's end may change. */
  applyAutoplay(change: AutoplayChange): Effect {
    this.#mirror.applyAutoplay(change);
    this.#queueChanged();
    return this.#playback.refreshNext();
  }

  setRepeat(mode: RepeatMode): Effect {
    this.#mirror.setRepeat(mode);
    const effect = this.#playback.refreshNext();
    this.publishView();
    return effect;
  }

  // ---- the speaker, where it concerns more than playback ------------------------------------

  /**
   * Another MPD client plays its own music (issue #16, docs/protocol.md §9.4): Qobuz hears STOPPED
   * once, then nothing, as from an inactive renderer; link and item stay, for `resumeAfterStepAside`.
   */
  speakerTakenByOther(): void {
    const snap = this.speaker();
    if (!snap.available || !snap.settled) return;
    const clock = this.#playback.clock;
    const changed = clock.status !== 'stopped' || clock.buffering || this.#active;
    this.#playback.setClock('stopped', 0, false);
    if (this.#active) this.#link.send([stateUpdated(this.rendererReport())]);
    this.#steppedAside ||= this.#active;
    this.#active = false;
    if (changed) this.publishView();
  }

  /** MPD went away or came back: availability on MQTT, and the state (buffer ERROR while away). */
  speakerAvailability(available: boolean): void {
    this.#playback.speakerAvailability(available);
    this.#o.publisher?.publishAvailability(this.#o.playerId, available);
    this.reportState();
  }

  /** Shutdown: tell Qobuz we stopped, then say nothing more. */
  shutdown(): void {
    if (this.#active && this.#playback.status !== 'stopped') {
      this.#playback.setClock('stopped', this.#playback.positionNow(), false);
      this.reportState();
    }
    this.#active = false;
    this.#listing.stop();
  }

  /** Every 10 s while active and playing (§5.7). */
  heartbeat(): void {
    if (this.#active && isFlowing(this.#playback.clock)) this.reportState();
  }

  // ---- private -----------------------------------------------------------------------------

  #takeoverPeer(): ReturnType<SessionPeers['takeover']> {
    return this.#peers.takeover(this.#link.activeRendererId, this.#link.rendererId);
  }

  /** Qobuz no longer plays here: the session ended, or another device took over (README "Own Qobuz identity"). */
  #notPlayingHere(type: 'session_ended' | 'session_taken_over', fields: Record<string, unknown> = {}): void {
    if (!this.#playingHere) return;
    this.#playingHere = false;
    this.event(type, fields);
  }

  #facts(): SessionFacts {
    const pb = this.#playback;
    return {
      clock: pb.clock,
      current: pb.current,
      next: pb.next,
      queue: this.#mirror,
      track: pb.track,
      volume: pb.volume,
      muted: pb.muted,
      active: this.#active,
      linkState: this.#link.state,
      expired: this.#link.expired,
    };
  }

  /** 89: the queue is empty, so nothing is current any more: stop, and never report the cleared item again (issue #12). */
  #queueCleared(): Effect {
    const playing = this.#playback.clear();
    this.#listing.queueChanged();
    this.#o.onQueueItems?.([...this.#mirror.items, ...this.#mirror.autoplay]);
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
    this.#listing.update({ inSession: this.#link.state !== 'none', current, next }, () => ({
      version: this.#mirror.version,
      order: [...this.#mirror.playOrder()],
      shuffle: this.#mirror.shuffle,
      autoplay: [...this.#mirror.autoplay],
    }));
  }
}
