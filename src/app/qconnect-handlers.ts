import type { PlayableItem } from '../core/player.js';
import type { QueueDelta, QueueVersion } from '../core/queue-mirror.js';
import type { RepeatMode } from '../core/player-view.js';
import type { MessageBodies, MessageType } from '../protocol/message-types.js';
import { qconnect } from '../protocol/generated/qconnect.js';
import {
  askForQueueState,
  askForRendererState,
  maxAudioQualityChanged,
  setActiveRenderer,
  stateUpdated,
  volumeChanged,
  volumeMuted,
} from '../protocol/renderer-messages.js';
import type { PeerState, SessionCore } from './session-core.js';

/**
 * One small handler per incoming message type (STYLE.md principle 6, qconnect-protocol.md §5).
 * Types without a handler are logged at debug and ignored.
 */
export type HandlerTable = { [K in MessageType]?: (core: SessionCore, body: MessageBodies[K]) => Promise<void> | void };

const version = (v: qconnect.QueueVersion.$Properties | null | undefined): QueueVersion | null =>
  v ? { major: v.major ?? 0, minor: v.minor ?? 0 } : null;

/** queue_item_id 0 is valid and absent on the wire (§4). */
const itemOf = (t: { queue_item_id?: number | null; track_id?: number | null }): PlayableItem => ({
  queueItemId: t.queue_item_id ?? 0,
  trackId: t.track_id ?? 0,
});

const LOOP: Record<number, RepeatMode> = {
  [qconnect.LoopMode.OFF]: 'off',
  [qconnect.LoopMode.REPEAT_ONE]: 'one',
  [qconnect.LoopMode.REPEAT_ALL]: 'all',
};

