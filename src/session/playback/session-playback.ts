import type { PlayableItem, PlayedFormat, PlayerSnapshot } from '../../core/player.js';
import type { TrackInfo } from '../../core/player-view.js';
import {
  clockAt,
  positionAt,
  positionJumped,
  type ClockStatus,
  type PositionClock,
} from '../../core/position-clock.js';
import { TrackInfoLookup } from './track-info-lookup.js';
import type { ExternalVolume } from './external-volume.js';
import { PreviousAnswer } from './previous-answer.js';
import type { Effect, SessionPlaybackOptions } from './session-playback-options.js';
import { SessionVolume } from './session-volume.js';

export type { Effect, SessionPlaybackOptions } from './session-playback-options.js';

/**
 * What one player's session plays, and the speaker's side of it (docs/architecture.md "One owner
 * per player"): the current item and its neighbours, the position clock, volume and mute, the quality
 * ceiling, the track's metadata. Part of SessionCore: only the core holds one, and the session's
 * loop calls it, one input at a time. Each intent changes the state at once, reports it, and hands
 * the speaker work back as an Effect the loop does not wait for (docs/architecture.md "The newest
 * intent wins"). Whether a report reaches Qobuz (only while active) is the core's business.
 */
export class SessionPlayback {
  readonly #o: SessionPlaybackOptions;
  readonly #info: TrackInfoLookup;
  /** Item and output format last reported to Qobuz (26). */
  #reportedFormat: string | null = null;
  readonly #volume: SessionVolume;
  #current: PlayableItem | null = null;
  #next: PlayableItem | null = null;
  #previous: PlayableItem | null = null;
  readonly #previousAnswer = new PreviousAnswer();
  /** What we are doing, as commanded; reports extrapolate from it. */
  #clock: PositionClock;
  /** AudioQuality level the app allows (44); the stream asks for min(this, configured). */
  #sessionMaxQuality: number;
  /** Whether the speaker has answered once: until then volume and mute are not known, and no view leaves (issue #12). */
  #speakerKnown: boolean;
  /** Loads asked for so far: a command waiting for the speaker tells its own load from an earlier one (queue item ids repeat). */
  #loads = 0;

