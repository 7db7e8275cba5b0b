import type { PlayableItem } from '../../core/player.js';
import type { RepeatMode } from '../../core/player-view.js';
import { clockAt } from '../../core/position-clock.js';
import type { AutoplayChange, QueueDelta, QueueVersion } from '../../core/queue-mirror.js';
import { qconnect } from '../../protocol/generated/qconnect.js';
import type { MessageBodiesByName, MessageName } from '../../protocol/message-types.js';
import {
  askForQueueState,
  askForRendererState,
  maxAudioQualityChanged,
  setActiveRenderer,
  stateUpdated,
  volumeChanged,
  volumeMuted,
} from '../../protocol/renderer-messages.js';
import { autoplayEvent, queueDeltaEvent, type QueueEvent } from '../queue/queue-events.js';
import { jumpKey } from '../verbs/queue-commands.js';
import { bothEffects, keepEarlySetState, takeEarlySetState } from './early-set-state.js';
import { onServiceError } from '../service-errors.js';
import { requestExternalVolume } from '../verbs/volume-commands.js';
import type { Effect, SessionCore } from '../session-core.js';

/**
 * One small handler per incoming Qobuz message, keyed by the message's name in proto/
 * (docs/architecture.md "Where each input is handled"; docs/protocol.md §4-§6). A handler reads
 * the decoded body, decides, and calls the session's intents; what the speaker has to do comes
 * back as an Effect the loop does not wait for. Messages without a handler are logged at debug.
 */

export type HandlerTable = {
  [N in MessageName]?: (core: SessionCore, body: MessageBodiesByName[N]) => Effect;
};

const version = (v: qconnect.QueueVersion.$Properties | null | undefined): QueueVersion | null =>
  v ? { major: v.major ?? 0, minor: v.minor ?? 0 } : null;
const zero: QueueVersion = { major: 0, minor: 0 };

