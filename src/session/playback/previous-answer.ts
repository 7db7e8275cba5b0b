import type { PlayableItem, PlayerSnapshot } from '../../core/player.js';

/** How long the 41 answering a PREVIOUS sent for an MPD client's move back is awaited (docs/protocol.md §9.4). */
const ANSWER_WITHIN_MS = 10_000;

/**
 * Another MPD client moved the speaker back to our previous song and we sent 24 PREVIOUS
 * (docs/protocol.md §9.4, issue #23): the 41 answering it names the item that already plays, and is
 * taken as it plays, without loading it again (a gap, and the song restarted). Only that one answer:
 * any other intent forgets it.
 */
export class PreviousAnswer {
  #awaited: { readonly item: PlayableItem; readonly atMs: number } | null = null;

  await(item: PlayableItem, nowMs: number): void {
    this.#awaited = { item, atMs: nowMs };
  }

  forget(): void {
    this.#awaited = null;
  }

  /** Whether a load of `item` that plays is that answer, with the speaker on `item`; forgets it either way. */
  take(item: PlayableItem, nowMs: number, speaker: PlayerSnapshot): boolean {
    const awaited = this.#awaited;
    this.#awaited = null;
    if (!awaited || awaited.item.queueItemId !== item.queueItemId || nowMs - awaited.atMs > ANSWER_WITHIN_MS) return false;
    return speaker.settled && speaker.status === 'playing' && speaker.current?.queueItemId === item.queueItemId;
  }
}