export const HANDLERS: HandlerTable = {
  1: (core, b) => core.o.logger.warn({ code: b.code, message: b.message }, 'service reported an error'),
  41: onSetState,
  42: async (core, b) => {
    const target = b.volume ?? core.volume + (b.volume_delta ?? 0);
    core.volume = Math.max(0, Math.min(100, Math.round(target)));
    core.send([volumeChanged(core.volume)]);
    core.event('set_volume', { volume: core.volume, delta: b.volume_delta ?? null });
    core.publishView();
    await core.o.player.setVolume(core.volume);
  },
  43: onSetActive,
  44: async (core, b) => {
    core.sessionMaxQuality = b.max_audio_quality ?? core.o.maxAudioQuality;
    core.send([maxAudioQualityChanged(core.effectiveMaxQuality)]);
    core.event('set_max_audio_quality', { max_audio_quality: core.sessionMaxQuality });
    // The new format applies from the next stream request: reload where we are (§5.9).
    if (core.current && core.intent.status !== 'stopped') {
      await core.load(core.current, core.positionNow(), core.intent.status === 'playing', core.next, false);
    }
  },
  45: async (core, b) => {
    core.mirror.setRepeat(LOOP[b.loop_mode ?? 0] ?? 'off');
    core.event('set_loop_mode', { repeat: core.mirror.repeat });
    await core.refreshNext();
    core.publishView();
  },
  46: (core, b) => {
    core.event('set_shuffle_mode', { shuffle: b.shuffle_mode === true });
    // The order comes from the service (§5.9): ask for it rather than shuffling locally.
    if ((b.shuffle_mode === true) !== core.mirror.shuffle) core.send([askForQueueState(core.mirror.version)]);
  },
  47: async (core, b) => {
    core.muted = b.value === true;
    core.send([volumeMuted(core.muted)]);
    core.event('set_mute', { muted: core.muted });
    core.publishView();
    await core.o.player.setMuted(core.muted);
  },
  81: (core, b) => {
    core.activeRendererId = b.active_renderer_id ?? -1;
    const v = version(b.queue_version);
    if (v) core.mirror.noteVersion(v);
    if (b.loop_mode) core.mirror.setRepeat(LOOP[b.loop_mode] ?? 'off');
  },
  82: (core, b) => {
    const id = b.renderer_id ?? 0;
    if (id === core.rendererId) return; // our own report echoed (§5.10)
    const s = b.player_state;
    if (!s) return;
    const itemId = s.current_queue_item_id ?? 0;
    const item = core.mirror.find(itemId) ?? (s.current_queue_item_id === -1 ? null : { queueItemId: itemId, trackId: 0 });
    core.peers.set(id, {
      item,
      positionMs: s.current_position?.value ?? 0,
      atMs: s.current_position?.timestamp ? Number(s.current_position.timestamp.toString()) : core.o.now(),
      playing: s.playing_state === qconnect.PlayingState.PLAYING,
      durationMs: s.duration ?? null,
    });
  },
  83: (core, b) => {
    const uuid = b.device_info?.device_uuid;
    if (!uuid || Buffer.compare(Buffer.from(uuid), Buffer.from(core.o.device.uuid)) !== 0) return;
    core.rendererId = b.renderer_id ?? 0;
    core.linkState = 'joined';
    core.event('session_connected', { renderer_id: core.rendererId });
    // Ask for the queue and where the active renderer is before taking over (§5.2-§5.3).
    const ask = [askForQueueState(core.mirror.version), askForRendererState(core.activeRendererId)];
    core.send(core.wantActive ? [...ask, setActiveRenderer(core.rendererId)] : ask);
    core.publishView();
  },
  86: (core, b) => {
    core.activeRendererId = b.active_renderer_id ?? -1;
    if (core.active && core.activeRendererId !== core.rendererId) return deactivate(core);
  },
  88: (core, b) => {
    core.o.logger.info({ error: b.error }, 'queue error: resyncing the queue');
    core.send([askForQueueState(null)]);
  },
  89: (core, b) => onDelta(core, { kind: 'cleared', version: version(b.queue_version) ?? zero }),
  90: async (core, b) => {
    core.mirror.applySnapshot({
      version: version(b.queue_version) ?? zero,
      items: (b.tracks ?? []).map(itemOf),
      shuffle: b.shuffle_mode === true,
      shuffledIndexes: b.shuffled_track_indexes ?? [],
    });
    if (core.current) core.current = core.mirror.find(core.current.queueItemId) ?? core.current;
    core.queueChanged();
    core.event('queue_updated', { version: core.mirror.version, length: core.mirror.items.length });
    await core.refreshNext();
  },
  91: (core, b) =>
    onDelta(core, { kind: 'loaded', version: version(b.queue_version) ?? zero, items: (b.tracks ?? []).map(itemOf), shuffle: b.shuffle_mode ?? null }),
  92: (core, b) =>
    onDelta(core, { kind: 'inserted', version: version(b.queue_version) ?? zero, items: (b.tracks ?? []).map(itemOf), afterQueueItemId: b.insert_after ?? 0 }),
  93: (core, b) => onDelta(core, { kind: 'added', version: version(b.queue_version) ?? zero, items: (b.tracks ?? []).map(itemOf) }),
  94: (core, b) => onDelta(core, { kind: 'removed', version: version(b.queue_version) ?? zero, queueItemIds: b.queue_item_ids ?? [] }),
  95: (core, b) =>
    onDelta(core, { kind: 'reordered', version: version(b.queue_version) ?? zero, queueItemIds: b.queue_item_ids ?? [], afterQueueItemId: b.insert_after ?? 0 }),
  96: (core, b) => onDelta(core, { kind: 'shuffle', version: version(b.queue_version) ?? zero, shuffle: b.shuffle_mode === true }),
  97: async (core, b) => {
    core.mirror.setRepeat(LOOP[b.loop_mode ?? 0] ?? 'off');
    await core.refreshNext();
    core.publishView();
  },
  105: (core) => void core.send([askForQueueState(core.mirror.version)]),
};

const zero: QueueVersion = { major: 0, minor: 0 };

async function onDelta(core: SessionCore, delta: QueueDelta): Promise<void> {
  const result = core.mirror.applyDelta(delta);
  if (result === 'stale') return;
  // A gap or a shuffled order we cannot know: the full state is one message away (§6).
  if (result === 'resync') core.send([askForQueueState(core.mirror.version)]);
  core.queueChanged();
  core.event('queue_updated', { change: delta.kind, version: delta.version, length: core.mirror.items.length });
  await core.refreshNext();
}

