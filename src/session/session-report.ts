import type { PlayableItem, PlayerSnapshot } from '../core/player.js';
import type { PlayerView, TrackInfo } from '../core/player-view.js';
import { positionAt, type PositionClock } from '../core/position-clock.js';
import type { QueueView } from './queue/session-queue.js';
import { qconnect } from '../protocol/generated/qconnect.js';
import type { RendererReport } from '../protocol/renderer-messages.js';

/**
 * The two outward pictures of one session, derived in one place from the same facts
 * (docs/architecture.md "One owner per player"): the state report Qobuz gets (23) and the
 * view MQTT and /healthz get. Pure: the session passes what it owns and the speaker's snapshot.
 */

export interface SessionFacts {
  readonly clock: PositionClock;
  readonly current: PlayableItem | null;
  readonly next: PlayableItem | null;
  readonly queue: QueueView;
  readonly track: TrackInfo | null;
  readonly volume: number;
  readonly muted: boolean;
  readonly active: boolean;
  readonly linkState: 'none' | 'connecting' | 'joined';
  /** The last link ended because its token expired, and no new connect came since. */
  readonly expired: boolean;
}

const PLAYING_STATE = {
  playing: qconnect.PlayingState.PLAYING,
  paused: qconnect.PlayingState.PAUSED,
  stopped: qconnect.PlayingState.STOPPED,
} as const;

/** QueueRendererState as of `nowMs` (docs/protocol.md §5.7: last queue version, current and next ids, fresh timestamp). */
export function rendererReport(f: SessionFacts, snap: PlayerSnapshot, nowMs: number): RendererReport {
  const bufferState = !snap.available
    ? qconnect.BufferState.ERROR
    : f.clock.buffering
      ? qconnect.BufferState.BUFFERING
      : qconnect.BufferState.OK;
  return {
    playingState: PLAYING_STATE[f.clock.status],
    bufferState,
    positionMs: positionAt(f.clock, nowMs),
    positionAtMs: nowMs,
    durationMs: snap.durationMs ?? f.track?.durationMs ?? null,
    queueVersion: f.queue.version,
    currentQueueItemId: f.current?.queueItemId ?? -1,
    nextQueueItemId: f.next?.queueItemId ?? -1,
  };
}

/** The outward view of one player (MQTT state, /healthz). */
export function playerView(f: SessionFacts, snap: PlayerSnapshot, nowMs: number): PlayerView {
  return {
    // Another MPD client plays its own music (issue #16): nothing of Qobuz plays.
    state:
      snap.source === 'other' || (f.current === null && f.clock.status === 'stopped')
        ? 'idle'
        : f.clock.status,
    qobuzSession: f.active
      ? 'active'
      : f.linkState === 'joined'
        ? 'connected'
        : f.expired
          ? 'expired'
          : 'disconnected',
    volume: f.volume,
    muted: f.muted,
    positionMs: Math.round(positionAt(f.clock, nowMs)),
    positionAtMs: nowMs,
    durationMs: snap.durationMs ?? f.track?.durationMs ?? null,
    shuffle: f.queue.shuffle,
    repeat: f.queue.repeat,
    track: f.track,
    format: f.current && snap.source !== 'other' ? snap.format : null,
    queue: {
      length: f.queue.items.length,
      index: f.current ? f.queue.indexInPlayOrder(f.current.queueItemId) : null,
    },
    available: snap.available,
    source: snap.source ?? 'qobuz',
  };
}
