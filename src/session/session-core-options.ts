import type { Logger } from 'pino';
import type { PlayableItem, Player } from '../core/player.js';
import type { StatePublisher, TrackInfo } from '../core/player-view.js';
import type { DeviceInfoValue } from '../protocol/renderer-messages.js';
import type { EnqueuePartInput, StepGuard } from './loop-step.js';
import type { QueueListingTuning } from './queue/queue-publisher.js';

/** What a SessionCore (session-core.ts) is built with. */
export interface SessionCoreOptions {
  readonly playerId: string;
  readonly device: DeviceInfoValue;
  readonly joinMode: 'controller' | 'renderer';
  /** Configured ceiling, AudioQuality level 1-4. */
  readonly maxAudioQuality: number;
  readonly player: Player;
  readonly publisher: StatePublisher | null;
  readonly trackInfo: ((trackId: number) => Promise<TrackInfo | null>) | null;
  /** Items of the current queue (stream tokens of items that left it die: README "HTTP endpoints"). */
  readonly onQueueItems: ((items: readonly PlayableItem[]) => void) | null;
  readonly logger: Logger;
  readonly now: () => number;
  /** The MQTT queue listing's lookup rate and publish timing (issue #14); defaults suit production. */
  readonly queueListing?: QueueListingTuning;
  /** README "Volume modes", `external`: volume intents are published for the amplifier (issue #23). */
  readonly volumeExternal?: { readonly reportTimeoutMs: number };
  /** `external`: settles when request `n` was answered by the amplifier; rejects (ERR_TIMEOUT) when not in time. Given by PlayerSession. */
  readonly awaitVolumeReport?: (n: number) => Promise<void>;
  /** Timers and late answers come back to the loop through it (loop-step.ts). Given by PlayerSession. */
  readonly step?: EnqueuePartInput;
  /** Development mode: every write asserts that a loop step runs (loop-step.ts). Given by PlayerSession. */
  readonly guard?: StepGuard;
}
