import type { AudioFormat, PlayerEvents } from '../../core/player.js';
import { qconnect } from '../../protocol/generated/qconnect.js';
import {
  fileAudioQualityChanged,
  playbackError,
  rendererAction,
  volumeChanged,
  volumeMuted,
} from '../../protocol/renderer-messages.js';
import type { Effect, SessionCore } from '../session-core.js';

/**
 * What the speaker did, one small handler per Player event (docs/architecture.md "Where each
 * input is handled"), reported to Qobuz exactly like a command's result: a gapless track change,
 * the end of the queue, a pause or volume change made at the speaker or by another MPD client,
 * the real audio format, a failed item, the backend going away. Handlers that describe playback
 * read the speaker's snapshot as it is when they run, never the one the event carried, and the
 * session drops what predates its newest command.
 */
export type SpeakerHandlers = {
  [K in keyof PlayerEvents as string extends K ? never : K]: (
    core: SessionCore,
    ...args: PlayerEvents[K]
  ) => Effect;
};

export const SPEAKER_HANDLERS: SpeakerHandlers = {
  trackStarted: (core, item) => core.playback.speakerTrackStarted(item),
  queueEnded: (core) => {
    core.playback.speakerQueueEnded();
    return null;
  },
  stateChanged: (core) => {
    // Another MPD client plays its own music: the speaker stepped aside, so do we (issue #16).
    if (core.speaker().source === 'other') core.speakerTakenByOther();
    else core.playback.speakerStateChanged();
    return null;
  },
  // docs/protocol.md §9.4: MPD holds nothing before our current song (the first item), so another
  // client's `previous` restarts it; the restart is reported first, the service answers with a 41.
  previousRequested: (core) => {
    core.playback.speakerStateChanged();
    if (core.active && core.playback.current && core.speaker().settled) {
      core.log.info(
        { queueItemId: core.playback.current.queueItemId },
        'another MPD client asked for the previous song',
      );
      core.send([rendererAction(qconnect.RndrSrvrRendererAction.ActionType.PREVIOUS)]);
    }
    return null;
  },
  // docs/protocol.md §9.4 (issue #23): MPD held our previous song before the current one and another
  // client's `previous` moved there. At any position it is the Qobuz previous: one 24 PREVIOUS, sent
  // before the report of what plays so the service moves from the item it knows; its 41 is then
  // taken as MPD plays it.
  previousStarted: (core, item) => {
    const snap = core.speaker();
    if (!snap.settled || snap.current?.queueItemId !== item.queueItemId) return null;
    // The track change before it never reached the session (next, then previous at once): for Qobuz
    // nothing moved, the current item restarted.
    if (core.playback.current?.queueItemId === item.queueItemId) {
      core.playback.speakerStateChanged();
      // The speaker's window slid back without the session: give it the item before again.
      return core.playback.syncNeighbours();
    }
    const previous = core.active && core.playback.current !== null;
    if (previous) {
      core.log.info({ queueItemId: item.queueItemId }, 'another MPD client moved back to the previous song');
      core.send([rendererAction(qconnect.RndrSrvrRendererAction.ActionType.PREVIOUS)]);
    }
    return core.playback.speakerMovedBack(item, previous);
  },
  volumeChanged: (core, volumePercent, muted) => {
    const changed = core.playback.speakerVolume(volumePercent, muted);
    const messages = [];
    if (changed.volume) messages.push(volumeChanged(volumePercent));
    if (changed.muted) messages.push(volumeMuted(muted));
    if (core.active && messages.length > 0) core.send(messages);
    return null;
  },
  // Issue #23: the output's format (what MPD plays after any resampling), not only the stream's.
  formatChanged: (core, f) => {
    if (core.playback.speakerFormat(f, core.active)) {
      core.send([
        fileAudioQualityChanged({
          samplingRateHz: f.sampleRateHz,
          bitDepth: f.bitDepth,
          channels: f.channels,
          audioQuality: qualityLevel(f),
        }),
      ]);
    }
    return null;
  },
  // docs/protocol.md §5.8: a track that cannot be played is reported and skipped, never stalling the queue.
  itemFailed: (core, item, reason) => {
    core.log.warn({ queueItemId: item.queueItemId, trackId: item.trackId, reason }, 'item failed to play');
    core.event('playback_error', { queue_item_id: item.queueItemId, track_id: item.trackId, reason });
    if (!core.active || !core.playback.failureIsCurrent(item)) return null;
    core.send([
      playbackError(core.queue.version, item.queueItemId, qconnect.ErrorType.TRACK_NOT_STREAMABLE),
      rendererAction(qconnect.RndrSrvrRendererAction.ActionType.NEXT),
    ]);
    return null;
  },
  availabilityChanged: (core, available) => {
    core.speakerAvailability(available);
    return null;
  },
};

/** AudioQuality level of what actually plays (docs/protocol.md §4): 16-bit ≤ 48 kHz CD, 24-bit ≤ 96 kHz HIRES_L1, above HIRES_L2. */
function qualityLevel(f: AudioFormat): number {
  if (f.bitDepth <= 16) return f.sampleRateHz <= 48_000 ? 2 : 3;
  return f.sampleRateHz <= 96_000 ? 3 : 4;
}