  constructor(options: SessionPlaybackOptions) {
    this.#o = options;
    this.#info = new TrackInfoLookup(options.trackInfo, options.logger, options.step);
    this.#volume = new SessionVolume({
      player: options.player,
      publish: () => options.publish(),
      fixed: options.volumeFixed === true,
      request: options.volumeRequest,
      step: options.step,
      refused: options.volumeRefused,
    });
    this.#sessionMaxQuality = options.maxAudioQuality;
    this.#clock = clockAt('stopped', 0, options.now());
    const snap = options.player.snapshot();
    this.#speakerKnown = snap.available;
    this.#volume.adopt(snap);
  }

  // ---- reads -------------------------------------------------------------------------------

  get current(): PlayableItem | null {
    return this.#current;
  }
  get next(): PlayableItem | null {
    return this.#next;
  }
  get previous(): PlayableItem | null {
    return this.#previous;
  }
  get clock(): PositionClock {
    return this.#clock;
  }
  get status(): ClockStatus {
    return this.#clock.status;
  }
  /** Volume and mute belong to the amplifier: every volume intent is refused, nothing reaches MPD. */
  get volumeFixed(): boolean {
    return this.#volume.fixed;
  }
  /** README "Volume modes", `external`; null in the other modes. */
  get external(): ExternalVolume | null {
    return this.#volume.external;
  }
  get volume(): number {
    return this.#volume.volume;
  }
  get muted(): boolean {
    return this.#volume.muted;
  }
  get sessionMaxQuality(): number {
    return this.#sessionMaxQuality;
  }
  get effectiveMaxQuality(): number {
    return Math.min(this.#sessionMaxQuality, this.#o.maxAudioQuality);
  }
  get loads(): number {
    return this.#loads;
  }
  get speakerKnown(): boolean {
    return this.#speakerKnown;
  }
  get track(): TrackInfo | null {
    return this.#info.track;
  }
  positionNow(): number {
    return positionAt(this.#clock, this.#o.now());
  }
  speaker(): PlayerSnapshot {
    return this.#o.player.snapshot();
  }
  /** What follows `item` now: the mirror under loop and shuffle (docs/protocol.md §5.8). */
  nextAfter(item: PlayableItem | null): PlayableItem | null {
    return item ? this.#o.queue.next(item.queueItemId) : null;
  }
  /** What precedes `item` now in play order: the speaker keeps it for another client's `previous` (§9.4). */
  previousBefore(item: PlayableItem | null): PlayableItem | null {
    return item ? this.#o.queue.previous(item.queueItemId) : null;
  }
  /** A queue item as the mirror knows it (with its track id), else as given. */
  resolve(item: PlayableItem): PlayableItem {
    return this.#o.queue.find(item.queueItemId) ?? item;
  }

  // ---- intents (each one is the newest, and wins) -------------------------------------------

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
    const playsAlready = this.#previousAnswer.take(item, this.#o.now(), this.speaker()) && play;
    this.#loads += 1;
    this.#current = item;
    this.#next = next;
    this.#previous = this.previousBefore(item);
    if (playsAlready) {
      // The service's answer to our PREVIOUS names what MPD already plays: no reload, no gap.
      this.#clockFromSpeaker();
      if (o.report !== false) this.#o.report();
      return this.syncNeighbours();
    }
    this.setClock(play ? 'playing' : 'paused', positionMs, true);
    if (o.report !== false) this.#o.report();
    this.#fetchTrackInfo(item);
    return this.#o.player.load(item, { positionMs, play, next, previous: this.#previous });
  }

  /** A position change on the current item; `status`, when given, also plays or pauses. */
  seek(positionMs: number, status?: 'playing' | 'paused'): Effect {
    this.#previousAnswer.forget();
    this.setClock(status ?? (this.#clock.status === 'playing' ? 'playing' : 'paused'), positionMs);
    this.#o.report();
    const seek = this.#o.player.seek(positionMs);
    if (status === undefined) return seek;
    const toggle = status === 'playing' ? this.#o.player.play() : this.#o.player.pause();
    return Promise.all([seek, toggle]).then(() => undefined);
  }

  setPlaying(playing: boolean): Effect {
    this.#previousAnswer.forget();
    this.setClock(playing ? 'playing' : 'paused', this.positionNow());
    this.#o.report();
    return playing ? this.#o.player.play() : this.#o.player.pause();
  }

  stop(): Effect {
    this.#previousAnswer.forget();
    this.setClock('stopped', 0, false);
    this.#o.report();
    return this.#o.player.stopPlayback();
  }

  /** Re-computes what follows and precedes the current item and tells the speaker what changed. */
  refreshNext(): Effect {
    return both(
      this.setNext(this.nextAfter(this.#current)),
      this.#setPrevious(this.previousBefore(this.#current)),
    );
  }

  /** What follows the current item, as the service or the mirror says. */
  setNext(next: PlayableItem | null): Effect {
    if (next?.queueItemId === this.#next?.queueItemId && next?.trackId === this.#next?.trackId) return null;
    this.#next = next;
    return this.#current ? this.#o.player.setNext(next) : null;
  }

  setVolume(volume: number): Effect {
    return this.#volume.set(volume);
  }

  /** `external`: the amplifier's real level came back; it is the speaker's volume from now on. */
  volumeReported(volume: number): void {
    this.#volume.reported(volume);
  }

  setMuted(muted: boolean): Effect {
    return this.#volume.setMuted(muted);
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

  // ---- for SessionCore: takeover, a new session, a cleared queue ----------------------------

  /** Where the position clock stands now, as commanded. */
  setClock(status: ClockStatus, positionMs: number, buffering = this.#clock.buffering): void {
    this.#clock = clockAt(status, positionMs, this.#o.now(), buffering);
  }

  /** Taking over `item` from another renderer at its clock (§5.5), nothing sent to the speaker yet. */
  takeOver(item: PlayableItem, status: ClockStatus, positionMs: number): void {
    this.#current = this.resolve(item);
    this.#next = this.nextAfter(this.#current);
    this.#previous = this.previousBefore(this.#current);
    this.#clock = clockAt(status, positionMs, this.#o.now(), true);
  }

  /** The queue was read again: the current item as the mirror knows it now. */
  requeued(): void {
    if (this.#current) this.#current = this.resolve(this.#current);
  }

  /**
   * Nothing is current any more (a new session, or the queue cleared: issue #12), and nothing is
   * reported about it again. True when something was ours to stop.
   */
  clear(o: { resetQuality?: boolean } = {}): boolean {
    const ours = this.#current !== null || this.#clock.status !== 'stopped';
    this.#current = null;
    this.#next = null;
    this.#previous = null;
    this.#previousAnswer.forget();
    if (o.resetQuality) this.#sessionMaxQuality = this.#o.maxAudioQuality;
    this.#info.forget();
    this.setClock('stopped', 0, false);
    return ours;
  }

  // ---- what the speaker did (docs/architecture.md "Speaker events") --------------------------

  /**
   * The speaker moved on by itself to `item` (a gapless change). Dropped when a newer command is
   * still on its way to the speaker or the speaker has moved on since: it describes the past.
   */
  speakerTrackStarted(item: PlayableItem): Effect {
    const snap = this.speaker();
    if (!snap.settled || snap.current?.queueItemId !== item.queueItemId) return null;
    this.#previousAnswer.forget();
    return this.#playsNow(item, () => this.setClock('playing', 0, false));
  }

  /**
   * Another MPD client moved the speaker back to `item`, the previous one we gave it (§9.4); the
   * caller has sent 24 PREVIOUS when `answerAwaited`. Taken like a track change: what plays is
   * reported, and the 41 answering the PREVIOUS is then taken as it plays (see load).
   */
  speakerMovedBack(item: PlayableItem, answerAwaited: boolean): Effect {
    if (answerAwaited) this.#previousAnswer.await(this.resolve(item), this.#o.now());
    else this.#previousAnswer.forget();
    return this.#playsNow(item, () => this.#clockFromSpeaker());
  }

  /** The current item ended with nothing after it: report STOPPED (§5.8). */
  speakerQueueEnded(): void {
    const snap = this.speaker();
    if (!snap.settled || snap.current !== null) return;
    this.#next = null;
    this.setClock('stopped', 0, false);
    this.#o.report();
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
      this.#o.report();
  }

  /** Volume or mute changed at the speaker: tell Qobuz (25 / 29 are built by the caller). */
  speakerVolume(
    volumePercent: number,
    muted: boolean,
  ): { readonly volume: boolean; readonly muted: boolean } {
    return this.#volume.speaker(volumePercent, muted);
  }

  /**
   * The speaker's format or its bit-perfectness changed (issue #23). True when the output format of
   * the current item is new, so Qobuz hears it (26) once per item and format, not on every volume
   * step that changes only bit_perfect.
   */
  speakerFormat(f: PlayedFormat, reporting: boolean): boolean {
    this.#info.format(f);
    this.#o.publish();
    if (!reporting) return false;
    const key = `${this.#current?.queueItemId ?? ''}:${f.sampleRateHz}:${f.bitDepth}:${f.channels}`;
    if (key === this.#reportedFormat) return false;
    this.#reportedFormat = key;
    return true;
  }

  /** Whether a failure report about `item` is about what we play now (not a command ago). */
  failureIsCurrent(item: PlayableItem): boolean {
    const snap = this.speaker();
    if (!snap.settled) return false;
    return item.queueItemId === this.#current?.queueItemId || item.queueItemId === this.#next?.queueItemId;
  }

  /**
   * MPD went away or came back: stopped while away, keeping the position for the resume. The
   * first answer brings volume and mute as the speaker has them, before anything is published.
   */
  speakerAvailability(available: boolean): void {
    if (available && !this.#speakerKnown) {
      this.#speakerKnown = true;
      this.#volume.adopt(this.speaker());
    }
    if (!available && this.#clock.status !== 'stopped') this.setClock('stopped', this.positionNow(), false);
  }

  // ---- private -----------------------------------------------------------------------------

  /** The speaker changed track by itself to `item`: what surrounds it follows, and it is reported. */
  #playsNow(item: PlayableItem, clock: () => void): Effect {
    this.#current = this.resolve(item);
    this.#next = this.nextAfter(this.#current);
    this.#previous = this.previousBefore(this.#current);
    clock();
    this.#fetchTrackInfo(this.#current);
    this.#o.report();
    return this.syncNeighbours();
  }

  /** Playing where the speaker is now. */
  #clockFromSpeaker(): void {
    const snap = this.speaker();
    this.#clock = clockAt('playing', positionAt(snap, this.#o.now()), this.#o.now(), snap.buffering);
  }

  /** Tells the speaker the current item's neighbours as the session has them (it skips what it holds). */
  syncNeighbours(): Effect {
    return both(this.#o.player.setNext(this.#next), this.#o.player.setPrevious(this.#previous));
  }

  #setPrevious(previous: PlayableItem | null): Effect {
    if (
      previous?.queueItemId === this.#previous?.queueItemId &&
      previous?.trackId === this.#previous?.trackId
    )
      return null;
    this.#previous = previous;
    return this.#current ? this.#o.player.setPrevious(previous) : null;
  }

  /** Track metadata for MQTT, once per track change; a late answer for another track is dropped. */
  #fetchTrackInfo(item: PlayableItem): void {
    this.#info.fetch(
      item,
      () => this.#current?.trackId === item.trackId,
      () => this.#o.publish(),
    );
  }
}

function both(a: Effect, b: Effect): Effect {
  return a && b ? Promise.all([a, b]).then(() => undefined) : (a ?? b);
}
