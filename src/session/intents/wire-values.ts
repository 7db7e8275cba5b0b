import type { PlayableItem } from '../../core/player.js';
import type { RepeatMode } from '../../core/player-view.js';
import type { QueueVersion } from '../../core/queue-mirror.js';
import { qconnect } from '../../protocol/generated/qconnect.js';

/** Values as the wire carries them, read the one way (docs/protocol.md §4, §8 "Zero values"). */

export const versionOf = (v: qconnect.QueueVersion.$Properties | null | undefined): QueueVersion | null =>
  v ? { major: v.major ?? 0, minor: v.minor ?? 0 } : null;

export const ZERO_VERSION: QueueVersion = { major: 0, minor: 0 };

/** queue_item_id 0 is valid and absent on the wire (docs/protocol.md §4). */
export const itemOf = (t: { queue_item_id?: number | null; track_id?: number | null }): PlayableItem => ({
  queueItemId: t.queue_item_id ?? 0,
  trackId: t.track_id ?? 0,
});

export const LOOP: Record<number, RepeatMode> = {
  [qconnect.LoopMode.OFF]: 'off',
  [qconnect.LoopMode.REPEAT_ONE]: 'one',
  [qconnect.LoopMode.REPEAT_ALL]: 'all',
};

/** The pending key of a jump: 62 carries no action uuid, so the jump waits for its item (docs/protocol.md §8). */
export const jumpKey = (queueItemId: number): string => `jump:${queueItemId}`;
