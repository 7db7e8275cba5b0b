/**
 * Maps the Qobuz 0-100 volume linearly onto the player's MPD range `volume.min..max`
 * (README.md "Configuration reference": `players[].volume.min`, `max`) and back.
 *
 * With a range narrower than 100 steps, several Qobuz values share one MPD value, so a
 * plain inverse would turn the 37 the app sent into 36 when MPD echoes it back. The
 * mapping remembers the last value it sent and gives that exact percentage back for the
 * same MPD volume: setting a volume and reading it back is stable.
 */
export interface VolumeRange {
  readonly min: number;
  readonly max: number;
  /** `fixed`, `external` or `snapcast` (README "Volume modes"): MPD's volume is not ours; we never set it back on reconnect. */
  readonly mode?: string;
}

export class VolumeMapping {
  readonly #min: number;
  readonly #max: number;
  #last: { percent: number; mpd: number } | null = null;
  /** MPD's volume is never ours to set (README "Volume modes", `fixed`). */
  readonly fixed: boolean;

  constructor(range: VolumeRange) {
    this.fixed = range.mode === 'fixed' || range.mode === 'external' || range.mode === 'snapcast';
    const min = Math.round(range.min);
    const max = Math.round(range.max);
    if (!(min >= 0 && max <= 100 && min < max)) {
      throw new RangeError(`volume range must satisfy 0 <= min < max <= 100, got ${range.min}..${range.max}`);
    }
    this.#min = min;
    this.#max = max;
  }

  /** The MPD volume muting sets. */
  get mutedMpdVolume(): number {
    return this.#min;
  }

  /** Qobuz percent -> MPD volume; remembers the pair for `toPercent`. */
  toMpd(percent: number): number {
    const p = clamp(Math.round(percent), 0, 100);
    const mpd = Math.round(this.#min + (p * (this.#max - this.#min)) / 100);
    this.#last = { percent: p, mpd };
    return mpd;
  }

  /** MPD volume -> Qobuz percent (values outside min..max clamp to 0 or 100). */
  toPercent(mpdVolume: number): number {
    if (this.#last !== null && this.#last.mpd === mpdVolume) return this.#last.percent;
    const v = clamp(mpdVolume, this.#min, this.#max);
    return clamp(Math.round(((v - this.#min) * 100) / (this.#max - this.#min)), 0, 100);
  }
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}
