import type { ItemTags, ItemTagsFor, PlayableItem, StreamUrlFor } from '../core/player.js';
import type { MpdClient } from './mpd-client.js';
import { SOURCE_NAME, mpdSongTags, mpdTitle } from './mpd-song-tags.js';
import type { MpdStatus } from './mpd-status.js';

/**
 * The window of the Qobuz queue that lives in MPD's queue: the previous item, the current one and
 * the one after it (docs/protocol.md §9.2, §9.4). MPD opens the next URL ~20 s before the current one
 * ends, so the next entry makes the change gapless; the previous entry is there so that another MPD
 * client's `previous` lands on a song we recognise. Nothing else of the Qobuz queue is in MPD. The
 * entries before and after the current one are swapped one at a time, never the current one, so our
 * own edits never interrupt what plays. URIs come only from `urlFor` (our stream route, never a
 * signed URL), and song ids are mapped back to items here, never by parsing URIs.
 */

export interface WindowEntry {
  readonly item: PlayableItem;
  readonly uri: string;
  /** MPD song id on the current connection; null until written (or after a reconnect). */
  songId: number | null;
  /** Qobuz metadata for MPD's tags (issue #16); null until it arrives (or when there is none). */
  tags: ItemTags | null;
  /** What is written to MPD for `songId`: nothing yet, only `Name` (no metadata yet), or everything. */
  tagged: 'none' | 'name' | 'full';
  /** Our tags were seen on the song after its audio started (the stream's own tags replace them then). */
  tagsKept: boolean;
}

/** The items of the window (e.g. to take MPD back after stepping aside). */
export interface WindowItems {
  readonly current: PlayableItem | null;
  readonly next: PlayableItem | null;
  readonly previous: PlayableItem | null;
}

export interface QueueWindowTagging {
  readonly tagsFor: ItemTagsFor;
  /** Tags arrived for an entry already written to MPD: the owner queues `writeTags` for it. */
  readonly arrived: (entry: WindowEntry) => void;
}

export class MpdQueueWindow {
  previous: WindowEntry | null = null;
  current: WindowEntry | null = null;
  next: WindowEntry | null = null;

  constructor(
    private readonly urlFor: StreamUrlFor,
    private readonly tagging: QueueWindowTagging | null = null,
    private readonly isOurs: (uri: string) => boolean = () => true,
  ) {}

  /** Replaces every entry (not yet written to MPD). */
  set(current: PlayableItem | null, next: PlayableItem | null, previous: PlayableItem | null = null): void {
    this.previous = current && previous ? this.#entry(previous) : null;
    this.current = current ? this.#entry(current) : null;
    this.next = current && next ? this.#entry(next) : null;
  }

  items(): WindowItems {
    return { current: this.current?.item ?? null, next: this.next?.item ?? null, previous: this.previous?.item ?? null };
  }

  /** Every entry, in MPD's order. */
  entries(): WindowEntry[] {
    return [this.previous, this.current, this.next].filter((e): e is WindowEntry => e !== null);
  }

  /** True when `next` is what the window already holds as next. */
  hasNext(next: PlayableItem | null): boolean {
    if (next === null || this.next === null) return next === this.next;
    return this.next.item.queueItemId === next.queueItemId && this.next.uri === this.urlFor(next);
  }

  /** True when `previous` is what the window already holds as previous. */
  hasPrevious(previous: PlayableItem | null): boolean {
    if (previous === null || this.previous === null) return previous === this.previous;
    return this.previous.item.queueItemId === previous.queueItemId && this.previous.uri === this.urlFor(previous);
  }

  /**
   * MPD moved on to `next`: it becomes current, and the finished entry the previous one (the
   * session swaps it when the Qobuz queue says otherwise). Returns the entry that left the window.
   */
  advance(): WindowEntry | null {
    const gone = this.previous;
    this.previous = this.current;
    this.current = this.next;
    this.next = null;
    return gone;
  }

  /**
   * Another client moved MPD back to the previous entry: it becomes current and the current one
   * next; nothing is known before it until the session says. Returns the entry that left the window.
   */
  back(): WindowEntry | null {
    const gone = this.next;
    this.next = this.current;
    this.current = this.previous;
    this.previous = null;
    if (this.current) this.current.tagsKept = false;
    return gone;
  }

  /** Song ids belong to one MPD connection. */
  forgetSongIds(): void {
    for (const entry of this.entries()) entry.songId = null;
  }

  /** The entry an MPD `error:` line is about (it quotes the URL); the current one first. */
  byError(error: string): WindowEntry | null {
    for (const entry of [this.current, this.next, this.previous]) if (entry && error.includes(entry.uri)) return entry;
    return null;
  }

  /** Makes MPD's queue exactly this window. */
  async write(client: MpdClient): Promise<void> {
    await this.removeOurs(client);
    for (const entry of this.entries()) await this.#add(client, entry);
  }

  /**
   * Empties MPD's queue of our songs only: songs another client added stay, in their order
   * (issue #16). One `clear` when the queue holds nothing else.
   */
  async removeOurs(client: MpdClient): Promise<void> {
    const songs = await client.playlistInfo();
    if (songs.every((song) => this.isOurs(song.file))) {
      if (songs.length > 0) await client.clear();
      return;
    }
    for (const song of songs) if (this.isOurs(song.file)) await client.deleteId(song.id);
  }

