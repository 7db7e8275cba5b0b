import type { RepeatMode } from '../../core/player-view.js';
import type { AutoplayChange, DeltaResult, QueueDelta, QueueSnapshot, QueueVersion } from '../../core/queue-mirror.js';
import { inOrder, type Outcome } from '../outcome.js';
import { autoplayEvent, queueDeltaEvent, type QueueEvent } from '../queue/queue-events.js';
import type { SessionCore } from '../session-core.js';
import { sessionIntents } from './session-intents.js';

/**
 * The queue intents (docs/architecture.md "Intents"; docs/protocol.md §6): what the service says the
 * queue is (90, the deltas, autoplay, the loop mode), applied to the mirror, answered to the verbs
 * that caused it, and told on MQTT (issue #14 events). A delta we cannot apply asks for the whole
 * queue again. Each returns an Outcome: the reports the change caused (SessionCore.decide), the
 * resync ask, the speaker's new neighbours.
 */
export const queueIntents = {
  /** 90: the whole queue, read again (our 76, or a resync): no edit, so none of the issue #14 events. */
  snapshot(core: SessionCore, snapshot: QueueSnapshot, actionUuid: Uint8Array | null | undefined): Outcome {
    return core.decide(() => {
      const effect = core.queueUpdates.applySnapshot(snapshot);
      // The 76 it answers, echoed or not (queue-state-answers.ts; README "Own Qobuz identity": transfer).
      core.verbs.answered(actionUuid, true);
      core.event('queue_updated', {
        version: core.queue.version,
        length: core.queue.items.length,
        shuffle: core.queue.shuffle,
        autoplay: core.queue.autoplayOn,
      });
      return effect;
    });
  },

  /** A queue delta (docs/protocol.md §6): it names the new version and the action uuid that caused it. */
  delta(core: SessionCore, delta: QueueDelta, actionUuid: Uint8Array | null | undefined): Outcome {
    const seen: { result?: DeltaResult } = {};
    const applied = core.decide(() => {
      // Described before it is applied: a removal must still find the tracks it removes (issue #14).
      const event = queueDeltaEvent(core, delta);
      const { result, effect } = core.queueUpdates.applyDelta(delta);
      const ours = core.verbs.answered(actionUuid);
      seen.result = result;
      if (result !== 'stale') emitQueueEvent(core, event, ours);
      return effect;
    });
    if (seen.result === 'stale') return { messages: applied.messages, effect: null };
    // A gap or a shuffled order we cannot know: the full state is one message away (§6).
    return seen.result === 'resync' ? inOrder(applied, sessionIntents.resyncQueue(core)) : applied;
  },

  /** Autoplay (docs/protocol.md §6): suggestions that follow the queue's end; 105 moves played ones into the queue. */
  autoplay(core: SessionCore, version: QueueVersion | null, change: AutoplayChange): Outcome {
    return core.decide(() => {
      if (version) core.queueUpdates.noteVersion(version);
      const event = autoplayEvent(core, change);
      const effect = core.queueUpdates.applyAutoplay(change);
      emitQueueEvent(core, event, false);
      return effect;
    });
  },

  /** The loop mode, from the app (48) or the service (101). `event`: the app's, told on MQTT. */
  setRepeat(core: SessionCore, repeat: RepeatMode, event: boolean): Outcome {
    const out = core.decide(() => core.queueUpdates.setRepeat(repeat));
    if (event) core.event('set_loop_mode', { repeat: core.queue.repeat });
    return out;
  },
};

/** README "MQTT topics": every queue event also says the queue's length after it, and whether our own command caused it. */
function emitQueueEvent(core: SessionCore, e: QueueEvent, fromMqtt: boolean): void {
  const autoplay =
    e.type === 'autoplay_changed'
      ? { autoplay: core.queue.autoplayOn, autoplayLength: core.queue.autoplay.length }
      : {};
  core.event(e.type, { ...e.fields, length: core.queue.items.length, ...autoplay, fromMqtt });
}
