import type { PlayableItem } from '../../core/player.js';
import type { SessionEvent } from '../../core/player-view.js';
import type { AutoplayChange, QueueDelta } from '../../core/queue-mirror.js';
import type { SessionCore } from '../session-core.js';

/**
 * The MQTT event of each Qobuz queue message (README "MQTT topics", issue #14): one per message,
 * named after what happened, carrying the queue item and track ids it names and the titles already
 * known, so that an automation can react to "something was added" without reading the queue.
 * Built before the change is applied: a removal must still find the tracks it removes.
 */

/** Tracks listed in one event at most; `count` always says how many the message named. */
const EVENT_TRACKS_MAX = 100;

export interface QueueEvent {
  readonly type: SessionEvent['type'];
  readonly fields: Record<string, unknown>;
}

const TYPES = {
  cleared: 'queue_cleared',
  loaded: 'queue_loaded',
  inserted: 'tracks_inserted',
  added: 'tracks_added',
  removed: 'tracks_removed',
  reordered: 'tracks_reordered',
  shuffle: 'shuffle_changed',
  fromAutoplay: 'autoplay_changed',
} as const satisfies Record<QueueDelta['kind'], SessionEvent['type']>;

/** The event of a queue delta (89, 91-96, 105), as the mirror stands before applying it. */
export function queueDeltaEvent(core: SessionCore, delta: QueueDelta): QueueEvent {
  const base = { version: delta.version };
  switch (delta.kind) {
    case 'cleared':
      return { type: TYPES.cleared, fields: base };
    case 'loaded':
      return {
        type: TYPES.loaded,
        fields: {
          ...base,
          ...(delta.shuffle !== null ? { shuffle: delta.shuffle } : {}),
          ...tracks(core, delta.items),
        },
      };
    case 'inserted':
      return {
        type: TYPES.inserted,
        fields: { ...base, afterQueueItemId: delta.afterQueueItemId, ...tracks(core, delta.items) },
      };
    case 'added':
      return { type: TYPES.added, fields: { ...base, ...tracks(core, delta.items) } };
    case 'removed':
      return { type: TYPES.removed, fields: { ...base, ...tracks(core, known(core, delta.queueItemIds)) } };
    case 'reordered':
      return {
        type: TYPES.reordered,
        fields: {
          ...base,
          afterQueueItemId: delta.afterQueueItemId,
          ...tracks(core, known(core, delta.queueItemIds)),
        },
      };
    case 'shuffle':
      return { type: TYPES.shuffle, fields: { ...base, shuffle: delta.shuffle } };
    case 'fromAutoplay':
      return {
        type: TYPES.fromAutoplay,
        fields: { ...base, change: 'moved_to_queue', ...tracks(core, known(core, delta.queueItemIds)) },
      };
  }
}

/** The event of an autoplay change (102-104), before it is applied. */
export function autoplayEvent(core: SessionCore, change: AutoplayChange): QueueEvent {
  switch (change.kind) {
    case 'mode':
      return { type: 'autoplay_changed', fields: { change: 'mode', reset: change.reset } };
    case 'loaded':
      return { type: 'autoplay_changed', fields: { change: 'loaded', ...tracks(core, change.items) } };
    case 'removed':
      return {
        type: 'autoplay_changed',
        fields: { change: 'removed', ...tracks(core, known(core, change.queueItemIds)) },
      };
  }
}

/** Queue items by id as the mirror knows them (with their track ids); unknown ids keep track id 0. */
function known(core: SessionCore, queueItemIds: readonly number[]): PlayableItem[] {
  return queueItemIds.map((id) => core.queue.find(id) ?? { queueItemId: id, trackId: 0 });
}

function tracks(core: SessionCore, items: readonly PlayableItem[]): Record<string, unknown> {
  return {
    count: items.length,
    tracks: items.slice(0, EVENT_TRACKS_MAX).map((i) => ({
      queueItemId: i.queueItemId,
      trackId: i.trackId,
      title: core.trackSummary(i.trackId)?.title ?? null,
    })),
    ...(items.length > EVENT_TRACKS_MAX ? { truncated: true } : {}),
  };
}