  /** True while `entry` is one of the window's entries. */
  holds(entry: WindowEntry): boolean {
    return entry === this.previous || entry === this.current || entry === this.next;
  }

  /**
   * Writes the entry's tags onto its MPD song (docs/protocol.md §9.4: `addtagid` on URL songs), set
   * before the song plays and kept after. Once the full set is there, nothing is added twice.
   */
  async writeTags(client: MpdClient, entry: WindowEntry, again = false): Promise<void> {
    if (entry.songId === null || !this.holds(entry)) return;
    if (!again && (entry.tagged === 'full' || (!entry.tags && entry.tagged === 'name'))) return;
    // `addtagid` adds a value, and the stream's own tags may be there by now: start from none.
    if (entry.tagged !== 'none' || again) await client.clearTagId(entry.songId);
    entry.tagged = entry.tags ? 'full' : 'name';
    for (const [tag, value] of mpdSongTags(entry.tags)) await client.addTagId(entry.songId, tag, value);
  }

  /** Swaps only the entry after the current one. */
  async writeNext(client: MpdClient, next: PlayableItem | null): Promise<void> {
    const old = this.next;
    this.next = this.current && next ? this.#entry(next) : null;
    if (old?.songId != null) await client.deleteId(old.songId).catch(() => {});
    if (!this.next || this.current?.songId == null) return;
    const pos = await this.#currentPos(client);
    await this.#add(client, this.next, pos === undefined ? undefined : pos + 1);
  }

  /**
   * Swaps only the entry before the current one. MPD keeps playing the current song and keeps the
   * next one it may have opened already: an edit before the current song changes neither.
   */
  async writePrevious(client: MpdClient, previous: PlayableItem | null): Promise<void> {
    const old = this.previous;
    this.previous = this.current && previous ? this.#entry(previous) : null;
    if (old?.songId != null) await client.deleteId(old.songId).catch(() => {});
    if (!this.previous || this.current?.songId == null) return;
    const pos = await this.#currentPos(client);
    // The current song is gone from MPD's queue (another client's edit): nothing to put it before.
    if (pos === undefined) return;
    await this.#add(client, this.previous, pos);
  }

  async #currentPos(client: MpdClient): Promise<number | undefined> {
    const songs = await client.playlistInfo();
    return songs.find((s) => s.id === this.current?.songId)?.pos;
  }

  /**
   * While the current song's audio starts: MPD 0.23 replaces a URL song's tags with the stream's own
   * (a Qobuz FLAC's Vorbis comments) when the decoder reads them, so ours are put back once
   * (docs/protocol.md §9.4). Our `Name` tag tells whether they are still there.
   */
  async keepTags(client: MpdClient, settled: boolean): Promise<void> {
    const entry = this.current;
    if (!entry || entry.songId === null || entry.tagsKept) return;
    const song = await client.currentSong();
    if (song?.id !== entry.songId) return;
    // MPD applies the stream's tags when their audio plays, about when `elapsed` starts to move:
    // watched until `settled` (well into the song), or until they came and ours are back. They
    // either replace ours or are merged in front of them.
    // Replaced (no `Name`) or merged (the stream's Title first, ours after it).
    const ours = song.name === SOURCE_NAME && (entry.tagged !== 'full' || song.title === mpdTitle(entry.tags));
    if (ours) {
      entry.tagsKept = settled;
      return;
    }
    entry.tagsKept = true;
    await this.writeTags(client, entry, true);
  }

  async #add(client: MpdClient, entry: WindowEntry, pos?: number): Promise<void> {
    entry.songId = await client.addId(entry.uri, pos);
    entry.tagged = 'none';
    entry.tagsKept = false;
    await this.writeTags(client, entry);
  }

  /**
   * After a reconnect to an MPD that kept running: when its queue is still exactly this
   * window, take over its song ids instead of restarting the audio.
   */
  async adopt(client: MpdClient, status: MpdStatus): Promise<boolean> {
    if (!this.current) return false;
    const songs = await client.playlistInfo();
    const wanted = this.entries();
    if (songs.length !== wanted.length || songs.some((s, i) => s.file !== wanted[i]?.uri)) return false;
    if (status.songId !== songs[wanted.indexOf(this.current)]?.id) return false;
    wanted.forEach((e, i) => {
      e.songId = songs[i]?.id ?? null;
      // MPD kept the songs and the tags we gave them; add what arrived while it was away.
      e.tagged = songs[i]?.title !== undefined ? 'full' : 'name';
    });
    return true;
  }

  #entry(item: PlayableItem): WindowEntry {
    const entry: WindowEntry = { item, uri: this.urlFor(item), songId: null, tags: null, tagged: 'none', tagsKept: false };
    // Never blocks the load: the tags are added when they arrive, if the song is still in the window.
    this.tagging
      ?.tagsFor(item)
      .then((tags) => {
        if (!tags) return;
        entry.tags = tags;
        if (entry.songId !== null && this.holds(entry)) this.tagging?.arrived(entry);
      })
      .catch(() => {});
    return entry;
  }
}
