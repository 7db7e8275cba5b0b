import { randomBytes } from 'node:crypto';
import { message, type OutgoingMessage } from '../../src/protocol/frame-writer.js';
import { LOOP_MODE, type LoopName } from './qconnect-queue.js';
import type { SessionCore } from './qconnect-session-core.js';

/**
 * Queue edits as the service carries them out (docs/protocol.md §6): change the queue it
 * owns, bump the version (see qconnect-queue.ts for the rule), broadcast the delta (89, 90–95)
 * or mode change (96, 97) with the new version and the action_uuid of the command to every
 * joined client, mirror loop / shuffle to the active renderer (45 / 46), then tell the active
 * renderer its new next track when that changed (info-only 41, §5.6).
 */

export const newActionUuid = (): Uint8Array => Uint8Array.from(randomBytes(16));

export interface LoadOptions {
  /** Index in `trackIds` of the item to play first (queue_position; default 0). */
  readonly startIndex?: number;
  readonly shuffle?: boolean;
  readonly seed?: number;
  /** Announce with 91 QueueTracksLoaded (default) or a full 90 QueueState. */
  readonly announceAs?: 91 | 90;
  /** Also send the active renderer a 41 playing the start item (as an app's "play this album" does). */
  readonly play?: boolean;
  readonly actionUuid?: Uint8Array;
}

const tracksOf = (items: ReadonlyArray<{ queueItemId: number; trackId: number }>) =>
  items.map((i) => ({ queue_item_id: i.queueItemId, track_id: i.trackId }));

export function queueStateMessage(core: SessionCore, actionUuid?: Uint8Array | null): OutgoingMessage {
  const q = core.queue;
  return message(90, {
    queue_version: q.version(),
    action_uuid: actionUuid ?? undefined,
    tracks: tracksOf(q.items),
    shuffle_mode: q.shuffle,
    shuffled_track_indexes: q.shuffledIndexes(),
    autoplay_mode: q.autoplayOn,
    autoplay_tracks: tracksOf(q.autoplay),
  });
}

/** 102: autoplay on or off for everyone (off forgets the suggestions). */
export function setAutoplay(core: SessionCore, on: boolean): void {
  const q = core.queue;
  q.autoplayOn = on;
  if (!on) q.autoplay = [];
  core.broadcast([
    message(102, {
      queue_version: q.version(),
      action_uuid: newActionUuid(),
      autoplay_mode: on,
      autoplay_reset: !on,
    }),
  ]);
  core.nextMayHaveChanged();
}

/** 103: suggestions appended after the queue's end. */
export function loadAutoplay(core: SessionCore, trackIds: readonly number[]): number[] {
  const added = core.queue.loadAutoplay(trackIds);
  core.broadcast([
    message(103, {
      queue_version: core.queue.version(),
      action_uuid: newActionUuid(),
      tracks: tracksOf(added),
      context_uuid: newActionUuid(),
    }),
  ]);
  core.nextMayHaveChanged();
  return added.map((i) => i.queueItemId);
}

/** 104: suggestions withdrawn. */
export function removeAutoplay(core: SessionCore, ids: readonly number[]): void {
  core.queue.removeAutoplay(ids);
  core.broadcast([
    message(104, {
      queue_version: core.queue.version(),
      action_uuid: newActionUuid(),
      queue_item_ids: [...ids],
    }),
  ]);
  core.nextMayHaveChanged();
}

/** 105: the suggestions up to `id` became queue items (the renderer reported playing `id`). */
export function promoteAutoplay(core: SessionCore, id: number): void {
  // ServiceBehaviours.autoplayPromotion: the real rule is not captured (docs/protocol.md "Unknowns").
  const rule = core.deps.behaviours.autoplayPromotion;
  if (rule === 'never') return;
  const moved = core.queue.promoteAutoplay(id, rule === 'with-earlier');
  if (moved.length === 0) return;
  core.broadcast([message(105, { queue_version: core.queue.version(), queue_item_ids: moved })]);
}

