import type { Logger } from 'pino';
import type { ItemTagsFor, StreamUrlFor } from '../core/player.js';
import { QcbError } from '../core/qcb-error.js';
import type { MpdTap } from '../core/wire-tap.js';
import type { VolumeRange } from './volume-mapping.js';

export interface MpdPlayerOptions {
  readonly host: string;
  readonly port: number;
  readonly password?: string;
  /** MPD range the Qobuz 0-100 volume maps onto (README.md "Configuration reference" `players[].volume`). */
  readonly volume: VolumeRange;
  readonly urlFor: StreamUrlFor;
  /**
   * Whether a song in MPD's queue is one we added (our stream route's `/stream/<player>/` URLs);
   * songs that are not ours are never removed (issue #16). Default: every song counts as ours.
   */
  readonly isOurs?: (uri: string) => boolean;
  /** Qobuz metadata for the tags every MPD client shows (issue #16); without it songs carry only `Name`. */
  readonly tagsFor?: ItemTagsFor;
  readonly logger: Logger;
  /** Default MPD_RECONNECT_STEPS_MS (250 ms … 5 s). */
  readonly reconnect?: { readonly stepsMs: readonly number[] };
  /** Per-command timeout, default 3000 ms. */
  readonly timeoutMs?: number;
  /** Sees every MPD command (README "Reporting a problem"). */
  readonly tap?: MpdTap;
  /** MPD's own config file, read for its outputs' formats and mixers (issue #23, `players[].mpd.config_file`); null: bit-perfectness unknown. */
  readonly configFile?: string | null;
}

/** A bad option is a bug in the composition root or a bad config: it fails at start (ERR_CONFIG_INVALID). */
export function checkMpdPlayerOptions(options: MpdPlayerOptions): void {
  if (!options.host) throw new QcbError('ERR_CONFIG_INVALID', 'MpdPlayer: host is required');
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
    throw new QcbError('ERR_CONFIG_INVALID', `MpdPlayer: port must be 1-65535, got ${options.port}`);
  }
  if (typeof options.urlFor !== 'function') throw new QcbError('ERR_CONFIG_INVALID', 'MpdPlayer: urlFor is required');
}
