import type { TypedEmitter } from '../util/typed-emitter.js';

/**
 * The `VolumeControl` port: a speaker's volume that lives somewhere else than its player, e.g. a
 * Snapcast group (README "Multi-room with Snapcast", src/snapcast/). The composition root routes a
 * player's volume and mute through it, and its changes come back as the speaker's volume.
 */

export interface VolumeControlSnapshot {
  /** 0-100, null while unknown (not connected yet, nothing to follow). */
  readonly volumePercent: number | null;
  readonly muted: boolean;
  readonly available: boolean;
}

export interface VolumeControlEvents {
  [event: string]: unknown[];
  /** The volume or mute changed, by us or from outside (another Snapcast client, its web UI, Home Assistant). */
  volumeChanged: [volumePercent: number, muted: boolean];
  availabilityChanged: [available: boolean];
}

export interface VolumeControl {
  readonly events: TypedEmitter<VolumeControlEvents>;
  /** Connects in the background; never throws for an unreachable server (it retries). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Rejects with a QcbError when it cannot be applied (not connected, refused). */
  setVolume(volumePercent: number): Promise<void>;
  setMuted(muted: boolean): Promise<void>;
  snapshot(): VolumeControlSnapshot;
}
