import type { PlayerEvents } from '../../core/player.js';
import { transportIntents } from '../intents/transport-intents.js';
import { volumeIntents } from '../intents/volume-intents.js';
import type { Outcome } from '../outcome.js';
import type { SessionCore } from '../session-core.js';

/**
 * What the speaker did, one small handler per Player event (docs/architecture.md "Where each
 * input is handled"), reported to Qobuz exactly like a command's result: a gapless track change,
 * the end of the queue, a pause or volume change made at the speaker or by another MPD client,
 * the real audio format, a failed item, the backend going away. Each hands the event to one intent
 * and returns its Outcome (src/session/intents/). Intents that describe playback read the speaker's
 * snapshot as it is when they run, never the one the event carried, and the session drops what
 * predates its newest command.
 */
export type SpeakerHandlers = {
  [K in keyof PlayerEvents as string extends K ? never : K]: (
    core: SessionCore,
    ...args: PlayerEvents[K]
  ) => Outcome;
};

export const SPEAKER_HANDLERS: SpeakerHandlers = {
  trackStarted: (core, item) => transportIntents.speakerTrackStarted(core, item),
  queueEnded: (core) => transportIntents.speakerQueueEnded(core),
  stateChanged: (core) => transportIntents.speakerStateChanged(core),
  previousRequested: (core) => transportIntents.speakerRestarted(core),
  previousStarted: (core, item) => transportIntents.speakerMovedBack(core, item),
  volumeChanged: (core, volumePercent, muted) => volumeIntents.speakerChanged(core, volumePercent, muted),
  formatChanged: (core, f) => transportIntents.formatChanged(core, f),
  itemFailed: (core, item, reason) => transportIntents.itemFailed(core, item, reason),
  availabilityChanged: (core, available) => core.decide(() => core.speakerAvailability(available)),
};
