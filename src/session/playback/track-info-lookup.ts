import type { Logger } from 'pino';
import type { AudioFormat, PlayableItem } from '../../core/player.js';
import type { TrackInfo } from '../../core/player-view.js';
import { runNow, type EnqueuePartInput } from '../loop-step.js';

/**
 * Title, artist, album and cover of what plays (for MQTT), looked up once per track change. Part
 * of a session's state (docs/architecture.md "One owner per player"): only SessionCore calls it,
 * the answer comes back as an input of the loop ('track-info'), and a late answer for a track that
 * no longer plays is dropped.
 */
export class TrackInfoLookup {
  readonly #lookup: ((trackId: number) => Promise<TrackInfo | null>) | null;
  readonly #logger: Logger;
  readonly #step: EnqueuePartInput;
  #track: TrackInfo | null = null;
  #for: number | null = null;
  /** What the lookup under way does with its answer (fetch's `stillCurrent` and `arrived`). */
  #then: { stillCurrent: () => boolean; arrived: () => void } | null = null;

  constructor(
    lookup: ((trackId: number) => Promise<TrackInfo | null>) | null,
    logger: Logger,
    step: EnqueuePartInput = runNow,
  ) {
    this.#lookup = lookup;
    this.#logger = logger;
    this.#step = step;
  }

  get track(): TrackInfo | null {
    return this.#track;
  }

  /** Starts a lookup when `item` is another track; `stillCurrent` and `arrived` run when the answer comes. */
  fetch(item: PlayableItem, stillCurrent: () => boolean, arrived: () => void): void {
    if (this.#for === item.trackId) return;
    this.#for = item.trackId;
    this.#track = null;
    if (!this.#lookup) return;
    this.#then = { stillCurrent, arrived };
    const trackId = item.trackId;
    this.#lookup(trackId).then(
      (info) => this.#step({ kind: 'track-info', lookup: this, trackId, info }),
      (err: unknown) => this.#logger.warn({ err, trackId }, 'track metadata lookup failed'),
    );
  }

  /** The answer came (a 'track-info' input, in the loop); a late one, for a track that no longer plays, is dropped. */
  arrived(trackId: number, info: TrackInfo | null): void {
    const then = this.#then;
    if (this.#for !== trackId || !then?.stillCurrent()) return;
    this.#track = info;
    then.arrived();
  }

  /** The real format of what plays, as the speaker reports it. */
  format(f: AudioFormat): void {
    if (this.#track) this.#track = { ...this.#track, sampleRateHz: f.sampleRateHz, bitDepth: f.bitDepth };
  }

  forget(): void {
    this.#track = null;
    this.#for = null;
    this.#then = null;
  }
}
