import Long from 'long';
import { message, type OutgoingMessage } from './frame-writer.js';
import { qconnect } from './generated/qconnect.js';

/**
 * Builders for what a renderer sends (docs/protocol.md §4-§5), in domain terms.
 * Each returns one Message; the link batches and frames them.
 */

export interface QueueVersionValue {
  readonly major: number;
  readonly minor: number;
}

export interface DeviceInfoValue {
  /** 16 bytes. */
  readonly uuid: Uint8Array;
  readonly friendlyName: string;
  readonly brand: string;
  readonly model: string;
  readonly serialNumber: string;
  readonly type: qconnect.DeviceType;
  /** AudioQuality levels 1-5. */
  readonly minAudioQuality: number;
  readonly maxAudioQuality: number;
  readonly volumeRemoteControl: boolean;
  readonly softwareVersion: string;
}

/** QueueRendererState (§4): what a renderer reports in 21 and 23. */
export interface RendererReport {
  readonly playingState: qconnect.PlayingState;
  readonly bufferState: qconnect.BufferState;
  readonly positionMs: number;
  /** Epoch ms at which `positionMs` held (§4 Position). */
  readonly positionAtMs: number;
  readonly durationMs: number | null;
  /** The queue version last received from the service (§5.7). */
  readonly queueVersion: QueueVersionValue | null;
  /** -1 when none; 0 is valid. */
  readonly currentQueueItemId: number;
  readonly nextQueueItemId: number;
}

function deviceInfo(d: DeviceInfoValue): qconnect.DeviceInfo.$Properties {
  return {
    device_uuid: d.uuid,
    friendly_name: d.friendlyName,
    brand: d.brand,
    model: d.model,
    serial_number: d.serialNumber,
    type: d.type,
    capabilities: {
      min_audio_quality: d.minAudioQuality,
      max_audio_quality: d.maxAudioQuality,
      volume_remote_control: d.volumeRemoteControl ? 2 : 1,
    },
    software_version: d.softwareVersion,
  };
}

function queueRendererState(r: RendererReport): qconnect.QueueRendererState.$Properties {
  return {
    playing_state: r.playingState,
    buffer_state: r.bufferState,
    current_position: {
      timestamp: Long.fromNumber(r.positionAtMs, true),
      value: Math.max(0, Math.round(r.positionMs)),
    },
    duration: r.durationMs === null ? 0 : Math.round(r.durationMs),
    queue_version: r.queueVersion ?? undefined,
    current_queue_item_id: r.currentQueueItemId,
    next_queue_item_id: r.nextQueueItemId,
  };
}

/**
 * 61: the default join, as the official web client does (§5.1). No session uuid when the player
 * joins with its own minted token (docs/protocol.md §8 "Cloud presence"): the token names the account.
 * Exported, with rndrJoinSession, for the simulated renderers and controllers (test/support), so
 * that they join with exactly the bytes we build; the bridge itself goes through joinMessage.
 */
export function ctrlJoinSession(sessionUuid: Uint8Array | null, device: DeviceInfoValue): OutgoingMessage {
  return message(61, { session_uuid: sessionUuid ?? undefined, device_info: deviceInfo(device) });
}

/** 21: the renderer join, behind `qobuz.join: renderer` (§5.1); reason 2 + inactive on a background rejoin (§5.12). */
export function rndrJoinSession(
  sessionUuid: Uint8Array,
  device: DeviceInfoValue,
  opts: { reconnection: boolean; isActive: boolean; initialState: RendererReport | null },
): OutgoingMessage {
  return message(21, {
    session_uuid: sessionUuid,
    device_info: deviceInfo(device),
    reason: opts.reconnection ? 2 : 1,
    initial_state: opts.initialState ? queueRendererState(opts.initialState) : undefined,
    is_active: opts.isActive,
  });
}

/**
 * The join for a link (§5.1): 61 by default; 21 with `renderer` (reason 2 and inactive on a
 * background rejoin, §5.12). No session uuid: a link with a token of our own joins the account (§8).
 */
export function joinMessage(o: {
  sessionUuid: Uint8Array | null;
  device: DeviceInfoValue;
  renderer: boolean;
  background: boolean;
  wantsActive: boolean;
  report: () => RendererReport;
}): OutgoingMessage {
  if (!o.renderer || o.sessionUuid === null) return ctrlJoinSession(o.sessionUuid, o.device);
  return rndrJoinSession(o.sessionUuid, o.device, {
    reconnection: o.background,
    isActive: !o.background && o.wantsActive,
    initialState: o.report(),
  });
}

/** The app's hyphenated session uuid as the 16 bytes the joins carry (§5.1). */
export function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  return /^[0-9a-fA-F]{32}$/.test(hex)
    ? Uint8Array.from(Buffer.from(hex, 'hex'))
    : new TextEncoder().encode(uuid);
}

export const stateUpdated = (r: RendererReport): OutgoingMessage =>
  message(23, { state: queueRendererState(r) });
export const rendererAction = (
  action: qconnect.RndrSrvrRendererAction.ActionType,
  seekPositionMs?: number,
): OutgoingMessage => message(24, { action, seek_position: seekPositionMs });
export const volumeChanged = (volume: number): OutgoingMessage => message(25, { volume });
export const fileAudioQualityChanged = (q: {
  samplingRateHz: number;
  bitDepth: number;
  channels: number;
  audioQuality: number;
}): OutgoingMessage =>
  message(26, {
    sampling_rate: q.samplingRateHz,
    bit_depth: q.bitDepth,
    nb_channels: q.channels,
    audio_quality: q.audioQuality,
  });
export const maxAudioQualityChanged = (level: number, networkType?: number): OutgoingMessage =>
  message(28, { max_audio_quality: level, network_type: networkType });
export const volumeMuted = (value: boolean): OutgoingMessage => message(29, { value });
export const setActiveRenderer = (rendererId: number): OutgoingMessage =>
  message(63, { renderer_id: rendererId });
/** 76; with `actionUuid` the service's 90 names it, so the answer can be awaited (docs/protocol.md §4). */
export const askForQueueState = (
  queueVersion: QueueVersionValue | null,
  actionUuid?: Uint8Array,
): OutgoingMessage => message(76, { queue_version: queueVersion ?? undefined, action_uuid: actionUuid });
export const askForRendererState = (rendererId: number): OutgoingMessage =>
  message(77, { renderer_id: rendererId });
export const playbackError = (
  queueVersion: QueueVersionValue | null,
  queueItemId: number,
  errorType: qconnect.ErrorType,
): OutgoingMessage =>
  message(2, { queue_version: queueVersion ?? undefined, queue_item_id: queueItemId, error_type: errorType });