/** queue_item_id 0 is valid and absent on the wire (docs/protocol.md §4). */
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
  Error: onServiceError,
  SrvrRndrSetState: onSetState,
  SrvrRndrSetVolume: (core, b) => {
    if (core.playback.volumeFixed) return refuseFixedVolume(core, 'set_volume');
    // README "Volume modes", `external`: no 25 until the amplifier reports its level (volume-commands.ts).
    if (core.playback.external) return requestExternalVolume(core, { volume: b.volume, delta: b.volume_delta }, 'qobuz');
    // Zeros are left off the wire (docs/protocol.md §8): a 42 with neither field is volume 0.
    const target = b.volume ?? (b.volume_delta ? core.playback.volume + b.volume_delta : 0);
    const effect = core.playback.setVolume(target);
    core.send([volumeChanged(core.playback.volume)]);
    core.event('set_volume', { volume: core.playback.volume, delta: b.volume_delta ?? null });
    return effect;
  },
  SrvrRndrSetActive: (core, b) => {
    const active = b.active === true;
    core.event('set_active', { active });
    if (!active) return core.activation.deactivate();
    const { took, effect } = core.activation.activate();
    // §5.4: mute, volume, max quality, then the state at the position taken over; and the queue.
    if (took) {
      core.send([
        volumeMuted(core.playback.muted),
        volumeChanged(core.playback.volume),
        maxAudioQualityChanged(core.playback.effectiveMaxQuality),
        stateUpdated(core.rendererReport()),
        askForQueueState(core.queue.version),
      ]);
    }
    // A 41 that came before this 43 (early-set-state.ts) says what the pick plays.
    const early = took ? takeEarlySetState(core) : null;
    return early ? bothEffects(effect, onSetState(core, early)) : effect;
  },
  SrvrRndrSetMaxAudioQuality: (core, b) => {
    const effect = core.playback.setSessionMaxQuality(b.max_audio_quality ?? core.playback.sessionMaxQuality);
    core.send([maxAudioQualityChanged(core.playback.effectiveMaxQuality)]);
    core.event('set_max_audio_quality', { max_audio_quality: core.playback.sessionMaxQuality });
    return effect;
  },
  SrvrRndrSetLoopMode: (core, b) => {
    const effect = core.queueUpdates.setRepeat(LOOP[b.loop_mode ?? 0] ?? 'off');
    core.event('set_loop_mode', { repeat: core.queue.repeat });
    return effect;
  },
  SrvrRndrSetShuffleMode: (core, b) => {
    core.event('set_shuffle_mode', { shuffle: b.shuffle_mode === true });
    // The order comes from the service (§5.9): ask for it rather than shuffling locally.
    if ((b.shuffle_mode === true) !== core.queue.shuffle) core.send([askForQueueState(core.queue.version)]);
    return null;
  },
  SrvrRndrMuteVolume: (core, b) => {
    if (core.playback.volumeFixed || core.playback.external) return refuseFixedVolume(core, 'set_mute');
    const effect = core.playback.setMuted(b.value === true);
    core.send([volumeMuted(core.playback.muted)]);
    core.event('set_mute', { muted: core.playback.muted });
    return effect;
  },
  SrvrCtrlSessionState: (core, b) => {
    core.noteSessionState(
      b.active_renderer_id ?? -1,
      version(b.queue_version),
      b.loop_mode ? (LOOP[b.loop_mode] ?? 'off') : null,
      uuidText(b.session_uuid),
    );
    return null;
  },
  SrvrCtrlRendererStateUpdated: (core, b) => {
    const s = b.player_state;
    if (!s) return null;
    const itemId = s.current_queue_item_id ?? 0;
    const item =
      core.queue.find(itemId) ??
      (s.current_queue_item_id === -1 ? null : { queueItemId: itemId, trackId: 0 });
    const atMs = s.current_position?.timestamp ? Number(s.current_position.timestamp.toString()) : core.now();
    const playing = s.playing_state === qconnect.PlayingState.PLAYING;
    // A play_item is applied once the active renderer (we too: our report echoed) plays it (docs/protocol.md §8).
    const rendererId = b.renderer_id ?? 0;
    if (rendererId >= 0 && rendererId === core.activeRendererId && s.current_queue_item_id !== -1)
      core.verbs.answered(jumpKey(itemId));
    core.notePeer(rendererId, {
      item,
      clock: clockAt(playing ? 'playing' : 'paused', s.current_position?.value ?? 0, atMs),
      durationMs: s.duration ?? null,
    });
    return null;
  },
  SrvrCtrlAddRenderer: (core, b) => {
    const uuid = b.device_info?.device_uuid;
    if (!uuid || Buffer.compare(Buffer.from(uuid), Buffer.from(core.device.uuid)) !== 0) return null;
    const rendererId = b.renderer_id ?? 0;
    core.joinedAs(rendererId);
    // Ask for the queue and where the active renderer is before taking over (§5.2-§5.3).
    const ask = [askForQueueState(core.queue.version), askForRendererState(core.activeRendererId)];
    core.send(core.activation.wantsActive ? [...ask, setActiveRenderer(rendererId)] : ask);
    return null;
  },
  SrvrCtrlRemoveRenderer: (core, b) => {
    core.removePeer(b.renderer_id ?? 0);
    return null;
  },
  SrvrCtrlActiveRendererChanged: (core, b) => core.activeRendererChanged(b.active_renderer_id ?? -1),
  SrvrCtrlQueueErrorMessage: (core, b) => {
    core.log.info({ error: b.error }, 'queue error: resyncing the queue');
    core.verbs.refused(b.action_uuid, b.error ?? 'queue error');
    core.send([askForQueueState(null)]);
    return null;
  },
  SrvrCtrlQueueCleared: delta(() => ({ kind: 'cleared' })),
  SrvrCtrlQueueState: (core, b) => {
    const effect = core.queueUpdates.applySnapshot({
      version: version(b.queue_version) ?? zero,
      items: (b.tracks ?? []).map(itemOf),
      shuffle: b.shuffle_mode === true,
      shuffledIndexes: b.shuffled_track_indexes ?? [],
      autoplayOn: b.autoplay_mode === true,
      autoplay: (b.autoplay_tracks ?? []).map(itemOf),
    });
    // The 76 it answers, echoed or not (queue-state-answers.ts; README "Own Qobuz identity": transfer).
    core.verbs.answered(b.action_uuid, true);
    // The whole queue read again (our 76, or a resync): no edit, so none of the issue #14 events.
    core.event('queue_updated', {
      version: core.queue.version,
      length: core.queue.items.length,
      shuffle: core.queue.shuffle,
      autoplay: core.queue.autoplayOn,
    });
    return effect;
  },
  // Queue deltas (docs/protocol.md §6): each names the new version and the action uuid that caused it.
  SrvrCtrlQueueTracksLoaded: delta((b) => ({
    kind: 'loaded',
    items: (b.tracks ?? []).map(itemOf),
    shuffle: b.shuffle_mode ?? null,
    autoplayReset: b.autoplay_reset === true,
  })),
  SrvrCtrlQueueTracksInserted: delta((b) => ({
    kind: 'inserted',
    items: (b.tracks ?? []).map(itemOf),
    afterQueueItemId: b.insert_after ?? 0,
  })),
  SrvrCtrlQueueTracksAdded: delta((b) => ({ kind: 'added', items: (b.tracks ?? []).map(itemOf) })),
  SrvrCtrlQueueTracksRemoved: delta((b) => ({ kind: 'removed', queueItemIds: b.queue_item_ids ?? [] })),
  SrvrCtrlQueueTracksReordered: delta((b) => ({
    kind: 'reordered',
    queueItemIds: b.queue_item_ids ?? [],
    afterQueueItemId: b.insert_after ?? 0,
  })),
  SrvrCtrlShuffleModeSet: delta((b) => ({ kind: 'shuffle', shuffle: b.shuffle_mode === true })),
  SrvrCtrlLoopModeSet: (core, b) => core.queueUpdates.setRepeat(LOOP[b.loop_mode ?? 0] ?? 'off'),
  // Autoplay (docs/protocol.md §6): suggestions that follow the queue's end; 105 moves played ones into the queue.
  SrvrCtrlAutoplayModeSet: (core, b) =>
    onAutoplay(core, version(b.queue_version), {
      kind: 'mode',
      on: b.autoplay_mode === true,
      reset: b.autoplay_reset === true,
    }),
  SrvrCtrlAutoplayTracksLoaded: (core, b) =>
    onAutoplay(core, version(b.queue_version), { kind: 'loaded', items: (b.tracks ?? []).map(itemOf) }),
  SrvrCtrlAutoplayTracksRemoved: (core, b) =>
    onAutoplay(core, version(b.queue_version), { kind: 'removed', queueItemIds: b.queue_item_ids ?? [] }),
  SrvrCtrlQueueTracksAddedFromAutoplay: delta((b) => ({
    kind: 'fromAutoplay',
    queueItemIds: b.queue_item_ids ?? [],
  })),
};

