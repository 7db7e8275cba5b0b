import type { Logger } from 'pino';
import type { Player } from '../../core/player.js';
import type { TrackInfo, VolumeRequest } from '../../core/player-view.js';
import type { QueueMirror } from '../../core/queue-mirror.js';
import type { EnqueueStep } from '../loop-step.js';

/** What the speaker still has to do for an intent; failures are the caller's to log or answer. */
export type Effect = Promise<void> | null;

export interface SessionPlaybackOptions {
  readonly player: Player;
  /** The session's queue mirror: what follows and precedes an item, and items by id. */
  readonly queue: Pick<QueueMirror, 'next' | 'previous' | 'find'>;
  readonly trackInfo: ((trackId: number) => Promise<TrackInfo | null>) | null;
  /** Configured ceiling, AudioQuality level 1-4. */
  readonly maxAudioQuality: number;
  readonly logger: Logger;
  readonly now: () => number;
  /** Report the new state (to Qobuz when active, and to MQTT): SessionCore decides who hears it. */
  readonly report: () => void;
  /** Publish the view only (MQTT), nothing to Qobuz. */
  readonly publish: () => void;
  /** Late answers (track info) come back to the loop through it (loop-step.ts). */
  readonly step?: EnqueueStep;
  /** `players[].volume.mode: fixed` (README "Volume modes"): MPD's volume and mute are never touched. */
  readonly volumeFixed?: boolean;
  /** `players[].volume.mode: external`: volume intents go to the amplifier's automation, never to MPD. */
  readonly volumeRequest?: (request: VolumeRequest) => void;
  /** The speaker refused a volume or mute intent and the level fell back (session-volume.ts): Qobuz hears it. */
  readonly volumeRefused?: () => void;
}
