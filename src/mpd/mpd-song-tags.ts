import type { ItemTags } from '../core/player.js';

/**
 * The MPD tags of one of our songs (issue #16, docs/protocol.md §9.4): what every MPD client
 * (mpc, Home Assistant's MPD integration, phone apps) shows for a Qobuz item. `Name` says where it
 * comes from even before the metadata arrives.
 */
export const SOURCE_NAME = 'Qobuz';

export function mpdSongTags(tags: ItemTags | null): Array<readonly [tag: string, value: string]> {
  const pairs: Array<readonly [string, string]> = [['Name', SOURCE_NAME]];
  if (!tags) return pairs;
  const add = (tag: string, value: string | number | undefined) => {
    // One MPD command is one line: control characters become spaces (as MpdClient.addTagId does).
    const raw = value === undefined ? '' : String(value);
    const text = [...raw].map((c) => (c < ' ' || c === '\u007f' ? ' ' : c)).join('').replace(/ {2,}/g, ' ').trim();
    if (text !== '') pairs.push([tag, text]);
  };
  add('Title', tags.title);
  add('Artist', tags.artist);
  add('Album', tags.album);
  add('AlbumArtist', tags.albumArtist);
  add('Track', tags.trackNumber);
  add('Date', tags.date);
  return pairs;
}

/** The Title value we write for these tags (as MPD then shows it), or undefined. */
export function mpdTitle(tags: ItemTags | null): string | undefined {
  return mpdSongTags(tags).find(([tag]) => tag === 'Title')?.[1];
}
