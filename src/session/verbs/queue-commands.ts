import type { PlayerCommand, QueueSourceKind } from '../../core/player-view.js';
import { QcbError } from '../../core/qcb-error.js';
import {
  addTracks,
  clearQueue,
  insertTracks,
  newActionUuid,
} from '../../protocol/controller-messages.js';
import { sessionIntents } from '../intents/session-intents.js';
import { jumpKey } from '../intents/wire-values.js';
import type { Effect, SessionCore } from '../session-core.js';
import type { Enqueue } from '../session-input.js';

/**
 * The queue verbs of MQTT (README "MQTT topics": `play_item`, `queue_add`, `queue_clear`; issue
 * #14), sent as controller verbs on the player's own link (docs/protocol.md §8: our default join
 * is a controller join). Each answers once the service applied it: the queue edits when the
 * service's broadcast with their action uuid comes back (89, 92, 93), a jump when the active
 * renderer reports the item (82). Checks run first and change nothing when they fail.
 */

/** The track ids of a Qobuz album, playlist or track (REST `album/get`, `playlist/get`, `track/get`). */
export type TrackIdsLookup = (
  kind: QueueSourceKind,
  id: string,
) => Promise<{ readonly title: string | null; readonly trackIds: readonly number[] }>;

/** What a command needs beyond the session: the loop to come back to after slow work, and the REST lookups. */
export interface CommandContext {
  /** Sends an input into the session's loop, after the inputs queued before it (session-input.ts). */
  readonly enqueue: Enqueue;
  readonly trackIdsOf: TrackIdsLookup | null;
}

const isQueueCommand = (cmd: PlayerCommand): boolean =>
  cmd.playItem !== undefined || cmd.queueAdd !== undefined || cmd.queueClear !== undefined;

/** Every check of the queue verbs, before anything is sent (README "MQTT topics": nothing changes on an error). */
export function checkQueueCommand(core: SessionCore, cmd: PlayerCommand, ctx: CommandContext): void {
  if (!isQueueCommand(cmd)) return;
  if (core.linkState !== 'joined' || core.rendererId === null)
    throw new QcbError('ERR_NO_SESSION', 'no Qobuz session');
  if (cmd.playItem !== undefined && core.queue.find(cmd.playItem) === null)
    throw new QcbError('ERR_NOT_FOUND', `queue item ${cmd.playItem} is not in the Qobuz queue`);
  if (cmd.queueAdd !== undefined && !ctx.trackIdsOf)
    throw new QcbError(
      'ERR_QOBUZ_UNAVAILABLE',
      'the Qobuz API is not configured (qobuz.app_id, qobuz.app_secret): cannot look up tracks',
    );
}

/** Sends the queue verbs of `cmd`; each effect settles with the service's answer. */
export function applyQueueCommand(core: SessionCore, cmd: PlayerCommand, ctx: CommandContext): Effect[] {
  const effects: Effect[] = [];
  if (cmd.queueClear) effects.push(clear(core));
  if (cmd.playItem !== undefined) effects.push(playItem(core, cmd.playItem));
  if (cmd.queueAdd !== undefined) effects.push(queueAdd(cmd.queueAdd, ctx));
  return effects;
}

function clear(core: SessionCore): Promise<void> {
  const uuid = newActionUuid();
  return core.verbs.sendAction([clearQueue(core.queue.version, uuid)], uuid, 'the queue clear');
}

/**
 * 62 with the item (the service sends the active renderer a 41 playing it). With no renderer active,
 * we take playback first (63 naming us, in the same batch), as `play` does: the command names this player.
 */
function playItem(core: SessionCore, queueItemId: number): Promise<void> {
  const frames = sessionIntents.jumpFrames(core, queueItemId);
  return core.verbs.sendAction(frames, jumpKey(queueItemId), `the jump to queue item ${queueItemId}`);
}

/** The track ids first (REST, outside the loop), then 68 or 67 from the loop with the queue as it is then (a 'queue-add' input). */
async function queueAdd(add: NonNullable<PlayerCommand['queueAdd']>, ctx: CommandContext): Promise<void> {
  const lookup = ctx.trackIdsOf;
  if (!lookup) throw new QcbError('ERR_QOBUZ_UNAVAILABLE', 'the Qobuz API is not configured');
  const { trackIds } = await lookup(add.kind, add.id);
  await ctx.enqueue({ kind: 'queue-add', trackIds, next: add.next });
}

/** Sent from the loop after the lookup; a session that ended meanwhile rejects it (ERR_NO_SESSION, in sendAction). */
export function sendAdd(core: SessionCore, trackIds: readonly number[], next: boolean): Promise<void> {
  const uuid = newActionUuid();
  const version = core.queue.version;
  const after = next ? insertAfter(core) : null;
  return after === null
    ? core.verbs.sendAction([addTracks(version, uuid, trackIds)], uuid, 'the queue add')
    : core.verbs.sendAction([insertTracks(version, uuid, trackIds, after)], uuid, 'the queue insert');
}

/**
 * Where "next" inserts (docs/protocol.md §8): after the item the session plays; at the start when
 * nothing plays (where `play` begins); at the end (null: append) while an autoplay suggestion plays.
 */
function insertAfter(core: SessionCore): number | null {
  const current = core.sessionItem();
  if (!current) return -1;
  return core.queue.items.some((i) => i.queueItemId === current.queueItemId) ? current.queueItemId : null;
}
