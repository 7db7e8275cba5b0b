import { z } from 'zod';
import type { TrackInfo } from '../core/player-view.js';

/**
 * Parsers for the Qobuz answers we use (docs/protocol.md §7), outside input parsed with
 * zod. Unknown keys are dropped; only what the bridge needs is required.
 */

const named = z.object({ name: z.string() }).nullish();

export const trackAnswer = z.object({
  id: z.number().int(),
  title: z.string(),
  version: z.string().nullish(),
  duration: z.number().nullish(),
  track_number: z.number().int().nullish(),
  performer: named,
  artist: named,
  album: z
    .object({
      title: z.string().nullish(),
      release_date_original: z.string().nullish(),
      image: z
        .object({ small: z.string().nullish(), thumbnail: z.string().nullish(), large: z.string().nullish() })
        .nullish(),
      artist: named,
    })
    .nullish(),
  streamable: z.boolean().nullish(),
  hires_streamable: z.boolean().nullish(),
  maximum_sampling_rate: z.number().nullish(),
  maximum_bit_depth: z.number().nullish(),
});

export const fileUrlAnswer = z.object({
  url: z.string().nullish(),
  format_id: z.number().int().nullish(),
  mime_type: z.string().nullish(),
  sampling_rate: z.number().nullish(),
  bit_depth: z.number().nullish(),
  n_channels: z.number().nullish(),
  duration: z.number().nullish(),
  sample: z.boolean().nullish(),
  status: z.string().nullish(),
  message: z.string().nullish(),
  restrictions: z.array(z.object({ code: z.string() })).nullish(),
});

export type FileUrlAnswer = z.infer<typeof fileUrlAnswer>;

/** Track metadata: TrackInfo for the player view plus what the catalogue offers at best. */
export interface QobuzTrack {
  /** `sampleRateHz`/`bitDepth` hold the catalogue maximum until the session knows what is served. */
  readonly info: TrackInfo;
  readonly maxSamplingRateHz: number | null;
  readonly maxBitDepth: number | null;
  readonly streamable: boolean;
  readonly hiresStreamable: boolean;
  /** For MPD's tags (issue #16): the album's main artist, the track's number on it, the release date. */
  readonly albumArtist: string | null;
  readonly trackNumber: number | null;
  readonly releaseDate: string | null;
}

export function toQobuzTrack(answer: z.infer<typeof trackAnswer>): QobuzTrack {
  const maxSamplingRateHz = khzToHz(answer.maximum_sampling_rate);
  const maxBitDepth = answer.maximum_bit_depth ?? null;
  const version = answer.version?.trim();
  const image = answer.album?.image;
  return {
    info: {
      id: answer.id,
      title: version ? `${answer.title} (${version})` : answer.title,
      artist: answer.performer?.name ?? answer.artist?.name ?? answer.album?.artist?.name ?? null,
      album: answer.album?.title ?? null,
      coverUrl: image?.large ?? image?.small ?? image?.thumbnail ?? null,
      durationMs: answer.duration == null ? null : Math.round(answer.duration * 1000),
      sampleRateHz: maxSamplingRateHz,
      bitDepth: maxBitDepth,
    },
    maxSamplingRateHz,
    maxBitDepth,
    streamable: answer.streamable ?? true,
    hiresStreamable: answer.hires_streamable ?? false,
    albumArtist: answer.album?.artist?.name ?? null,
    trackNumber: answer.track_number ?? null,
    releaseDate: answer.album?.release_date_original ?? null,
  };
}

/** Qobuz gives rates in kHz, maybe fractional (44.1, 88.2). */
export function khzToHz(khz: number | null | undefined): number | null {
  return khz == null ? null : Math.round(khz * 1000);
}

/**
 * Restriction codes that only explain a lower format than asked; the URL is still a full
 * track. Anything else (TrackRestrictedByRightHolders, sample-only…) is a refusal.
 */
const INFORMATIONAL_RESTRICTIONS = new Set(['FormatRestrictedByFormatAvailability']);

/** Why this getFileUrl answer is not a playable full track, or null when it is. */
export function refusalReason(answer: FileUrlAnswer): string | null {
  if (answer.status === 'error') return answer.message ?? 'status error';
  const blocking = (answer.restrictions ?? [])
    .map((r) => r.code)
    .filter((c) => !INFORMATIONAL_RESTRICTIONS.has(c));
  if (blocking.length > 0) return `restricted: ${blocking.join(', ')}`;
  if (answer.sample) return 'sample only';
  if (!answer.url) return 'no url';
  return null;
}

/** Expiry of a signed CDN URL: its `etsp` parameter (epoch s) when present (§7 "URL lifetime"). */
export function urlExpiryMs(url: string, nowMs: number, defaultLifetimeMs: number): number {
  try {
    const etsp = Number(new URL(url).searchParams.get('etsp'));
    if (Number.isFinite(etsp) && etsp > 0) return etsp * 1000;
  } catch {
    // not a URL: fall through to the default lifetime
  }
  return nowMs + defaultLifetimeMs;
}

/** What may be logged of a signed URL: host and path, never the query (it holds the signature). */
export function loggableUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return '(unparseable url)';
  }
}

/** `qws/createToken` (docs/protocol.md §8): `{"jwt_qws": {"jwt", "exp", "endpoint"}}`, exp in epoch seconds. */
export const qwsTokenAnswer = z.object({
  jwt_qws: z.object({ jwt: z.string().min(1), exp: z.number(), endpoint: z.string().min(1) }),
});

/**
 * `album/get` and `playlist/get?extra=tracks` (docs/protocol.md §8): only the track ids and the
 * paging counters matter to us. Long playlists come in pages of `limit` from `offset`.
 */
const trackPage = z.object({
  offset: z.number().int().nonnegative().nullish(),
  limit: z.number().int().nullish(),
  total: z.number().int().nonnegative().nullish(),
  items: z.array(z.object({ id: z.number().int().positive() })),
});
export const tracksAnswer = z.object({
  id: z.union([z.string(), z.number()]),
  title: z.string().nullish(),
  name: z.string().nullish(),
  tracks_count: z.number().int().nonnegative().nullish(),
  tracks: trackPage.nullish(),
});
export type TracksAnswer = z.infer<typeof tracksAnswer>;
