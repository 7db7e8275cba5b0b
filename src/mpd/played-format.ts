import type { AudioFormat, PlayedFormat } from '../core/player.js';
import type { MpdAudioConfig, MpdOutputSettings } from './mpd-audio-config.js';

/**
 * What MPD's DAC gets, from what the decoder reads (`audio:`), MPD's config and its volume
 * (issue #23, README "The true format"; docs/architecture.md "The true format"). Pure.
 *
 * Bit-perfect means every enabled output gets exactly the stream's samples: no output or global
 * `format` that changes rate, depth or channels, no software mixer below 100 %, no replay gain or
 * volume normalisation, no lossy encoder. Without MPD's config it is unknown (null), never guessed.
 */

/** Encoders whose output is not the samples that went in. */
const LOSSY_ENCODERS = new Set(['vorbis', 'lame', 'twolame', 'shine', 'opus', 'aac', 'mp3']);

export function playedFormat(
  stream: AudioFormat,
  config: MpdAudioConfig | null,
  /** Names of the outputs MPD has enabled now (`outputs`), null when not read. */
  enabledOutputs: readonly string[] | null,
  /** MPD's `volume:`, null without a mixer. */
  mpdVolume: number | null,
): PlayedFormat {
  if (config === null) return { ...stream, stream, bitPerfect: null };
  const outputs = config.outputs.filter((o) =>
    enabledOutputs === null ? o.enabled : o.name !== null && enabledOutputs.includes(o.name),
  );
  if (outputs.length === 0) return { ...stream, stream, bitPerfect: null };
  const why: string[] = [];
  const global = applyFormat(stream, config.audioOutputFormat);
  if (global === null) return { ...stream, stream, bitPerfect: null };
  if (!sameAudio(global, stream)) why.push(`converted to ${describe(global)} by audio_output_format`);
  if (config.replayGain !== null && config.replayGain.toLowerCase() !== 'off') why.push(`replay gain (${config.replayGain})`);
  if (config.volumeNormalization) why.push('volume normalization');
  let first: AudioFormat | null = null;
  for (const o of outputs) {
    const out = applyFormat(global, o.format);
    if (out === null) return { ...stream, stream, bitPerfect: null };
    first ??= out;
    const label = o.name === null ? 'an output' : `output "${o.name}"`;
    if (!sameAudio(out, global)) why.push(`converted to ${describe(out)} by ${label}`);
    if (mixerOf(o, config) === 'software' && mpdVolume !== null && mpdVolume < 100)
      why.push(`software volume at ${mpdVolume} % on ${label}`);
    if (o.encoder !== null && LOSSY_ENCODERS.has(o.encoder.toLowerCase())) why.push(`lossy encoder ${o.encoder} on ${label}`);
  }
  const output = first ?? global;
  return why.length === 0
    ? { ...output, stream, bitPerfect: true }
    : { ...output, stream, bitPerfect: false, notBitPerfect: why };
}

function mixerOf(o: MpdOutputSettings, config: MpdAudioConfig): string {
  return (o.mixerType ?? config.mixerType ?? 'hardware').toLowerCase();
}

/**
 * An MPD format mask (`44100:16:2`, `48000:*:*`, `*:24:*`, `f` for float) applied to `f`; null when
 * the mask is one we cannot read (DSD, `dsd64:2`), so nothing is claimed about it.
 */
export function applyFormat(f: AudioFormat, mask: string | null): AudioFormat | null {
  if (mask === null || mask.trim() === '') return f;
  const parts = mask.trim().split(':');
  if (parts.length !== 3) return null;
  const [rate = '', bits = '', channels = ''] = parts;
  const field = (s: string, own: number, read: (s: string) => number | null): number | null => (s === '*' ? own : read(s));
  const sampleRateHz = field(rate, f.sampleRateHz, positive);
  const bitDepth = field(bits, f.bitDepth, (s) => (s === 'f' ? 32 : s === '24_3' ? 24 : positive(s)));
  const ch = field(channels, f.channels, positive);
  if (sampleRateHz === null || bitDepth === null || ch === null) return null;
  return { sampleRateHz, bitDepth, channels: ch };
}

function positive(s: string): number | null {
  return /^\d+$/.test(s) && Number(s) > 0 ? Number(s) : null;
}

function sameAudio(a: AudioFormat, b: AudioFormat): boolean {
  return a.sampleRateHz === b.sampleRateHz && a.bitDepth === b.bitDepth && a.channels === b.channels;
}

/** `24-bit / 96 kHz`, `16-bit / 44.1 kHz` (as the Audio format sensor shows it). */
function describe(f: AudioFormat): string {
  return `${f.bitDepth}-bit / ${f.sampleRateHz / 1000} kHz${f.channels === 2 ? '' : ` / ${f.channels} ch`}`;
}

/** Same output, stream and verdict: no new formatChanged. */
export function samePlayed(a: PlayedFormat | null, b: PlayedFormat | null): boolean {
  if (a === null || b === null) return a === b;
  return (
    sameAudio(a, b) &&
    (a.stream === undefined || b.stream === undefined ? a.stream === b.stream : sameAudio(a.stream, b.stream)) &&
    (a.bitPerfect ?? null) === (b.bitPerfect ?? null) &&
    (a.notBitPerfect ?? []).join('\n') === (b.notBitPerfect ?? []).join('\n')
  );
}
