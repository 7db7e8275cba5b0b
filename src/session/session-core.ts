import type { Logger } from 'pino';
import type { PlayableItem, PlayerSnapshot } from '../core/player.js';
import type { PlayerView, RepeatMode, SessionEvent } from '../core/player-view.js';
import { isFlowing } from '../core/position-clock.js';
import type { TrackSummary } from '../core/queue-listing.js';
import type { QueueVersion } from '../core/queue-mirror.js';
import type { OutgoingMessage } from '../protocol/frame-writer.js';
import type { DeviceInfoValue, RendererReport } from '../protocol/renderer-messages.js';
import { stateUpdated, volumeChanged, volumeMuted } from '../protocol/renderer-messages.js';
import { SessionActivation } from './activation/session-activation.js';
import { outcomeOf, say, inOrder, type Outcome } from './outcome.js';
import { SessionPlayback, type Effect } from './playback/session-playback.js';
import { SessionQueue, type QueueUpdates, type QueueView } from './queue/session-queue.js';
import type { SessionCoreOptions } from './session-core-options.js';
import { SessionLink, type LinkState } from './session-link.js';
import { SessionPeers, type PeerState } from './session-peers.js';
import { playerView, rendererReport, type SessionFacts } from './session-report.js';

/**
 * Everything one player's Qobuz Connect session knows (docs/architecture.md "One owner per
 * player"), behind intent methods that only PlayerSession's loop calls, one input at a time, so no
 * two inputs ever interleave. The core owns four parts and decides between them: the link and our
 * place in the session (SessionLink), what plays (SessionPlayback, reached as `playback`), becoming
 * active and taking over (SessionActivation, `activation`), and the queue (SessionQueue, read as
 * `queue`, changed through `queueUpdates`); here live the decisions that need more than one of them:
 * a new session, the link's life, the speaker's, and who hears a report.
 */

export type { Effect } from './playback/session-playback.js';
export type { QueueView } from './queue/session-queue.js';

export class SessionCore {
  readonly #o: SessionCoreOptions;
  readonly #peers = new SessionPeers();
  /** The link, our renderer id, the active one's, and controller verbs awaiting answers (docs/protocol.md §8). */
  readonly #link: SessionLink;
  readonly #playback: SessionPlayback;
  /** The queue mirror and its listing on MQTT (`B/<player>/queue`, issue #14). */
  readonly #queue: SessionQueue;
  readonly #activation: SessionActivation;

