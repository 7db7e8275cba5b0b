import type { MediaType } from './media-ref.js';
import type { PlayedFormat, PlayerSource } from './player.js';
import type { QueueListing } from './queue-listing.js';

/**
 * What the bridge tells the outside world (MQTT, /healthz) about one player, and what it
 * accepts from it. Field names are TypeScript's; the MQTT adapter owns the wire spelling.
 */

export interface TrackInfo {
  readonly id: number;
  readonly title: string;
  readonly artist: string | null;
  readonly album: string | null;
  readonly coverUrl: string | null;
  readonly durationMs: number | null;
  readonly sampleRateHz: number | null;
  readonly bitDepth: number | null;
}

export type ViewPlaybackState = 'playing' | 'paused' | 'stopped' | 'idle';
/** `expired`: the session ended because the app's WebSocket token ran out (README "MQTT topics"). */
type QobuzSessionState = 'active' | 'connected' | 'disconnected' | 'expired';
export type RepeatMode = 'off' | 'one' | 'all';

export interface PlayerView {
  readonly state: ViewPlaybackState;
  readonly qobuzSession: QobuzSessionState;
  readonly volume: number;
  readonly muted: boolean;
  readonly positionMs: number;
  /** Epoch ms at which `positionMs` held. */
  readonly positionAtMs: number;
  readonly durationMs: number | null;
  readonly shuffle: boolean;
  readonly repeat: RepeatMode;
  readonly track: TrackInfo | null;
  /** What the speaker plays now and whether it is bit-perfect (issue #23, README "The true format"); null when nothing plays. */
  readonly format?: PlayedFormat | null;
  readonly queue: { readonly length: number; readonly index: number | null };
  /** False while the player's backend (MPD) is unreachable. */
  readonly available: boolean;
  /** Whose music the speaker plays: `other` once another MPD client took it (issue #16); absent means `qobuz`. */
  readonly source?: PlayerSource;
}

/** One Qobuz command or session event, in the order it happened (MQTT `event` topic). */
export interface SessionEvent {
  readonly type:
    | 'set_state'
    | 'set_volume'
    | 'set_active'
    | 'set_loop_mode'
    | 'set_shuffle_mode'
    | 'set_max_audio_quality'
    | 'set_mute'
    | 'queue_updated'
    // One per Qobuz queue message (README "MQTT topics", issue #14).
    | 'queue_loaded'
    | 'tracks_added'
    | 'tracks_inserted'
    | 'tracks_removed'
    | 'tracks_reordered'
    | 'queue_cleared'
    | 'shuffle_changed'
    | 'autoplay_changed'
    | 'session_connected'
    | 'session_closed'
    // README "Own Qobuz identity": Qobuz started playing here, stopped because its session ended, or moved to another device.
    | 'session_started'
    | 'session_ended'
    | 'session_taken_over'
    | 'playback_error'
    | 'command';
  readonly atMs: number;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** A command from Home Assistant or any automation; several keys may arrive together. */
export interface PlayerCommand {
  readonly action?: 'play' | 'pause' | 'toggle' | 'stop' | 'next' | 'previous';
  readonly seekMs?: number;
  readonly volume?: number;
  readonly muted?: boolean;
  /** README "Volume modes", `external`: the amplifier's real level, reported by its automation. */
  readonly volumeReport?: number;
  readonly shuffle?: boolean;
  readonly repeat?: RepeatMode;
  // Queue verbs (issue #14), sent as a controller on the player's own link.
  /** Jump to this queue item. */
  readonly playItem?: number;
  /** Append an album, playlist or track, or insert it after the current item (`next`). */
  readonly queueAdd?: { readonly kind: QueueSourceKind; readonly id: string; readonly next: boolean };
  readonly queueClear?: true;
  // ---- the player's own Qobuz identity (README "Own Qobuz identity"); each goes alone ----
  /** Load an album, playlist or track as the new queue and play it here. */
  readonly playMedia?: { readonly type: MediaType; readonly id: string; readonly shuffle: boolean };
  /** Take over what the account plays on another device, where it is. */
  readonly transfer?: true;
  /** Record this player's wire traffic or stop (README "Reporting a problem"); goes alone, handled by the bridge. */
  readonly record?: boolean;
}

/** What `queue_add` can name (the Qobuz catalogue kinds with track lists). */
export type QueueSourceKind = 'album' | 'playlist' | 'track';

/** Carries commands to a player; rejects with a QcbError (e.g. ERR_NO_SESSION) when it cannot. */
export type CommandSink = (playerId: string, command: PlayerCommand) => Promise<void>;

/** The outward port the MQTT adapter implements. */
export interface StatePublisher {
  publishState(playerId: string, view: PlayerView): void;
  publishEvent(playerId: string, event: SessionEvent): void;
  publishAvailability(playerId: string, online: boolean): void;
  /** The queue listing, retained (issue #14); optional so that publishers without a queue topic need not care. */
  publishQueue?(playerId: string, listing: QueueListing): void;
  /** README "Volume modes", `external`: a volume intent for the amplifier's automation. */
  publishVolumeRequest?(playerId: string, request: VolumeRequest): void;
}

/** `B/<player>/volume/request`: the target level (0-100), and the delta when the app sent one. */
export interface VolumeRequest {
  readonly volume: number;
  readonly delta: number | null;
  readonly source: 'qobuz' | 'mqtt';
}
