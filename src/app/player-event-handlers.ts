import type { AudioFormat, PlayableItem, PlayerSnapshot } from '../core/player.js';
import { qconnect } from '../protocol/generated/qconnect.js';
import {
  fileAudioQualityChanged,
  playbackError,
  rendererAction,
  volumeChanged,
  volumeMuted,
} from '../protocol/renderer-messages.js';
import type { SessionCore } from './session-core.js';

/**
 * What the speaker did, reported to Qobuz exactly like a command's result (issue #5): a gapless
 * track change, the end of the queue, a pause or volume change made at the speaker or by another
 * MPD client, the real audio format, a failed item, the backend going away.
 */

export async function onTrackStarted(core: SessionCore, item: PlayableItem): Promise<void> {
  core.current = core.mirror.find(item.queueItemId) ?? item;
  core.next = core.nextAfter(core.current);
  core.setIntent('playing', 0, false);
  core.fetchTrackInfo(core.current);
  core.reportState();
  await core.o.player.setNext(core.next);
}

export function onQueueEnded(core: SessionCore): void {
  // §5.8: at the end of the queue report STOPPED.
  core.next = null;
  core.setIntent('stopped', 0, false);
  core.reportState();
}

export function onStateChanged(core: SessionCore, snap: PlayerSnapshot): void {
  if (!snap.available) return;
  const before = core.intent;
  const status = snap.status === 'stopped' && core.current && before.buffering ? before.status : snap.status;
  const elapsed = snap.positionMs + (snap.status === 'playing' && !snap.buffering ? core.o.now() - snap.atMs : 0);
  core.intent = { status, positionMs: elapsed, atMs: core.o.now(), buffering: snap.buffering };
  const positionJump = Math.abs(core.positionNow() - core.positionNow(before)) > 1500;
  if (before.status !== status || before.buffering !== snap.buffering || positionJump) core.reportState();
}

export function onVolumeChanged(core: SessionCore, volumePercent: number, muted: boolean): void {
  const messages = [];
  if (volumePercent !== core.volume) messages.push(volumeChanged(volumePercent));
  if (muted !== core.muted) messages.push(volumeMuted(muted));
  core.volume = volumePercent;
  core.muted = muted;
  if (messages.length === 0) return;
  if (core.active) core.send(messages);
  core.publishView();
}

/** AudioQuality level of what actually plays (§4): 16-bit ≤ 48 kHz CD, 24-bit ≤ 96 kHz HIRES_L1, above HIRES_L2. */
export function qualityLevel(f: AudioFormat): number {
  if (f.bitDepth <= 16) return f.sampleRateHz <= 48_000 ? 2 : 3;
  return f.sampleRateHz <= 96_000 ? 3 : 4;
}

export function onFormatChanged(core: SessionCore, f: AudioFormat): void {
  if (core.track) core.track = { ...core.track, sampleRateHz: f.sampleRateHz, bitDepth: f.bitDepth };
  if (core.active) {
    core.send([
      fileAudioQualityChanged({ samplingRateHz: f.sampleRateHz, bitDepth: f.bitDepth, channels: f.channels, audioQuality: qualityLevel(f) }),
    ]);
  }
  core.publishView();
}

/** §5.8: a track that cannot be played is reported and skipped, never stalling the queue. */
export function onItemFailed(core: SessionCore, item: PlayableItem, reason: string): void {
  core.o.logger.warn({ queueItemId: item.queueItemId, trackId: item.trackId, reason }, 'item failed to play');
  core.event('playback_error', { queue_item_id: item.queueItemId, track_id: item.trackId, reason });
  if (!core.active) return;
  core.send([
    playbackError(core.mirror.version, item.queueItemId, qconnect.ErrorType.TRACK_NOT_STREAMABLE),
    rendererAction(qconnect.RndrSrvrRendererAction.ActionType.NEXT),
  ]);
}

export function onAvailabilityChanged(core: SessionCore, available: boolean): void {
  core.o.publisher?.publishAvailability(core.o.playerId, available);
  // Unreachable backend: buffer ERROR and stopped (issue #5), keeping the position for the resume;
  // the report's bufferState reads availability, and the player's own resume reports PLAYING again.
  if (!available && core.intent.status !== 'stopped') core.setIntent('stopped', core.positionNow(), false);
  core.reportState();
}