  constructor(options: SessionCoreOptions) {
    this.#o = options;
    this.#link = new SessionLink(options.now, options.step);
    this.#queue = new SessionQueue(
      {
        player: options.player,
        onQueueItems: options.onQueueItems,
        playback: () => this.#playback,
        sessionItem: () => this.sessionItem(),
        inSession: () => this.#link.state !== 'none',
        publishView: () => this.publishView(),
        reportState: () => this.#reportState(),
      },
      {
        playerId: options.playerId,
        publisher: options.publisher,
        trackInfo: options.trackInfo,
        logger: options.logger,
        ...(options.queueListing ? { tuning: options.queueListing } : {}),
        ...(options.step ? { step: options.step } : {}),
      },
    );
    this.#playback = new SessionPlayback({
      player: options.player,
      queue: this.#queue.view,
      trackInfo: options.trackInfo,
      maxAudioQuality: options.maxAudioQuality,
      logger: options.logger,
      now: options.now,
      report: () => this.#reportState(),
      publish: () => this.publishView(),
      ...(options.step ? { step: options.step } : {}),
      volumeRefused: () => {
        if (this.active) this.#link.send([volumeMuted(this.#playback.muted), volumeChanged(this.#playback.volume)]);
      },
      volumeFixed: !options.device.volumeRemoteControl,
      ...(options.volumeExternal
        ? { volumeRequest: (r) => options.publisher?.publishVolumeRequest?.(options.playerId, r) }
        : {}),
    });
    this.#activation = new SessionActivation({
      link: this.#link,
      peers: this.#peers,
      playback: this.#playback,
      player: options.player,
      now: () => options.now(),
      speaker: () => this.speaker(),
      event: (type, fields) => this.event(type, fields),
      publishView: () => this.publishView(),
    });
  }

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
  /** What plays, and the playback intents (load, seek, play or pause, stop, volume …): only inside a step. */
  get playback(): SessionPlayback {
    this.#write('playback');
    return this.#playback;
  }
  /** The AudioQuality level streams are asked for (read from outside: the stream route). */
  get effectiveMaxQuality(): number {
    return this.#playback.effectiveMaxQuality;
  }
  /** Becoming active and taking over (docs/protocol.md §5.3-§5.5): request, activate, deactivate … */
  get activation(): SessionActivation {
    this.#write('activation');
    return this.#activation;
  }
  /** The queue's intents (81, 90-91, 102-104, loop mode): what the service says the queue is. */
  get queueUpdates(): QueueUpdates {
    this.#write('queueUpdates');
    return this.#queue;
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
    return this.#activation.active;
  }
  get queue(): QueueView {
    return this.#queue.view;
  }
  /** The session uuid the service named (81), null before. */
  get sessionUuid(): string | null {
    return this.#link.sessionUuid;
  }
  now(): number {
    return this.#o.now();
  }
  speaker(): PlayerSnapshot {
    return this.#o.player.snapshot();
  }
  /** The item the session plays: ours while active, else what the active renderer last reported (82). */
  sessionItem(): PlayableItem | null {
    if (this.#activation.active) return this.#playback.current;
    return this.#activation.takeoverPeer()?.item ?? this.#playback.current;
  }
  /** What the queue listing knows of a track (queue events carry the titles already known). */
  trackSummary(trackId: number): TrackSummary | undefined {
    return this.#queue.summary(trackId);
  }

  // ---- outputs: the report and the view are derived in session-report.ts only ---------------

  /**
   * Runs one decision of an intent (src/session/intents/): the frames the core sends meanwhile (its
   * state reports, the verbs) are kept, in order, and come first in the outcome, before what `fn`
   * returns it says. Nested decisions keep their own frames; nothing leaves before `apply`.
   */
  decide(fn: () => Outcome | Effect | void): Outcome {
    this.#write('decide');
    const { value, messages } = this.#link.capture(fn);
    const out = outcomeOf(value);
    return messages.length > 0 ? inOrder(say(...messages), out) : out;
  }

  /** THE way an outcome's frames leave (handle-input.ts, once per input; the link's join): one send, in order. */
  apply(outcome: Outcome): Effect {
    this.#write('apply');
    if (outcome.messages.length > 0) this.#link.send(outcome.messages);
    return outcome.effect;
  }

  rendererReport(): RendererReport {
    return rendererReport(this.#facts(), this.speaker(), this.#o.now());
  }

  view(): PlayerView {
    return playerView(this.#facts(), this.speaker(), this.#o.now());
  }

  /** Only the active renderer reports (docs/protocol.md §5.7); MQTT always hears. */
  #reportState(): void {
    if (this.#activation.active) this.#link.send([stateUpdated(this.rendererReport())]);
    this.publishView();
  }

  /** README "MQTT topics": the first state carries the speaker's real volume, so none leaves before the speaker answered. */
  publishView(): void {
    this.#write('publishView');
    this.#queue.updateListing();
    if (this.#playback.speakerKnown) this.#o.publisher?.publishState(this.#o.playerId, this.view());
  }

  event(type: SessionEvent['type'], fields: Record<string, unknown> = {}): void {
    this.#write('event');
    this.#o.publisher?.publishEvent(this.#o.playerId, { type, atMs: this.#o.now(), fields });
  }

  // ---- controller verbs on our own link (docs/protocol.md §8 "Controller verbs") ---------------

  /**
   * The verbs and their answers (SessionLink): `sendAction` resolves with the service's answer naming
   * its action uuid; `answered` (a broadcast carrying one came back; `queueState`: a 90), `refused`
   * (88; 'pending': a type-1 error refuses every verb waiting); `supersedePlays` and `heldPlay` for
   * the newest intent (intent-supersede.ts).
   */
  get verbs(): Pick<SessionLink, 'sendAction' | 'answered' | 'refused' | 'supersedePlays' | 'heldPlay'> {
    this.#write('verbs');
    return this.#link;
  }

  /** A connect from the app: frames go to `send` from now on; `becomeActive` asks to take playback once joined. */
  linkOpened(
    send: (messages: OutgoingMessage[]) => boolean,
    becomeActive: boolean,
    reregister: () => void = () => {},
  ): void {
    this.#write('linkOpened');
    this.#link.opened(send, reregister);
    this.#activation.linkOpened(becomeActive);
    this.publishView();
  }

  /**
   * A connect into another session than the one we are in (or after ours ended): nothing of the
   * old one carries over — queue, version, current and next item, peers, renderer ids, the app's
   * quality ceiling (issue #12). A Qobuz item the speaker still plays belongs to the old queue, so
   * it stops; music that was never ours is left alone.
   */
  newSession(): Effect {
    this.#write('newSession');
    const ours = this.#playback.current !== null;
    this.#link.forgetSession();
    this.#queue.reset();
    this.#peers.clear();
    this.#activation.newSession();
    this.#playback.clear({ resetQuality: true });
    this.#o.onQueueItems?.([]);
    this.publishView();
    return ours ? this.#o.player.stopPlayback() : null;
  }

  /** The socket is up and about to join: not active, renderer id unknown until the service names us (83). */
  joining(): void {
    this.#write('joining');
    this.#activation.inactive();
    this.#link.joining();
  }

  /** The link dropped and will come back: keep playing, stop reporting, remember whether to take playback back (§5.12). */
  linkDown(): void {
    this.#write('linkDown');
    this.#link.down();
    this.#activation.linkDown();
    this.publishView();
  }

  /** The link ended for good (or was replaced): no frames leave until the next connect; `expired` when its token ran out. */
  linkClosed(reason: string | null, expired = false): void {
    this.#write('linkClosed');
    this.#link.closed(expired);
    if (reason !== null) this.event('session_closed', { reason });
    this.#activation.linkClosed(reason);
    if (reason !== null) this.publishView();
  }

  /** The service named our renderer id (83 with our device uuid): joined. */
  joinedAs(rendererId: number): void {
    this.#write('joinedAs');
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
    this.#write('noteSessionState');
    this.#link.noteActive(activeRendererId, sessionUuid);
    this.#queue.noteSessionState(version, repeat);
  }

  /** 82 of another renderer: where it is, to take over from it. */
  notePeer(rendererId: number, peer: PeerState): void {
    this.#write('notePeer');
    if (rendererId === this.#link.rendererId) return; // our own report echoed (§5.10)
    this.#peers.note(rendererId, peer);
    this.#queue.updateListing();
  }

  /**
   * The service answered as if it no longer knew us while the socket stays open (docs/protocol.md
   * §8 "Silent deregistration"): subscribe and join again on the same link, taking playback back if
   * we had it. Rate-limited; false when nothing was sent.
   */
  serviceForgotUs(): boolean {
    this.#write('serviceForgotUs');
    return this.#activation.rejoin(() => this.#link.rejoin());
  }

  /** 85: a renderer left the session; its last state is no place to take over from. */
  removePeer(rendererId: number): void {
    this.#write('removePeer');
    this.#peers.remove(rendererId);
  }

  /** 86: another renderer took over. */
  activeRendererChanged(rendererId: number): Effect {
    this.#write('activeRendererChanged');
    this.#link.noteActive(rendererId);
    return this.#activation.active && rendererId !== this.#link.rendererId
      ? this.#activation.deactivate()
      : null;
  }

  // ---- the speaker, where it concerns more than playback ------------------------------------

  /**
   * Another MPD client plays its own music (issue #16, docs/protocol.md §9.4): Qobuz hears STOPPED
   * once, then nothing, as from an inactive renderer; link and item stay, for `resumeAfterStepAside`.
   */
  speakerTakenByOther(): void {
    this.#write('speakerTakenByOther');
    const snap = this.speaker();
    if (!snap.available || !snap.settled) return;
    const clock = this.#playback.clock;
    const active = this.#activation.active;
    const changed = clock.status !== 'stopped' || clock.buffering || active;
    this.#playback.setClock('stopped', 0, false);
    if (active) this.#link.send([stateUpdated(this.rendererReport())]);
    this.#activation.stepAside();
    if (changed) this.publishView();
  }

  /** MPD went away or came back: availability on MQTT, and the state (buffer ERROR while away). */
  speakerAvailability(available: boolean): void {
    this.#write('speakerAvailability');
    this.#playback.speakerAvailability(available);
    this.#o.publisher?.publishAvailability(this.#o.playerId, available);
    this.#reportState();
  }

  /** Shutdown: tell Qobuz we stopped, then say nothing more. */
  shutdown(): void {
    this.#write('shutdown');
    if (this.#activation.active && this.#playback.status !== 'stopped') {
      this.#playback.setClock('stopped', this.#playback.positionNow(), false);
      this.#reportState();
    }
    this.#activation.inactive();
    this.#queue.stop();
  }

  /** Every 10 s while active and playing (§5.7). */
  heartbeat(): void {
    this.#write('heartbeat');
    if (this.#activation.active && isFlowing(this.#playback.clock)) this.#reportState();
  }

  #facts(): SessionFacts {
    const pb = this.#playback;
    return {
      clock: pb.clock,
      current: pb.current,
      next: pb.next,
      queue: this.#queue.view,
      track: pb.track,
      volume: pb.volume,
      muted: pb.muted,
      active: this.#activation.active,
      linkState: this.#link.state,
      expired: this.#link.expired,
    };
  }

  /** Development mode (loop-step.ts): a write outside a step of the player's loop is a bug, caught here. */
  #write(what: string): void {
    this.#o.guard?.assert(what);
  }
}
