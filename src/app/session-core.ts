import type { Logger } from 'pino';
import type { PlayableItem, Player } from '../core/player.js';
import type { PlayerView, SessionEvent, StatePublisher, TrackInfo } from '../core/player-view.js';
import { QueueMirror } from '../core/queue-mirror.js';
import type { OutgoingMessage } from '../protocol/frame-writer.js';
import { qconnect } from '../protocol/generated/qconnect.js';
import type { DeviceInfoValue, RendererReport } from '../protocol/renderer-messages.js';
import { stateUpdated } from '../protocol/renderer-messages.js';
import { buildPlayerView } from './player-view-builder.js';

/**
 * The state of one player's Qobuz Connect session and the primitives every handler uses
 * (report, load, publish). Owned by exactly one PlayerSession; every change to it happens on
 * that session's serial queue (STYLE.md principle 4).
 */

export interface SessionCoreOptions {
  readonly playerId: string;
  readonly device: DeviceInfoValue;
  readonly joinMode: 'controller' | 'renderer';
  /** Configured ceiling, AudioQuality level 1-4. */
  readonly maxAudioQuality: number;
  readonly player: Player;
  readonly publisher: StatePublisher | null;
  readonly trackInfo: ((trackId: number) => Promise<TrackInfo | null>) | null;
  /** Items of the current queue (stream tokens of items that left it die: SPEC "HTTP"). */
  readonly onQueueItems: ((items: readonly PlayableItem[]) => void) | null;
  readonly logger: Logger;
  readonly now: () => number;
}

/** What we are doing, as commanded; reports extrapolate from it (§4 Position). */
export interface Intent {
  status: 'playing' | 'paused' | 'stopped';
  positionMs: number;
  atMs: number;
  buffering: boolean;
}

/** The last state another renderer reported (82), to take over from it (§5.5). */
export interface PeerState {
  readonly item: PlayableItem | null;
  readonly positionMs: number;
  readonly atMs: number;
  readonly playing: boolean;
  readonly durationMs: number | null;
}

export class SessionCore {
  readonly o: SessionCoreOptions;
  readonly mirror = new QueueMirror();
  send: (messages: OutgoingMessage[]) => boolean = () => false;
  linkState: 'none' | 'connecting' | 'joined' = 'none';
  rendererId: number | null = null;
  activeRendererId = -1;
  active = false;
  /** Become active as soon as our renderer id is known (a pick, or a rejoin while we were active). */
  wantActive = false;
  playOnActivate = false;
  current: PlayableItem | null = null;
  next: PlayableItem | null = null;
  intent: Intent;
  volume = 50;
  muted = false;
  /** AudioQuality level the app allows (44); the stream asks for min(this, configured). */
  sessionMaxQuality: number;
  track: TrackInfo | null = null;
  readonly peers = new Map<number, PeerState>();
  #infoFor: number | null = null;

  constructor(options: SessionCoreOptions) {
    this.o = options;
    this.sessionMaxQuality = options.maxAudioQuality;
    this.intent = { status: 'stopped', positionMs: 0, atMs: options.now(), buffering: false };
    const snap = options.player.snapshot();
    if (snap.volumePercent !== null) this.volume = snap.volumePercent;
    this.muted = snap.muted;
  }

  get effectiveMaxQuality(): number {
    return Math.min(this.sessionMaxQuality, this.o.maxAudioQuality);
  }

  /** Position now under `i` (default: the current intent), extrapolated while audio flows. */
  positionNow(i: Intent = this.intent): number {
    return i.status === 'playing' && !i.buffering ? i.positionMs + (this.o.now() - i.atMs) : i.positionMs;
  }

  setIntent(status: Intent['status'], positionMs: number, buffering = this.intent.buffering): void {
    this.intent = { status, positionMs: Math.max(0, positionMs), atMs: this.o.now(), buffering };
  }

  /** QueueRendererState as of now (§5.7: last queue version, current and next ids, fresh timestamp). */
  rendererReport(): RendererReport {
    const snap = this.o.player.snapshot();
    const playingState =
      this.intent.status === 'playing'
        ? qconnect.PlayingState.PLAYING
        : this.intent.status === 'paused'
          ? qconnect.PlayingState.PAUSED
          : qconnect.PlayingState.STOPPED;
    const bufferState = !snap.available
      ? qconnect.BufferState.ERROR
      : this.intent.buffering
        ? qconnect.BufferState.BUFFERING
        : qconnect.BufferState.OK;
    return {
      playingState,
      bufferState,
      positionMs: this.positionNow(),
      positionAtMs: this.o.now(),
      durationMs: snap.durationMs ?? this.track?.durationMs ?? null,
      queueVersion: this.mirror.version,
      currentQueueItemId: this.current?.queueItemId ?? -1,
      nextQueueItemId: this.next?.queueItemId ?? -1,
    };
  }

  /** Only the active renderer reports (§5.7). */
  reportState(): void {
    if (this.active) this.send([stateUpdated(this.rendererReport())]);
    this.publishView();
  }

  /** What follows `item` now: the mirror under loop and shuffle (§5.8). */
  nextAfter(item: PlayableItem | null): PlayableItem | null {
    return item ? this.mirror.next(item.queueItemId) : null;
  }

  /**
   * Makes the player play `item` from `positionMs`, with the following item queued for a gapless
   * change. The new state is reported first, before the slow work (§5.6), unless `report` is off
   * because the caller has just sent it itself.
   */
  async load(
    item: PlayableItem,
    positionMs: number,
    play: boolean,
    next = this.nextAfter(item),
    report = true,
  ): Promise<void> {
    this.current = item;
    this.next = next;
    this.setIntent(play ? 'playing' : 'paused', positionMs, true);
    if (report) this.reportState();
    this.fetchTrackInfo(item);
    await this.o.player.load(item, { positionMs, play, next });
  }

  /** Re-computes what follows the current item and tells the player when it changed. */
  async refreshNext(): Promise<void> {
    const next = this.nextAfter(this.current);
    if (next?.queueItemId === this.next?.queueItemId && next?.trackId === this.next?.trackId) return;
    this.next = next;
    if (this.current) await this.o.player.setNext(next);
  }

  queueChanged(): void {
    this.o.onQueueItems?.(this.mirror.items);
    this.publishView();
  }

  /** Looks up title, artist, album and cover once per track change (for MQTT). */
  fetchTrackInfo(item: PlayableItem): void {
    if (this.#infoFor === item.trackId) return;
    this.#infoFor = item.trackId;
    this.track = null;
    const lookup = this.o.trackInfo;
    if (!lookup) return;
    lookup(item.trackId).then(
      (info) => {
        if (this.current?.trackId !== item.trackId) return;
        this.track = info;
        this.publishView();
      },
      (err: unknown) => this.o.logger.warn({ err, trackId: item.trackId }, 'track metadata lookup failed'),
    );
  }

  view(): PlayerView {
    return buildPlayerView(this);
  }

  publishView(): void {
    this.o.publisher?.publishState(this.o.playerId, this.view());
  }

  event(type: SessionEvent['type'], fields: Record<string, unknown> = {}): void {
    this.o.publisher?.publishEvent(this.o.playerId, { type, atMs: this.o.now(), fields });
  }
}
