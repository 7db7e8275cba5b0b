import type { Player, PlayerSnapshot } from '../../core/player.js';
import type { VolumeRequest } from '../../core/player-view.js';
import type { Effect } from './session-playback-options.js';
import { ExternalVolume } from './external-volume.js';
import { runNow, type EnqueueStep } from '../loop-step.js';

/**
 * The session's volume and mute, in the player's volume mode (README "Volume modes"): `mpd` sets
 * MPD's mixer, `fixed` refuses every volume intent, `external` publishes requests for the amplifier
 * (external-volume.ts). Part of SessionPlayback (docs/architecture.md "One owner per player").
 */
export class SessionVolume {
  readonly #player: Player;
  readonly #publish: () => void;
  /** `players[].volume.mode: fixed`: MPD's volume and mute are never touched. */
  readonly fixed: boolean;
  /** README "Volume modes", `external`; null in the other modes. */
  readonly external: ExternalVolume | null;
  readonly #step: EnqueueStep;
  readonly #refused: () => void;
  #volume = 50;
  #muted = false;
  /** What the speaker last said it has: where a refused intent falls back to. */
  #confirmed = { volume: 50, muted: false };
  /** Intents asked of the speaker so far: only the newest one's refusal falls back. */
  #asks = 0;

  constructor(o: {
    readonly player: Player;
    readonly publish: () => void;
    readonly fixed: boolean;
    readonly request: ((request: VolumeRequest) => void) | undefined;
    /** The speaker's refusal comes back to the loop through it (loop-step.ts). */
    readonly step?: EnqueueStep | undefined;
    /** A volume or mute intent was refused and fell back: Qobuz hears the level the speaker keeps. */
    readonly refused?: (() => void) | undefined;
  }) {
    this.#player = o.player;
    this.#publish = o.publish;
    this.#step = o.step ?? runNow;
    this.#refused = o.refused ?? (() => {});
    this.fixed = o.fixed;
    this.external = o.request ? new ExternalVolume(o.request) : null;
    // A fixed volume is full scale unless MPD has a mixer that says otherwise.
    if (o.fixed) this.#volume = this.#confirmed.volume = 100;
  }

  get volume(): number {
    return this.#volume;
  }
  get muted(): boolean {
    return this.#muted;
  }

  set(volume: number): Effect {
    if (this.fixed || this.external) return null;
    this.#volume = clamp(volume);
    this.#publish();
    return this.#asked(this.#player.setVolume(this.#volume));
  }

  /** `external`: the amplifier's real level came back; it is the speaker's volume from now on. */
  reported(volume: number): void {
    this.external?.report();
    this.#volume = clamp(volume);
    this.#confirmed = { volume: this.#volume, muted: this.#muted };
    this.#publish();
  }

  setMuted(muted: boolean): Effect {
    if (this.fixed) return null;
    this.#muted = muted;
    this.#publish();
    return this.#asked(this.#player.setMuted(muted));
  }

  /**
   * The speaker refused (MPD without a mixer answers `No mixer`, a Snapcast server may be away): the
   * level shown falls back, in a step of the loop, to what the speaker has, unless a newer intent
   * came since. The failure still answers the command that asked (README "Volume modes").
   */
  #asked(effect: Promise<void>): Promise<void> {
    const ask = ++this.#asks;
    return effect.catch((err: unknown) => {
      this.#step('volume refused', () => {
        if (ask !== this.#asks) return;
        const snap = this.#player.snapshot();
        this.#volume = snap.volumePercent ?? this.#confirmed.volume;
        this.#muted = snap.volumePercent === null ? this.#confirmed.muted : snap.muted;
        this.#publish();
        this.#refused();
      });
      throw err;
    });
  }

  /** Volume or mute changed at the speaker; `external`: the amplifier's report is the volume, never MPD's. */
  speaker(volumePercent: number, muted: boolean): { readonly volume: boolean; readonly muted: boolean } {
    if (this.external) return { volume: false, muted: false };
    const changed = { volume: volumePercent !== this.#volume, muted: muted !== this.#muted };
    this.#volume = volumePercent;
    this.#muted = muted;
    this.#confirmed = { volume: volumePercent, muted };
    if (changed.volume || changed.muted) this.#publish();
    return changed;
  }

  /** The speaker's first answer: volume and mute as it has them. */
  adopt(snap: PlayerSnapshot): void {
    if (this.external) return;
    if (snap.volumePercent !== null) this.#volume = snap.volumePercent;
    this.#muted = snap.muted;
    this.#confirmed = { volume: this.#volume, muted: this.#muted };
  }
}

function clamp(volume: number): number {
  return Math.max(0, Math.min(100, Math.round(volume)));
}
