import type { AudioFormat, PlaybackStatus, PlayableItem, PlayedFormat, PlayerSnapshot } from '../core/player.js';
import { positionAt, positionJumped } from '../core/position-clock.js';
import type { MpdAudioConfig } from './mpd-audio-config.js';
import type { MpdStatus } from './mpd-status.js';
import { playedFormat, samePlayed } from './played-format.js';
import type { VolumeMapping } from './volume-mapping.js';

/**
 * What MpdPlayer believes about the speaker, and the pure rules that fold an MPD
 * `status` into it (position clock, buffering, format, volume seen from outside).
 * Kept apart from the MPD calls so the rules are testable without a daemon.
 */

/** MPD has no read timeout: `state: play` with `elapsed` stuck means a stalled stream (docs/protocol.md §9.2). */
const STALL_AFTER_MS = 1500;

export interface StatusEffects {
  readonly format: PlayedFormat | null;
  readonly volume: { readonly percent: number; readonly muted: boolean } | null;
}

export class MpdPlayerState {
  status: PlaybackStatus = 'stopped';
  positionMs = 0;
  atMs = Date.now();
  durationMs: number | null = null;
  format: PlayedFormat | null = null;
  /** MPD's own config (`players[].mpd.config_file`) and its enabled outputs: what bit-perfectness is judged from (played-format.ts). */
  audioConfig: MpdAudioConfig | null = null;
  enabledOutputs: readonly string[] | null = null;
  volumePercent: number | null = null;
  /** The MPD volume we set or last saw; a different one in `status` came from outside. */
  mpdVolume: number | null = null;
  muted = false;
  unmuteMpdVolume: number | null = null;
  /** Loaded but not started: MPD cannot pause a song it never started, so it stays stopped and we report paused here. */
  pendingStartMs: number | null = null;
  /** `elapsed` (s) that must be passed before audio counts as flowing; null = not buffering. */
  bufferFromSec: number | null = null;
  /** Audio of the current item has flowed at least once (tells a natural advance from a skip past a failure). */
  currentStarted = false;
  currentFailed = false;
  #lastElapsed: { sec: number; at: number } | null = null;

  constructor(private readonly volume: VolumeMapping) {}

  get buffering(): boolean {
    return this.status === 'playing' && this.bufferFromSec !== null;
  }

  /** A new item is about to play (load, or a window restored after a reconnect). */
  resetTrack(): void {
    this.currentStarted = false;
    this.currentFailed = false;
    this.bufferFromSec = null;
    this.pendingStartMs = null;
    this.durationMs = null;
    this.#lastElapsed = null;
  }

  /** Audio is about to start at `positionMs`: buffering until `elapsed` moves past it. */
  startBuffering(positionMs: number): void {
    this.bufferFromSec = positionMs / 1000;
    this.pendingStartMs = null;
    this.#lastElapsed = null;
  }

  /** Position now, extrapolated while audio flows (the one clock rule, src/core/position-clock.ts). */
  positionAt(nowMs: number): number {
    return positionAt(this, nowMs);
  }

  snapshot(current: PlayableItem | null, available: boolean, settled: boolean): PlayerSnapshot {
    return {
      status: this.status,
      positionMs: this.positionMs,
      atMs: this.atMs,
      durationMs: this.durationMs,
      current,
      buffering: this.buffering,
      settled,
      volumePercent: this.volumePercent,
      muted: this.muted,
      format: this.format,
      available,
    };
  }

