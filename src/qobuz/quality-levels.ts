import type { MaxQuality } from '../core/product.js';
/**
 * QConnect audio quality levels and Qobuz format ids (docs/protocol.md §7 "format_id"):
 * level 1 → 5 (MP3 320), 2 → 6 (FLAC 16/44.1), 3 → 7 (FLAC 24 ≤ 96 kHz), 4 → 27 (FLAC 24 ≤ 192 kHz).
 * Level 5 has no known format and is treated as 4.
 */
export type QualityLevel = 1 | 2 | 3 | 4;
export type FormatId = 5 | 6 | 7 | 27;
export type { MaxQuality } from '../core/product.js';

/** Best first: the order in which getFileUrl falls back when a format is refused. */
const FORMATS_BEST_FIRST: readonly FormatId[] = [27, 7, 6, 5];

const FORMAT_BY_LEVEL: Readonly<Record<QualityLevel, FormatId>> = { 1: 5, 2: 6, 3: 7, 4: 27 };
const LEVEL_BY_QUALITY: Readonly<Record<MaxQuality, QualityLevel>> = {
  mp3: 1,
  cd: 2,
  hires_96: 3,
  hires_192: 4,
};

/** Clamps any number (a QConnect message field, maybe 0 or 5) onto a known level. */
export function clampLevel(level: number): QualityLevel {
  if (!Number.isFinite(level) || level <= 1) return 1;
  if (level >= 4) return 4;
  return Math.floor(level) as QualityLevel;
}

function formatForLevel(level: number): FormatId {
  return FORMAT_BY_LEVEL[clampLevel(level)];
}

export function levelForQuality(quality: MaxQuality): QualityLevel {
  return LEVEL_BY_QUALITY[quality];
}

/** The formats to try for a level, best first: 27 → 7 → 6 → 5 from level 4. */
export function fallbackChain(level: number): FormatId[] {
  const first = formatForLevel(level);
  return FORMATS_BEST_FIRST.slice(FORMATS_BEST_FIRST.indexOf(first));
}

export function mimeTypeForFormat(formatId: number): string {
  return formatId === 5 ? 'audio/mpeg' : 'audio/flac';
}
