import type { KnownMessage, QcMessage } from '../../src/protocol/frame-codec.js';
import { message, type OutgoingMessage } from '../../src/protocol/frame-writer.js';
import type { MessageBodies, MessageType } from '../../src/protocol/message-types.js';
import { VERB_REFUSED } from './qconnect-behaviours.js';
import type { SimConnection } from './qconnect-connection.js';
import { loopName } from './qconnect-queue.js';
import * as ops from './qconnect-queue-ops.js';
import { rendererStateOf, stateView } from './qconnect-records.js';
import {
  PLAYING,
  RENDERER_STATUS,
  SERVICE_ERRORS,
  type RendererRecord,
  type SessionCore,
} from './qconnect-session-core.js';

/**
 * What the simulated service does with each message a client sends (docs/protocol.md §4-§5):
 * one small handler per type (docs/conventions.md principle 6). Unknown and unhandled types (PLAYBACK_ERROR
 * 2 among them) are kept in the record and otherwise ignored, as the real service tolerates them.
 * A handler may throw (e.g. a controller command with no active renderer): the service catches
 * and records it in `QconnectService.errors`.
 */

export const errorMessage = (e: { code: string; message: string }): OutgoingMessage =>
  message(1, { code: e.code, message: e.message });

type Ctx = { core: SessionCore; conn: SimConnection; r: RendererRecord; now: number };
type Handler<K extends MessageType> = (body: MessageBodies[K], ctx: Ctx) => void;
type HandlerTable = { [K in MessageType]?: Handler<K> };

/** Handles one message of a batch from `conn`; joins are the only messages accepted before a join. */
export function handleInbound(core: SessionCore, conn: SimConnection, msg: QcMessage, now: number): void {
  if (msg.type === 'unknown') return;
  if (msg.type === 61 || msg.type === 21) return join(core, conn, msg, now);
  const r = core.recordOf(conn);
  if (!r) return conn.sendMessages([errorMessage(SERVICE_ERRORS.notJoined)]);
  const behaviours = core.deps.behaviours;
  if (behaviours.refuseVerbs.includes(msg.type)) return conn.sendMessages([errorMessage(VERB_REFUSED)]);
  // Controller commands for the active renderer need one; a jump needs its item in the queue.
  if ((msg.type === 62 || msg.type === 74) && core.activeRendererId < 0)
    return conn.sendMessages([errorMessage(SERVICE_ERRORS.noActiveRenderer)]);
  const jumpTo = msg.type === 62 && msg.body.current_queue_item ? (msg.body.current_queue_item.id ?? 0) : null;
  const refusedSuggestion =
    behaviours.playAutoplayItem === 'refused' && core.queue.autoplay.some((i) => i.queueItemId === jumpTo);
  if (jumpTo !== null && (core.queue.trackOf(jumpTo) === undefined || refusedSuggestion))
    return conn.sendMessages([errorMessage(SERVICE_ERRORS.trackNotFound)]);
  const handler = HANDLERS[msg.type] as Handler<typeof msg.type> | undefined;
  handler?.(msg.body as never, { core, conn, r, now });
}

function join(
  core: SessionCore,
  conn: SimConnection,
  msg: KnownMessage & { type: 21 | 61 },
  now: number,
): void {
  const body = msg.body;
  const uuid = body.session_uuid;
  // 21 must name the session; 61 may leave it out (the token already says which session: a minted
  // token names the account, whose one session it joins, docs/protocol.md §8).
  // ServiceBehaviours.joinWithoutSession: whether the real service takes a 61 without one is not known.
  const sameSession =
    uuid && uuid.length > 0
      ? Buffer.from(uuid).equals(Buffer.from(core.uuid))
      : msg.type === 61 && core.deps.behaviours.joinWithoutSession === 'accepted';
  const uuidOk = body.device_info?.device_uuid?.length === 16;
  if (!sameSession || !uuidOk || !body.device_info)
    return conn.sendMessages([errorMessage(SERVICE_ERRORS.join)]);
  if (msg.type === 21) {
    const initial = msg.body.initial_state;
    core.join(conn, body.device_info, {
      initialState: initial ? stateView(initial, now) : undefined,
      isActive: msg.body.is_active === true,
    });
  } else {
    core.join(conn, body.device_info, { isActive: false });
  }
}