/** A 16-byte session uuid as the app spells it (8-4-4-4-12, lower case); null when absent or not 16 bytes. */
function uuidText(bytes: Uint8Array | null | undefined): string | null {
  if (!bytes || bytes.length !== 16) return null;
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

type DeltaBody = {
  queue_version?: qconnect.QueueVersion.$Properties | null;
  action_uuid?: Uint8Array | null;
};
type Unversioned<D> = D extends QueueDelta ? Omit<D, 'version'> : never;

/** A handler for one queue delta message: `build` reads what changed, the version and action uuid are common. */
function delta<B extends DeltaBody>(
  build: (b: B) => Unversioned<QueueDelta>,
): (core: SessionCore, b: B) => Effect {
  return (core, b) =>
    onDelta(core, { ...build(b), version: version(b.queue_version) ?? zero } as QueueDelta, b.action_uuid);
}

function onDelta(core: SessionCore, delta: QueueDelta, actionUuid?: Uint8Array | null): Effect {
  // Described before it is applied: a removal must still find the tracks it removes (issue #14).
  const event = queueDeltaEvent(core, delta);
  const { result, effect } = core.queueUpdates.applyDelta(delta);
  const ours = core.verbs.answered(actionUuid);
  if (result === 'stale') return null;
  // A gap or a shuffled order we cannot know: the full state is one message away (§6).
  if (result === 'resync') core.send([askForQueueState(core.queue.version)]);
  emitQueueEvent(core, event, ours);
  return effect;
}

function onAutoplay(core: SessionCore, v: QueueVersion | null, change: AutoplayChange): Effect {
  if (v) core.queueUpdates.noteVersion(v);
  const event = autoplayEvent(core, change);
  const effect = core.queueUpdates.applyAutoplay(change);
  emitQueueEvent(core, event, false);
  return effect;
}

/** README "MQTT topics": every queue event also says the queue's length after it, and whether our own command caused it. */
function emitQueueEvent(core: SessionCore, e: QueueEvent, fromMqtt: boolean): void {
  const autoplay =
    e.type === 'autoplay_changed'
      ? { autoplay: core.queue.autoplayOn, autoplayLength: core.queue.autoplay.length }
      : {};
  core.event(e.type, { ...e.fields, length: core.queue.items.length, ...autoplay, fromMqtt });
}

/** §5.6: a delta; apply what is present and answer at once, before any slow work. */
function onSetState(core: SessionCore, b: qconnect.SrvrRndrSetState): Effect {
  const v = version(b.queue_version);
  if (v) core.queueUpdates.noteVersion(v);
  const state = b.playing_state ?? 0;
  const hasState = state !== qconnect.PlayingState.PLAYING_STATE_UNKNOWN;
  const hasPosition = b.current_position !== null && b.current_position !== undefined;
  const hint = b.next_track ? core.playback.resolve(itemOf(b.next_track)) : null;
  // §8 "Zero values": a seek to 0 loses its only field on the wire, so a 41 with nothing at all is that seek.
  const seekToZero = !v && !b.next_track && !b.current_track && !hasPosition && !hasState;
  if (seekToZero) {
    core.event('set_state', { playing_state: null, position_ms: 0, queue_item_id: null });
    return core.active && core.playback.current ? core.playback.seek(0) : null;
  }
  if (!b.current_track && !hasPosition && !hasState) {
    // Information only (version / next track): update, never answer (§5.6 feedback loop).
    return hint && core.playback.current ? core.playback.setNext(hint) : null;
  }
  core.event('set_state', {
    playing_state: hasState ? qconnect.PlayingState[state] : null,
    position_ms: hasPosition ? b.current_position : null,
    queue_item_id: b.current_track ? (b.current_track.queue_item_id ?? 0) : null,
  });
  // After stepping aside for another MPD client, a play from the app takes the speaker back (issue #16).
  const plays = b.current_track
    ? (b.current_track.queue_item_id ?? 0) >= 0 && state !== qconnect.PlayingState.STOPPED
    : state === qconnect.PlayingState.PLAYING;
  if (!core.active && !(plays && core.activation.resumeAfterStepAside())) {
    keepEarlySetState(core, b);
    return null;
  }
  if (b.current_track) {
    const target = itemOf(b.current_track);
    if (target.queueItemId < 0 || state === qconnect.PlayingState.STOPPED) return core.playback.stop();
    const item = core.playback.resolve(target);
    // A play that a pause or stop from MQTT superseded while the service was answering it stays paused.
    const play = state !== qconnect.PlayingState.PAUSED && !core.verbs.heldPlay(jumpKey(target.queueItemId));
    return core.playback.load(item, b.current_position ?? 0, play, {
      next: hint ?? core.playback.nextAfter(item),
    });
  }
  if (hasPosition) {
    const status =
      state === qconnect.PlayingState.PAUSED
        ? 'paused'
        : state === qconnect.PlayingState.PLAYING
          ? 'playing'
          : undefined;
    if (state === qconnect.PlayingState.STOPPED) return core.playback.stop();
    // A seek never cancels a track change on its way: the speaker applies it after the load.
    return core.playback.seek(b.current_position ?? 0, status);
  }
  if (state === qconnect.PlayingState.STOPPED) return core.playback.stop();
  const playing = state === qconnect.PlayingState.PLAYING;
  if (!core.playback.current) return playing ? core.activation.resumeFromPeers() : null;
  return core.playback.setPlaying(playing);
}

/**
 * `players[].volume.mode: fixed` (README "Volume modes"), and a mute with `external`: the app was told volume control is not
 * allowed (docs/protocol.md §5.9); a 42 or 47 that comes anyway changes nothing, and the app hears
 * the volume and mute as they are so its view snaps back.
 */
function refuseFixedVolume(core: SessionCore, type: 'set_volume' | 'set_mute'): Effect {
  core.log.info({ code: 'ERR_VOLUME_FIXED' }, "MPD's volume is not ours on this player: volume command ignored");
  core.send([volumeMuted(core.playback.muted), volumeChanged(core.playback.volume)]);
  core.event(type, { volume: core.playback.volume, muted: core.playback.muted, refused: 'ERR_VOLUME_FIXED' });
  return null;
}
