import type { QueueDelta } from '../../core/queue-mirror.js';
import { clockAt } from '../../core/position-clock.js';
import { qconnect } from '../../protocol/generated/qconnect.js';
import type { MessageBodiesByName, MessageName } from '../../protocol/message-types.js';
import { queueIntents } from '../intents/queue-intents.js';
import { sessionIntents } from '../intents/session-intents.js';
import { transportIntents } from '../intents/transport-intents.js';
import { volumeIntents } from '../intents/volume-intents.js';
import { itemOf, jumpKey, LOOP, versionOf as version, ZERO_VERSION as zero } from '../intents/wire-values.js';
import { NOTHING, work, type Outcome } from '../outcome.js';
import { onServiceError } from '../service-errors.js';
import type { SessionCore } from '../session-core.js';

/**
 * One small handler per incoming Qobuz message, keyed by the message's name in proto/
 * (docs/architecture.md "Where each input is handled"; docs/protocol.md §4-§6). A handler reads
 * the decoded body and hands it to one intent (src/session/intents/), whose Outcome (what Qobuz
 * hears, what the speaker must do) it returns; it sends nothing itself. Messages without a handler
 * are logged at debug.
 */

export type HandlerTable = {
  [N in MessageName]?: (core: SessionCore, body: MessageBodiesByName[N]) => Outcome;
};

export const HANDLERS: HandlerTable = {
  Error: (core, b) => work(onServiceError(core, b)),
  SrvrRndrSetState: (core, b) => transportIntents.setState(core, b),
  SrvrRndrSetVolume: (core, b) => volumeIntents.fromQobuz(core, b.volume, b.volume_delta),
  SrvrRndrSetActive: (core, b) => sessionIntents.setActive(core, b.active === true),
  SrvrRndrSetMaxAudioQuality: (core, b) => sessionIntents.setMaxQuality(core, b.max_audio_quality),
  SrvrRndrSetLoopMode: (core, b) => queueIntents.setRepeat(core, LOOP[b.loop_mode ?? 0] ?? 'off', true),
  SrvrRndrSetShuffleMode: (core, b) => sessionIntents.setShuffle(core, b.shuffle_mode === true),
  SrvrRndrMuteVolume: (core, b) => volumeIntents.muteFromQobuz(core, b.value === true),
  SrvrCtrlSessionState: (core, b) => {
    core.noteSessionState(
      b.active_renderer_id ?? -1,
      version(b.queue_version),
      b.loop_mode ? (LOOP[b.loop_mode] ?? 'off') : null,
      uuidText(b.session_uuid),
    );
    return NOTHING;
  },
  SrvrCtrlRendererStateUpdated: (core, b) => {
    const s = b.player_state;
    if (!s) return NOTHING;
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
    return NOTHING;
  },
  SrvrCtrlAddRenderer: (core, b) => {
    const uuid = b.device_info?.device_uuid;
    if (!uuid || Buffer.compare(Buffer.from(uuid), Buffer.from(core.device.uuid)) !== 0) return NOTHING;
    return sessionIntents.joined(core, b.renderer_id ?? 0);
  },
  SrvrCtrlRemoveRenderer: (core, b) => {
    core.removePeer(b.renderer_id ?? 0);
    return NOTHING;
  },
  SrvrCtrlActiveRendererChanged: (core, b) => work(core.activeRendererChanged(b.active_renderer_id ?? -1)),
  SrvrCtrlQueueErrorMessage: (core, b) => sessionIntents.queueError(core, b.action_uuid, b.error),
  SrvrCtrlQueueCleared: delta(() => ({ kind: 'cleared' })),
  SrvrCtrlQueueState: (core, b) =>
    queueIntents.snapshot(
      core,
      {
        version: version(b.queue_version) ?? zero,
        items: (b.tracks ?? []).map(itemOf),
        shuffle: b.shuffle_mode === true,
        shuffledIndexes: b.shuffled_track_indexes ?? [],
        autoplayOn: b.autoplay_mode === true,
        autoplay: (b.autoplay_tracks ?? []).map(itemOf),
      },
      b.action_uuid,
    ),
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
  SrvrCtrlLoopModeSet: (core, b) => queueIntents.setRepeat(core, LOOP[b.loop_mode ?? 0] ?? 'off', false),
  // Autoplay (docs/protocol.md §6): suggestions that follow the queue's end; 105 moves played ones into the queue.
  SrvrCtrlAutoplayModeSet: (core, b) =>
    queueIntents.autoplay(core, version(b.queue_version), {
      kind: 'mode',
      on: b.autoplay_mode === true,
      reset: b.autoplay_reset === true,
    }),
  SrvrCtrlAutoplayTracksLoaded: (core, b) =>
    queueIntents.autoplay(core, version(b.queue_version), { kind: 'loaded', items: (b.tracks ?? []).map(itemOf) }),
  SrvrCtrlAutoplayTracksRemoved: (core, b) =>
    queueIntents.autoplay(core, version(b.queue_version), { kind: 'removed', queueItemIds: b.queue_item_ids ?? [] }),
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
): (core: SessionCore, b: B) => Outcome {
  return (core, b) =>
    queueIntents.delta(core, { ...build(b), version: version(b.queue_version) ?? zero } as QueueDelta, b.action_uuid);
}