const fromActive = (ctx: Ctx): boolean => ctx.r.rendererId === ctx.core.activeRendererId;
const toOthers = (ctx: Ctx, target: number, build: () => OutgoingMessage): void => {
  if (!ctx.core.renderers.get(target)?.conn)
    return ctx.conn.sendMessages([errorMessage(SERVICE_ERRORS.unknownRenderer)]);
  ctx.core.sendTo(target, [build()]);
};

const HANDLERS: HandlerTable = {
  23: (b, ctx) => {
    if (!fromActive(ctx)) return ctx.conn.sendMessages([errorMessage(SERVICE_ERRORS.nonActive)]);
    const view = stateView(b.state ?? {}, ctx.now);
    ctx.r.lastState = view;
    ctx.core.savedState = view;
    if (ctx.core.queue.trackOf(view.currentQueueItemId) !== undefined)
      ctx.core.queue.current = view.currentQueueItemId;
    ops.promoteAutoplay(ctx.core, view.currentQueueItemId);
    ctx.core.broadcast([
      message(82, {
        renderer_id: ctx.r.rendererId,
        status: RENDERER_STATUS.ACTIVE_CONNECTED,
        player_state: rendererStateOf(view),
      }),
    ]);
  },
  25: (b, ctx) => {
    ctx.r.volume = b.volume ?? 0;
    ctx.core.broadcast([message(87, { renderer_id: ctx.r.rendererId, volume: ctx.r.volume })]);
  },
  29: (b, ctx) => {
    ctx.r.muted = b.value === true;
    ctx.core.broadcast([message(98, { renderer_id: ctx.r.rendererId, value: ctx.r.muted })]);
  },
  28: (b, ctx) => {
    ctx.r.maxAudioQuality = b.max_audio_quality ?? 0;
    ctx.core.broadcast([
      message(99, {
        renderer_id: ctx.r.rendererId,
        max_audio_quality: ctx.r.maxAudioQuality,
        network_type: b.network_type ?? undefined,
      }),
    ]);
  },
  26: (b, ctx) => {
    const q = {
      samplingRate: b.sampling_rate ?? 0,
      bitDepth: b.bit_depth ?? 0,
      channels: b.nb_channels ?? 0,
      audioQuality: b.audio_quality ?? 0,
    };
    ctx.r.fileQuality = q;
    ctx.core.broadcast([
      message(100, {
        renderer_id: ctx.r.rendererId,
        sampling_rate: q.samplingRate,
        bit_depth: q.bitDepth,
        nb_channels: q.channels,
        audio_quality: q.audioQuality,
      }),
    ]);
  },
  27: (b, ctx) =>
    ctx.core.broadcast([
      message(101, {
        renderer_id: ctx.r.rendererId,
        sampling_rate: b.sampling_rate,
        bit_depth: b.bit_depth,
        nb_channels: b.nb_channels,
      }),
    ]),
  22: (b, ctx) => {
    if (b.device_info) ctx.r.deviceInfo = b.device_info;
    ctx.core.broadcast([message(84, { renderer_id: ctx.r.rendererId, device_info: ctx.r.deviceInfo })]);
  },
  24: (b, ctx) => {
    if (!fromActive(ctx)) return;
    const A = {
      PREVIOUS: 1,
      NEXT: 2,
      REPEAT_OFF: 3,
      REPEAT_ONE: 4,
      REPEAT_ALL: 5,
      SHUFFLE_OFF: 6,
      SHUFFLE_ON: 7,
    } as const;
    if (b.action === A.NEXT) ctx.core.advance(1);
    else if (b.action === A.PREVIOUS) ctx.core.advance(-1);
    else if (b.action === A.REPEAT_OFF) ops.setLoop(ctx.core, 'OFF');
    else if (b.action === A.REPEAT_ONE) ops.setLoop(ctx.core, 'REPEAT_ONE');
    else if (b.action === A.REPEAT_ALL) ops.setLoop(ctx.core, 'REPEAT_ALL');
    else if (b.action === A.SHUFFLE_OFF || b.action === A.SHUFFLE_ON)
      ops.setShuffle(ctx.core, b.action === A.SHUFFLE_ON);
  },
  63: (b, ctx) => {
    const target = b.renderer_id ?? 0;
    if (!ctx.core.renderers.get(target)?.conn)
      return ctx.conn.sendMessages([errorMessage(SERVICE_ERRORS.unknownRenderer)]);
    ctx.core.setActive(target);
  },
  // ServiceBehaviours.echoQueueStateAction: whether the real 90 names the 76's action uuid is not known.
  76: (b, ctx) =>
    ctx.conn.sendMessages([
      ops.queueStateMessage(ctx.core, ctx.core.deps.behaviours.echoQueueStateAction ? b.action_uuid : undefined),
    ]),
  77: (b, ctx) => {
    const id = b.renderer_id ?? 0;
    const target = id === -1 ? undefined : ctx.core.renderers.get(id);
    const state = id === -1 ? ctx.core.savedState : (target?.lastState ?? null);
    const status = target ? ctx.core.rendererStatusOf(target) : undefined;
    ctx.conn.sendMessages([
      message(82, { renderer_id: id, status, player_state: state ? rendererStateOf(state) : undefined }),
    ]);
  },
  // Controller messages a client may send (the official apps' renderers use a few, §5).
  62: (b, ctx) => {
    // A present current_queue_item with no id means item 0 (proto3 presence, §4).
    const item = b.current_queue_item ? (b.current_queue_item.id ?? 0) : undefined;
    if (item !== undefined)
      ctx.core.sendToActive([
        ctx.core.jumpMessage(item, {
          positionMs: b.current_position ?? undefined,
          playing: b.playing_state !== PLAYING.PAUSED,
        }),
      ]);
    else
      ctx.core.sendToActive([
        message(41, {
          playing_state: b.playing_state ?? undefined,
          current_position: b.current_position ?? undefined,
        }),
      ]);
  },
  64: (b, ctx) =>
    toOthers(ctx, b.renderer_id ?? 0, () =>
      message(42, { volume: b.volume ?? undefined, volume_delta: b.volume_delta ?? undefined }),
    ),
  73: (b, ctx) => toOthers(ctx, b.renderer_id ?? 0, () => message(47, { value: b.value === true })),
  74: (b, ctx) => ctx.core.sendToActive([message(44, { max_audio_quality: b.max_audio_quality ?? 0 })]),
  72: (b, ctx) => ops.setLoop(ctx.core, loopName(b.loop_mode) ?? 'OFF'),
  71: (b, ctx) =>
    ops.setShuffle(ctx.core, b.shuffle_mode === true, {
      seed: b.shuffle_seed ?? undefined,
      actionUuid: b.action_uuid ?? undefined,
    }),
  65: (b, ctx) => queueEdit(ctx, b, () => ops.clearQueue(ctx.core, b.action_uuid ?? undefined)),
  66: (b, ctx) =>
    queueEdit(ctx, b, () =>
      ops.loadQueue(ctx.core, b.track_ids ?? [], {
        startIndex: b.queue_position ?? 0,
        shuffle: b.shuffle_mode === true,
        seed: b.shuffle_seed ?? undefined,
        actionUuid: b.action_uuid ?? undefined,
      }),
    ),
  67: (b, ctx) =>
    queueEdit(ctx, b, () =>
      ops.insertTracks(ctx.core, b.track_ids ?? [], b.insert_after ?? 0, b.action_uuid ?? undefined),
    ),
  68: (b, ctx) => queueEdit(ctx, b, () => ops.addTracks(ctx.core, b.track_ids ?? [], b.action_uuid ?? undefined)),
  69: (b, ctx) =>
    queueEdit(ctx, b, () => ops.removeTracks(ctx.core, b.queue_item_ids ?? [], b.action_uuid ?? undefined)),
  70: (b, ctx) =>
    queueEdit(ctx, b, () =>
      ops.reorderTracks(ctx.core, b.queue_item_ids ?? [], b.insert_after ?? 0, b.action_uuid ?? undefined),
    ),
};

/**
 * A controller's queue edit (65-70) the service cannot apply (an insert after an item the queue does
 * not hold) is refused to everyone with 88 naming its action uuid (docs/protocol.md §4), queue untouched.
 */
function queueEdit(ctx: Ctx, b: { action_uuid?: Uint8Array | null }, apply: () => void): void {
  try {
    apply();
  } catch (err) {
    ctx.core.broadcast([
      message(88, {
        queue_version: ctx.core.queue.version(),
        action_uuid: b.action_uuid ?? undefined,
        error: err instanceof Error ? err.message : String(err),
      }),
    ]);
  }
}
