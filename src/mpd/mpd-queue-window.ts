import type { PlayableItem, StreamUrlFor } from '../core/player.js';
import type { MpdClient } from './mpd-client.js';
import type { MpdStatus } from './mpd-status.js';

/**
 * The window of the Qobuz queue that lives in MPD's queue: the current item and the one
 * after it. MPD opens the next URL ~20 s before the current one ends (docs/protocol.md §9.2), so
 * two entries are enough for a gapless change, and nothing else of the Qobuz queue needs
 * to be in MPD. URIs come only from `urlFor` (our stream route, never a signed URL), and
 * song ids are mapped back to items here, never by parsing URIs.
 */

export interface WindowEntry {
  readonly item: PlayableItem;
  readonly uri: string;
  /** MPD song id on the current connection; null until written (or after a reconnect). */
  songId: number | null;
}

export class MpdQueueWindow {
  current: WindowEntry | null = null;
  next: WindowEntry | null = null;

  constructor(private readonly urlFor: StreamUrlFor) {}

  /** Replaces both entries (not yet written to MPD). */
  set(current: PlayableItem | null, next: PlayableItem | null): void {
    this.current = current ? this.#entry(current) : null;
    this.next = current && next ? this.#entry(next) : null;
  }

  /** True when `next` is what the window already holds as next. */
  hasNext(next: PlayableItem | null): boolean {
    if (next === null || this.next === null) return next === this.next;
    return this.next.item.queueItemId === next.queueItemId && this.next.uri === this.urlFor(next);
  }

  /** MPD moved on to `next`: it becomes current. Returns the finished entry. */
  advance(): WindowEntry | null {
    const finished = this.current;
    this.current = this.next;
    this.next = null;
    return finished;
  }

  /** Song ids belong to one MPD connection. */
  forgetSongIds(): void {
    if (this.current) this.current.songId = null;
    if (this.next) this.next.songId = null;
  }

  /** The entry an MPD `error:` line is about (it quotes the URL). */
  byError(error: string): WindowEntry | null {
    for (const entry of [this.current, this.next]) if (entry && error.includes(entry.uri)) return entry;
    return null;
  }

  /** Makes MPD's queue exactly this window. */
  async write(client: MpdClient): Promise<void> {
    await client.clear();
    if (this.current) this.current.songId = await client.addId(this.current.uri);
    if (this.next) this.next.songId = await client.addId(this.next.uri);
  }

  /** Swaps only the second entry, right after the current one. */
  async writeNext(client: MpdClient, next: PlayableItem | null): Promise<void> {
    const old = this.next;
    this.next = this.current && next ? this.#entry(next) : null;
    if (old?.songId != null) await client.deleteId(old.songId).catch(() => {});
    if (!this.next || this.current?.songId == null) return;
    const songs = await client.playlistInfo();
    const pos = songs.find((s) => s.id === this.current?.songId)?.pos;
    this.next.songId = await client.addId(this.next.uri, pos === undefined ? undefined : pos + 1);
  }

  /**
   * After a reconnect to an MPD that kept running: when its queue is still exactly this
   * window, take over its song ids instead of restarting the audio.
   */
  async adopt(client: MpdClient, status: MpdStatus): Promise<boolean> {
    if (!this.current) return false;
    const songs = await client.playlistInfo();
    const wanted = [this.current, this.next].filter((e): e is WindowEntry => e !== null);
    if (songs.length !== wanted.length || songs.some((s, i) => s.file !== wanted[i]?.uri)) return false;
    if (status.songId !== songs[0]?.id) return false;
    wanted.forEach((e, i) => (e.songId = songs[i]?.id ?? null));
    return true;
  }

  #entry(item: PlayableItem): WindowEntry {
    return { item, uri: this.urlFor(item), songId: null };
  }
}
