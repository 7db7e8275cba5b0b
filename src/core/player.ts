import type { TypedEmitter } from '../util/typed-emitter.js';
import type { PositionClock } from './position-clock.js';

/**
 * The `Player` port: what a PlayerSession needs from a speaker backend. MPD implements it
 * (src/mpd/); tests use an in-memory one. The session never knows which.
 */

/** One entry of the Qobuz queue, as the player sees it. */
export interface PlayableItem {
  /** Qobuz queue item id (0 is valid). */
  readonly queueItemId: number;
  /** Qobuz catalogue track id. */
  readonly trackId: number;
}

export type PlaybackStatus = 'playing' | 'paused' | 'stopped';

export interface AudioFormat {
  readonly sampleRateHz: number;
  readonly bitDepth: number;
  readonly channels: number;
}

/**
 * What the speaker plays (issue #23, README "The true format"): its own fields are what leaves
 * the speaker's output (after any resampling), `stream` what the stream carries as the decoder
 * reads it, and `bitPerfect` whether the output is exactly the stream (no resampling, no software
 * volume or gain), null when the speaker cannot tell. A backend that knows no more gives only
 * the AudioFormat: the stream's and the output's are then the same, bit-perfectness unknown.
 */
export interface PlayedFormat extends AudioFormat {
  readonly stream?: AudioFormat;
  readonly bitPerfect?: boolean | null;
  /** Why not bit-perfect, in words for a user ("resampled to 44.1 kHz by output \"dac\""). */
  readonly notBitPerfect?: readonly string[];
}

/**
 * What the speaker is doing. As a PositionClock: the position in ms at `atMs`, moving with wall
 * time while playing and not buffering; `buffering` is true from a load or seek until audio flows.
 */
export interface PlayerSnapshot extends PositionClock {
  readonly status: PlaybackStatus;
  readonly durationMs: number | null;
  /** The item the player is on (loaded, playing or paused), or null. */
  readonly current: PlayableItem | null;
  /**
   * False while a transport command (load, play, pause, stop, seek) that was asked for has not
   * been applied yet: the snapshot then describes the speaker before the newest command, and the
   * session must not adopt it (docs/architecture.md "The newest intent wins").
   */
  readonly settled: boolean;
  /** Qobuz-scale volume 0-100, null when unknown. */
  readonly volumePercent: number | null;
  readonly muted: boolean;
  readonly format: PlayedFormat | null;
  /** False while the backend (MPD) is unreachable. */
  readonly available: boolean;
  /**
   * `other` while another client of the speaker plays its own music (issue #16: the player stepped
   * aside; it reports stopped with no current item until it is given an item again). Absent: `qobuz`.
   */
  readonly source?: PlayerSource;
}

export type PlayerSource = 'qobuz' | 'other';

export interface PlayerEvents {
  [event: string]: unknown[];
  /** The player moved on by itself to the item it had been given as `next` (a gapless change). */
  trackStarted: [item: PlayableItem];
  /** The current item ended and no next one was queued: the player has stopped. */
  queueEnded: [];
  /** Status, position (seek), duration or buffering changed, from us or from outside (e.g. `mpc pause`). */
  stateChanged: [snapshot: PlayerSnapshot];
  /**
   * Another client of the speaker asked for the previous song (`mpc prev`) while the speaker held
   * nothing before the current item (the first one): MPD shows it only as a restart of the current
   * song that the bridge did not ask for (docs/protocol.md §9.4).
   */
  previousRequested: [];
  /**
   * Another client of the speaker moved back to the item it had been given as `previous` (`mpc prev`
   * with our previous song before the current one in MPD's queue): it now plays from its start
   * (docs/protocol.md §9.4).
   */
  previousStarted: [item: PlayableItem];
  /** Volume or mute changed from outside the bridge (e.g. `mpc volume 20`, a hardware knob). */
  volumeChanged: [volumePercent: number, muted: boolean];
  /** The real format of what is playing (MPD `audio: 96000:24:2` through its output settings), or its bit-perfectness changed. */
  formatChanged: [format: PlayedFormat];
  /** An item could not be played (URL refused, decoder error). The player does not skip by itself. */
  itemFailed: [item: PlayableItem, reason: string];
  /** The backend became reachable or unreachable. */
  availabilityChanged: [available: boolean];
}

export interface LoadOptions {
  readonly positionMs: number;
  readonly play: boolean;
  /** What follows `item`, queued ahead of time so the change is gapless. */
  readonly next: PlayableItem | null;
  /**
   * What precedes `item` in play order, kept in the speaker so that another client's `previous`
   * lands on it (docs/protocol.md §9.4). Absent: none.
   */
  readonly previous?: PlayableItem | null;
}

export interface Player {
  readonly events: TypedEmitter<PlayerEvents>;
  /** Connects to the backend; never throws for an unreachable backend (it retries and reports availability). */
  start(): Promise<void>;
  /** Disconnects and leaves the backend paused, not cleared. */
  stop(): Promise<void>;
  /**
   * Transport commands. Each is applied in the order asked; one that a newer command makes
   * pointless before it started (a load or stop after it, a later seek after a seek, a later
   * play/pause after a play/pause) is skipped, so the speaker ends where the newest command says.
   */
  /** Replace what plays with `item` at `positionMs`. */
  load(item: PlayableItem, options: LoadOptions): Promise<void>;
  /** Change what follows the current item (queue, loop or shuffle changed). */
  setNext(next: PlayableItem | null): Promise<void>;
  /** Change what precedes the current item (queue, loop or shuffle changed, or a track change). */
  setPrevious(previous: PlayableItem | null): Promise<void>;
  play(): Promise<void>;
  pause(): Promise<void>;
  /** Stop playback and forget the current item. */
  stopPlayback(): Promise<void>;
  seek(positionMs: number): Promise<void>;
  /** Qobuz-scale volume 0-100; the backend maps it onto its own range. */
  setVolume(volumePercent: number): Promise<void>;
  /** Mute keeps the volume to restore on unmute. */
  setMuted(muted: boolean): Promise<void>;
  snapshot(): PlayerSnapshot;
  /** Resolves once every command asked so far has been applied; true when it had to wait (tests, shutdown). */
  idle(): Promise<boolean>;
}

/**
 * What other clients of the speaker show for an item (issue #16: MPD tags). Fields are absent when
 * Qobuz does not know them.
 */
export interface ItemTags {
  readonly title?: string;
  readonly artist?: string;
  readonly album?: string;
  readonly albumArtist?: string;
  readonly trackNumber?: number;
  /** As Qobuz gives it, e.g. `2019-03-01`. */
  readonly date?: string;
}

/** The tags of an item, when known; never rejects (null when unavailable). */
export type ItemTagsFor = (item: PlayableItem) => Promise<ItemTags | null>;

/** Where the player fetches an item's audio: a stable bridge URL (never a signed Qobuz URL). */
export type StreamUrlFor = (item: PlayableItem) => string;