  /** Folds one MPD status in; returns what changed that deserves its own event. */
  apply(st: MpdStatus, nowMs: number): StatusEffects {
    if (this.pendingStartMs !== null && st.state === 'stop') {
      this.status = 'paused';
      this.positionMs = this.pendingStartMs;
    } else {
      this.pendingStartMs = null;
      this.status = st.state === 'play' ? 'playing' : st.state === 'pause' ? 'paused' : 'stopped';
      if (st.elapsedSec !== null) this.positionMs = Math.round(st.elapsedSec * 1000);
      else if (this.status === 'stopped') this.positionMs = 0;
    }
    this.atMs = nowMs;
    if (st.durationSec !== null) this.durationMs = Math.round(st.durationSec * 1000);
    this.#trackFlow(st, nowMs);
    return { format: this.#observeFormat(st.audio, st.volume), volume: this.#observeVolume(st.volume) };
  }

  /** A Qobuz-scale volume asked for. Setting a volume also unmutes: the app's slider moves from the muted level. */
  wantVolume(volumePercent: number): void {
    this.mpdVolume = this.volume.toMpd(volumePercent);
    this.volumePercent = Math.min(100, Math.max(0, Math.round(volumePercent)));
    this.muted = false;
    this.unmuteMpdVolume = null;
  }

  /**
   * What `wantVolume`/`wantMuted` change, to put back when MPD refuses the `setvol` (`No mixer`):
   * the snapshot must keep saying what the mixer has, not what was asked.
   */
  volumeMark(): () => void {
    const { mpdVolume, volumePercent, muted, unmuteMpdVolume } = this;
    return () => Object.assign(this, { mpdVolume, volumePercent, muted, unmuteMpdVolume });
  }

  /** Mute (keeping the volume to restore) or unmute; false when it already is. */
  wantMuted(muted: boolean): boolean {
    if (this.muted === muted) return false;
    if (muted) {
      this.unmuteMpdVolume = this.mpdVolume;
      this.mpdVolume = this.volume.mutedMpdVolume;
    } else {
      this.mpdVolume = this.unmuteMpdVolume ?? this.volume.toMpd(this.volumePercent ?? 100);
      this.unmuteMpdVolume = null;
    }
    this.muted = muted;
    return true;
  }

  /** MPD went away: freeze the clock at the moment of the loss. */
  freeze(nowMs: number): void {
    this.positionMs = this.positionAt(nowMs);
    this.atMs = nowMs;
    this.bufferFromSec = null;
    this.#lastElapsed = null;
  }

  #trackFlow(st: MpdStatus, nowMs: number): void {
    if (st.state !== 'play') {
      this.#lastElapsed = null;
      return;
    }
    const elapsed = st.elapsedSec ?? 0;
    if (this.bufferFromSec !== null) {
      if (elapsed > this.bufferFromSec + 0.02) {
        this.bufferFromSec = null;
        this.currentStarted = true;
      }
    } else if (
      this.#lastElapsed &&
      elapsed <= this.#lastElapsed.sec &&
      nowMs - this.#lastElapsed.at >= STALL_AFTER_MS
    ) {
      this.bufferFromSec = elapsed;
    }
    if (!this.#lastElapsed || elapsed !== this.#lastElapsed.sec)
      this.#lastElapsed = { sec: elapsed, at: nowMs };
  }

  /** `audio:` is the decoder's format; what the outputs make of it (and of the volume) is played-format.ts's. */
  #observeFormat(audio: AudioFormat | null, mpdVolume: number | null): PlayedFormat | null {
    if (audio === null) return null;
    const played = playedFormat(audio, this.audioConfig, this.enabledOutputs, mpdVolume);
    if (samePlayed(played, this.format)) return null;
    this.format = played;
    return played;
  }

  #observeVolume(mpdVolume: number | null): StatusEffects['volume'] {
    if (mpdVolume === null || mpdVolume === this.mpdVolume) return null;
    this.mpdVolume = mpdVolume;
    if (this.muted && mpdVolume === this.volume.mutedMpdVolume) return null;
    this.muted = false;
    this.unmuteMpdVolume = null;
    this.volumePercent = this.volume.toPercent(mpdVolume);
    return { percent: this.volumePercent, muted: false };
  }
}

/** Whether `next` differs from `prev` enough for a `stateChanged` (README.md "MQTT topics": position only on change). */
export function snapshotChanged(prev: PlayerSnapshot | null, next: PlayerSnapshot): boolean {
  if (prev === null) return true;
  if (
    prev.status !== next.status ||
    prev.buffering !== next.buffering ||
    prev.available !== next.available ||
    prev.source !== next.source ||
    prev.settled !== next.settled ||
    prev.durationMs !== next.durationMs ||
    prev.current?.queueItemId !== next.current?.queueItemId
  ) {
    return true;
  }
  return positionJumped(prev, next);
}