/** §5.6: a delta; apply what is present and answer at once, before any slow work. */
async function onSetState(core: SessionCore, b: qconnect.SrvrRndrSetState): Promise<void> {
  const v = version(b.queue_version);
  if (v) core.mirror.noteVersion(v);
  const state = b.playing_state ?? 0;
  const hasState = state !== qconnect.PlayingState.PLAYING_STATE_UNKNOWN;
  const hasPosition = b.current_position !== null && b.current_position !== undefined;
  const hint = b.next_track ? core.mirror.find(b.next_track.queue_item_id ?? 0) ?? itemOf(b.next_track) : null;
  if (!b.current_track && !hasPosition && !hasState) {
    // Information only (version / next track): update, never answer (§5.6 feedback loop).
    if (hint && core.current && hint.queueItemId !== core.next?.queueItemId) {
      core.next = hint;
      await core.o.player.setNext(hint);
    }
    return;
  }
  core.event('set_state', {
    playing_state: hasState ? qconnect.PlayingState[state] : null,
    position_ms: hasPosition ? b.current_position : null,
    queue_item_id: b.current_track ? (b.current_track.queue_item_id ?? 0) : null,
  });
  if (!core.active) return;
  if (b.current_track) {
    const target = itemOf(b.current_track);
    if (target.queueItemId < 0) return stopPlayback(core);
    if (state === qconnect.PlayingState.STOPPED) return stopPlayback(core);
    const item = core.mirror.find(target.queueItemId) ?? target;
    const play = state !== qconnect.PlayingState.PAUSED;
    await core.load(item, b.current_position ?? 0, play, hint ?? core.nextAfter(item));
    return;
  }
  if (hasPosition) {
    const status = state === qconnect.PlayingState.PAUSED ? 'paused' : state === qconnect.PlayingState.PLAYING ? 'playing' : core.intent.status;
    core.setIntent(status === 'stopped' ? 'paused' : status, b.current_position ?? 0);
    core.reportState();
    await core.o.player.seek(b.current_position ?? 0);
    if (hasState) await applyPlayingState(core, state);
    return;
  }
  await applyPlayingState(core, state, true);
}

async function applyPlayingState(core: SessionCore, state: number, report = false): Promise<void> {
  if (state === qconnect.PlayingState.STOPPED) return stopPlayback(core);
  const playing = state === qconnect.PlayingState.PLAYING;
  if (!core.current) {
    if (playing) await resumeFromPeers(core);
    return;
  }
  core.setIntent(playing ? 'playing' : 'paused', core.positionNow());
  if (report) core.reportState();
  if (playing) await core.o.player.play();
  else await core.o.player.pause();
}

async function stopPlayback(core: SessionCore): Promise<void> {
  core.setIntent('stopped', 0, false);
  core.reportState();
  await core.o.player.stopPlayback();
}

/** §5.3-§5.5: on 43 true report mute, volume, max quality, then state, and take over. */
async function onSetActive(core: SessionCore, b: qconnect.SrvrRndrSetActive): Promise<void> {
  const active = b.active === true;
  core.event('set_active', { active });
  if (!active) return deactivate(core);
  if (core.active) return;
  core.active = true;
  core.wantActive = false;
  const peer = takeoverState(core);
  const snap = core.o.player.snapshot();
  // Re-activated after our own link dropped: the speaker is still on our item, leave it be.
  const stillOurs =
    !peer && core.current !== null && snap.current?.queueItemId === core.current.queueItemId && snap.status !== 'stopped';
  if (peer?.item) {
    core.current = core.mirror.find(peer.item.queueItemId) ?? peer.item;
    core.next = core.nextAfter(core.current);
    const position = peer.playing ? peer.positionMs + (core.o.now() - peer.atMs) : peer.positionMs;
    core.setIntent(peer.playing || core.playOnActivate ? 'playing' : 'paused', position, true);
  } else if (stillOurs && core.playOnActivate) {
    core.setIntent('playing', core.positionNow());
  }
  core.send([
    volumeMuted(core.muted),
    volumeChanged(core.volume),
    maxAudioQualityChanged(core.effectiveMaxQuality),
    stateUpdated(core.rendererReport()),
    askForQueueState(core.mirror.version),
  ]);
  core.publishView();
  const resume = core.playOnActivate || core.intent.status === 'playing';
  core.playOnActivate = false;
  if (stillOurs) {
    if (resume && snap.status === 'paused') await core.o.player.play();
    return;
  }
  // The activation batch above already carried the state report.
  if (core.current && core.current.trackId !== 0) {
    await core.load(core.current, core.positionNow(), resume, core.nextAfter(core.current), false);
  }
}

/** Where the renderer we take over from was (§5.5): the active one's last 82, or the saved session position (-1). */
function takeoverState(core: SessionCore): PeerState | null {
  if (core.activeRendererId !== core.rendererId) {
    const fromActive = core.peers.get(core.activeRendererId);
    if (fromActive?.item) return fromActive;
  }
  const saved = core.peers.get(-1);
  return saved?.item ? saved : null;
}

async function resumeFromPeers(core: SessionCore): Promise<void> {
  const peer = takeoverState(core);
  if (!peer?.item) return;
  await core.load(core.mirror.find(peer.item.queueItemId) ?? peer.item, peer.positionMs, true);
}

/** §5.11: stop or pause, report nothing more, keep the link so the app can pick us again. */
async function deactivate(core: SessionCore): Promise<void> {
  if (!core.active) return;
  core.active = false;
  if (core.intent.status === 'playing') core.setIntent('paused', core.positionNow(), false);
  core.publishView();
  await core.o.player.pause();
}