export function loadQueue(core: SessionCore, trackIds: readonly number[], opts: LoadOptions = {}): void {
  const q = core.queue;
  const startIndex = opts.startIndex ?? 0;
  const actionUuid = opts.actionUuid ?? newActionUuid();
  q.load(trackIds, startIndex, opts.shuffle ?? false, opts.seed);
  if (opts.announceAs === 90) core.broadcast([queueStateMessage(core, actionUuid)]);
  else
    core.broadcast([
      message(91, {
        queue_version: q.version(),
        action_uuid: actionUuid,
        tracks: tracksOf(q.items),
        queue_position: startIndex,
        shuffle_mode: q.shuffle,
        shuffle_seed: q.shuffle ? q.shuffleSeed : undefined,
        shuffle_pivot_queue_item_id: q.shuffle ? q.shufflePivot : undefined,
        autoplay_reset: true,
      }),
    ]);
  if (opts.play && core.activeRendererId >= 0 && q.current >= 0)
    core.sendToActive([core.jumpMessage(q.current)]);
  else core.nextMayHaveChanged();
}

export function insertTracks(
  core: SessionCore,
  trackIds: readonly number[],
  afterQueueItemId: number,
  actionUuid = newActionUuid(),
): void {
  const added = core.queue.insert(trackIds, afterQueueItemId);
  core.broadcast([
    message(92, {
      queue_version: core.queue.version(),
      action_uuid: actionUuid,
      tracks: tracksOf(added),
      insert_after: afterQueueItemId,
    }),
  ]);
  core.nextMayHaveChanged();
}

export function addTracks(
  core: SessionCore,
  trackIds: readonly number[],
  actionUuid = newActionUuid(),
): void {
  const added = core.queue.add(trackIds);
  core.broadcast([
    message(93, { queue_version: core.queue.version(), action_uuid: actionUuid, tracks: tracksOf(added) }),
  ]);
  core.nextMayHaveChanged();
}

export function removeTracks(
  core: SessionCore,
  queueItemIds: readonly number[],
  actionUuid = newActionUuid(),
): void {
  core.queue.remove(queueItemIds);
  core.broadcast([
    message(94, {
      queue_version: core.queue.version(),
      action_uuid: actionUuid,
      queue_item_ids: [...queueItemIds],
    }),
  ]);
  core.nextMayHaveChanged();
}

export function reorderTracks(
  core: SessionCore,
  queueItemIds: readonly number[],
  afterQueueItemId: number,
  actionUuid = newActionUuid(),
): void {
  core.queue.reorder(queueItemIds, afterQueueItemId);
  core.broadcast([
    message(95, {
      queue_version: core.queue.version(),
      action_uuid: actionUuid,
      queue_item_ids: [...queueItemIds],
      insert_after: afterQueueItemId,
    }),
  ]);
  core.nextMayHaveChanged();
}

export function clearQueue(core: SessionCore, actionUuid = newActionUuid()): void {
  core.queue.clear();
  core.broadcast([message(89, { queue_version: core.queue.version(), action_uuid: actionUuid })]);
  // ServiceBehaviours.afterClear: whether the real service stops the active renderer itself is not known.
  if (core.deps.behaviours.afterClear === 'stop' && core.activeRendererId >= 0) core.sendToActive([core.stopMessage()]);
}

export function setShuffle(
  core: SessionCore,
  on: boolean,
  opts: { seed?: number; actionUuid?: Uint8Array } = {},
): void {
  const q = core.queue;
  q.setShuffle(on, opts.seed);
  core.broadcast([
    message(96, {
      queue_version: q.version(),
      action_uuid: opts.actionUuid ?? newActionUuid(),
      shuffle_mode: on,
      shuffle_seed: on ? q.shuffleSeed : undefined,
      shuffle_pivot_queue_item_id: on ? q.shufflePivot : undefined,
    }),
  ]);
  if (core.activeRendererId >= 0) core.sendToActive([message(46, { shuffle_mode: on })]);
  core.nextMayHaveChanged();
}

export function setLoop(core: SessionCore, mode: LoopName): void {
  core.queue.loop = mode;
  core.broadcast([message(97, { loop_mode: LOOP_MODE[mode] })]);
  if (core.activeRendererId >= 0) core.sendToActive([message(45, { loop_mode: LOOP_MODE[mode] })]);
  core.nextMayHaveChanged();
}
