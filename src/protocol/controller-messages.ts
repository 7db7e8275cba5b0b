import { randomBytes } from 'node:crypto';
import { message, type OutgoingMessage } from './frame-writer.js';
import { qconnect } from './generated/qconnect.js';
import type { QueueVersionValue } from './renderer-messages.js';

/**
 * Builders for the controller verbs a player sends on its own link (docs/protocol.md §8
 * "Controller verbs"): our default join (61) is a controller join, so the service accepts them.
 * Queue edits carry the version we saw and a fresh action uuid, which the service echoes in its
 * answer to everyone (89-95) or in its refusal (88).
 */

/** A fresh 16-byte action or context uuid. */
export const newActionUuid = (): Uint8Array => Uint8Array.from(randomBytes(16));

const versionOf = (v: QueueVersionValue | null): qconnect.QueueVersion.$Properties | undefined =>
  v ? { major: v.major, minor: v.minor } : undefined;

/** 62: play / pause / seek, or a jump when `queueItemId` is given (the service sends 41 to the active renderer). */
export function setPlayerState(o: {
  playing?: boolean;
  positionMs?: number;
  queueItemId?: number;
}): OutgoingMessage {
  return message(62, {
    playing_state:
      o.playing === undefined
        ? undefined
        : o.playing
          ? qconnect.PlayingState.PLAYING
          : qconnect.PlayingState.PAUSED,
    current_position: o.positionMs,
    current_queue_item: o.queueItemId === undefined ? undefined : { id: o.queueItemId },
  });
}

/** 65: empty the queue. */
export function clearQueue(version: QueueVersionValue | null, actionUuid: Uint8Array): OutgoingMessage {
  return message(65, { queue_version: versionOf(version), action_uuid: actionUuid });
}

/**
 * 66: replace the queue with `trackIds` under a fresh context. Shuffle pivot and mode are sent
 * explicitly, as the service wants them present (docs/protocol.md §8).
 */
export function loadQueue(
  version: QueueVersionValue | null,
  actionUuid: Uint8Array,
  trackIds: readonly number[],
  o: { position?: number; shuffle?: boolean; contextUuid?: Uint8Array } = {},
): OutgoingMessage {
  return message(
    66,
    {
      queue_version: versionOf(version),
      action_uuid: actionUuid,
      track_ids: [...trackIds],
      queue_position: o.position ?? 0,
      shuffle_pivot_index: 0,
      shuffle_mode: o.shuffle === true,
      ...(o.shuffle ? { shuffle_seed: randomBytes(4).readUInt32LE(0) } : {}),
      context_uuid: o.contextUuid ?? newActionUuid(),
    },
    ['shuffle_pivot_index', 'shuffle_mode'],
  );
}

/** 67: insert `trackIds` after the queue item `afterQueueItemId` (-1: at the start). */
export function insertTracks(
  version: QueueVersionValue | null,
  actionUuid: Uint8Array,
  trackIds: readonly number[],
  afterQueueItemId: number,
): OutgoingMessage {
  return message(67, {
    queue_version: versionOf(version),
    action_uuid: actionUuid,
    track_ids: [...trackIds],
    insert_after: afterQueueItemId,
    context_uuid: newActionUuid(),
  });
}

/** 68: append `trackIds` to the queue. */
export function addTracks(
  version: QueueVersionValue | null,
  actionUuid: Uint8Array,
  trackIds: readonly number[],
): OutgoingMessage {
  return message(68, {
    queue_version: versionOf(version),
    action_uuid: actionUuid,
    track_ids: [...trackIds],
    context_uuid: newActionUuid(),
  });
}
