/**
 * What `play_media` names (README "Own Qobuz identity"): a Qobuz album, playlist or track, by id
 * or by the link the Qobuz apps share. The one place such text is read, for the MQTT command and
 * Home Assistant's "Play Qobuz" text entity alike.
 */

export const MEDIA_TYPES = ['album', 'playlist', 'track'] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

export interface MediaRef {
  readonly type: MediaType;
  readonly id: string;
}

/** Album ids are letters and digits (`0060254735180`, `bc0j5ycnyj7xb`); playlist and track ids are numbers. */
const ID_PATTERN: Record<MediaType, RegExp> = {
  album: /^[A-Za-z0-9]{1,64}$/,
  playlist: /^[0-9]{1,20}$/,
  track: /^[0-9]{1,20}$/,
};

/** Path words of the Qobuz web player (`/album/<id>`) and of the store (`/fr-fr/album/<slug>/<id>`, `/playlists/<slug>/<id>`). */
const PATH_TYPES: Readonly<Record<string, MediaType>> = {
  album: 'album',
  playlist: 'playlist',
  playlists: 'playlist',
  track: 'track',
};

/** True for an id of that type as Qobuz spells it. */
export function isMediaId(type: MediaType, id: string): boolean {
  return ID_PATTERN[type].test(id);
}

/**
 * `album:0060254735180`, `playlist:123`, `track:456`, or a Qobuz link such as
 * `https://play.qobuz.com/album/0060254735180`, `https://open.qobuz.com/playlist/123` or a store
 * page `https://www.qobuz.com/gb-en/album/some-title/0060254735180`. Null when it is none of them.
 */
export function parseMediaRef(text: string): MediaRef | null {
  const s = text.trim();
  const short = /^(?:qobuz:)?(album|playlist|track):([^\s/:]+)$/i.exec(s);
  if (short) return checked(short[1]!.toLowerCase() as MediaType, short[2]!);
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `https://${s}`);
  } catch {
    return null;
  }
  const host = url.hostname.toLowerCase();
  if (host !== 'qobuz.com' && !host.endsWith('.qobuz.com')) return null;
  const segments = url.pathname.split('/').filter((p) => p !== '');
  const at = segments.findIndex((p) => PATH_TYPES[p.toLowerCase()] !== undefined);
  if (at < 0 || at === segments.length - 1) return null;
  const type = PATH_TYPES[segments[at]!.toLowerCase()]!;
  // The id is the last segment: the web player has it right after the type, the store after a slug.
  return checked(type, decodeURIComponent(segments[segments.length - 1]!));
}

function checked(type: MediaType, id: string): MediaRef | null {
  return isMediaId(type, id) ? { type, id } : null;
}
