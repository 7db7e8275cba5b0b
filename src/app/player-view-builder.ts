import type { PlayerView } from '../core/player-view.js';
import type { SessionCore } from './session-core.js';

/** The outward view of one player (MQTT state, /healthz) from its session state. */
export function buildPlayerView(core: SessionCore): PlayerView {
  const snap = core.o.player.snapshot();
  const hasQueue = core.current !== null;
  return {
    state: !hasQueue && core.intent.status === 'stopped' ? 'idle' : core.intent.status,
    qobuzSession: core.active ? 'active' : core.linkState === 'joined' ? 'connected' : 'disconnected',
    volume: core.volume,
    muted: core.muted,
    positionMs: Math.round(core.positionNow()),
    positionAtMs: core.o.now(),
    durationMs: snap.durationMs ?? core.track?.durationMs ?? null,
    shuffle: core.mirror.shuffle,
    repeat: core.mirror.repeat,
    track: core.track,
    queue: {
      length: core.mirror.items.length,
      index: core.current ? core.mirror.indexInPlayOrder(core.current.queueItemId) : null,
    },
    controller: null,
    available: snap.available,
  };
}
