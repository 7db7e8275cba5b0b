/**
 * The queue the simulated Qobuz Connect service owns (docs/protocol.md §6): items with
 * service-assigned queue item ids, a version bumped on every edit, a shuffled order made from a
 * seed and a pivot, and the loop mode. Pure: no sockets, no clocks.
 *
 * Versioning (documented choice, the real rule is unknown): a load or a clear bumps `major`
 * and resets `minor` to 0; every other edit (insert, add, remove, reorder, shuffle change)
 * bumps `minor`. Loop mode changes do not touch the version (97 carries none).
 * Queue item ids restart at 0 on a load and keep counting up for inserted / added tracks.
 *
 * Autoplay (documented choice): suggestions get queue item ids from the same counter; loading or
 * removing suggestions bumps `minor` (103 / 104 carry the new version), switching autoplay on or
 * off does not (102); a load is a new context and drops them (91 autoplay_reset). A suggestion the active renderer reports as current is moved into the
 * queue, with every suggestion before it (105, `minor` bumped), as the app shows played
 * suggestions as queue items.
 */

import { FuzzRandom } from './fuzz-random.js';

export type LoopName = 'OFF' | 'REPEAT_ONE' | 'REPEAT_ALL';
export const LOOP_MODE: Readonly<Record<LoopName, number>> = { OFF: 1, REPEAT_ONE: 2, REPEAT_ALL: 3 };
export const loopName = (mode: number | null | undefined): LoopName | undefined =>
  (Object.keys(LOOP_MODE) as LoopName[]).find((k) => LOOP_MODE[k] === mode);

export interface QueueItem {
  readonly queueItemId: number;
  readonly trackId: number;
}

export interface QueueVersionView {
  readonly major: number;
  readonly minor: number;
}

/** Used when a shuffle is asked for without a seed, so runs are reproducible. */
export const DEFAULT_SHUFFLE_SEED = 0x5eed1234;

/** How the version moves (ServiceBehaviours.versionRule, qconnect-behaviours.ts). */
export type VersionRule = 'major-on-load' | 'minor-only' | 'major-only' | 'gaps';

export class SimQueue {
  major = 0;
  minor = 0;
  items: QueueItem[] = [];
  shuffle = false;
  shuffleSeed = 0;
  /** The queue item put first in the shuffled order (-1 none). */
  shufflePivot = -1;
  loop: LoopName = 'OFF';
  /** The session's cursor: the queue item playing or last told to play (-1 none). */
  current = -1;
  autoplayOn = false;
  /** Suggestions that play once the queue ends (loop OFF). */
  autoplay: QueueItem[] = [];
  #shuffledIds: number[] = [];
  #nextId = 0;

  constructor(readonly versionRule: () => VersionRule = () => 'major-on-load') {}

  version(): QueueVersionView {
    return { major: this.major, minor: this.minor };
  }

  load(trackIds: readonly number[], startIndex: number, shuffle: boolean, seed?: number): QueueItem[] {
    this.#bump(true);
    this.#nextId = 0;
    this.autoplay = [];
    this.items = this.#mint(trackIds);
    this.current = this.items[startIndex]?.queueItemId ?? -1;
    this.#shuffledIds = [];
    this.shuffle = false;
    if (shuffle) this.#reshuffle(seed ?? DEFAULT_SHUFFLE_SEED);
    return this.items;
  }

  clear(): void {
    this.#bump(true);
    this.items = [];
    this.autoplay = [];
    this.#shuffledIds = [];
    this.current = -1;
  }

  /** Inserts after `afterId` (-1 = at the start); while shuffled the new items play right after the current one. */
  insert(trackIds: readonly number[], afterId: number): QueueItem[] {
    const at = afterId < 0 ? 0 : this.#indexOf(afterId) + 1;
    if (afterId >= 0 && at === 0) throw new Error(`insert after unknown queue item ${afterId}`);
    const added = this.#mint(trackIds);
    this.items.splice(at, 0, ...added);
    if (this.shuffle) {
      const cur = this.#shuffledIds.indexOf(this.current);
      this.#shuffledIds.splice(cur + 1, 0, ...added.map((i) => i.queueItemId));
    }
    this.#bump(false);
    return added;
  }

  add(trackIds: readonly number[]): QueueItem[] {
    const added = this.#mint(trackIds);
    this.items.push(...added);
    if (this.shuffle) this.#shuffledIds.push(...added.map((i) => i.queueItemId));
    this.#bump(false);
    return added;
  }

  remove(ids: readonly number[]): void {
    const gone = new Set(ids);
    this.items = this.items.filter((i) => !gone.has(i.queueItemId));
    this.#shuffledIds = this.#shuffledIds.filter((id) => !gone.has(id));
    this.#bump(false);
  }

  /** Moves `ids` (in that order) to just after `afterId` (-1 = the start). */
  reorder(ids: readonly number[], afterId: number): void {
    const moving = new Set(ids);
    const moved = ids
      .map((id) => this.items[this.#indexOf(id)])
      .filter((i): i is QueueItem => i !== undefined);
    const rest = this.items.filter((i) => !moving.has(i.queueItemId));
    const at = afterId < 0 ? 0 : rest.findIndex((i) => i.queueItemId === afterId) + 1;
    rest.splice(at, 0, ...moved);
    this.items = rest;
    this.#bump(false);
  }

  loadAutoplay(trackIds: readonly number[]): QueueItem[] {
    const added = this.#mint(trackIds);
    this.autoplay.push(...added);
    this.#bump(false);
    return added;
  }

  removeAutoplay(ids: readonly number[]): void {
    const gone = new Set(ids);
    this.autoplay = this.autoplay.filter((i) => !gone.has(i.queueItemId));
    this.#bump(false);
  }

  /**
   * Moves the suggestions up to and including `id` into the queue (`withEarlier`; else `id` alone);
   * their ids, or [] when `id` is no suggestion.
   */
  promoteAutoplay(id: number, withEarlier = true): number[] {
    const at = this.autoplay.findIndex((i) => i.queueItemId === id);
    if (at < 0) return [];
    const moved = withEarlier ? this.autoplay.splice(0, at + 1) : this.autoplay.splice(at, 1);
    this.items.push(...moved);
    if (this.shuffle) this.#shuffledIds.push(...moved.map((i) => i.queueItemId));
    this.#bump(false);
    return moved.map((i) => i.queueItemId);
  }

  setShuffle(on: boolean, seed?: number): void {
    if (on) this.#reshuffle(seed ?? DEFAULT_SHUFFLE_SEED);
    else {
      this.shuffle = false;
      this.#shuffledIds = [];
      this.shufflePivot = -1;
    }
    this.#bump(false);
  }

  /** Indexes into `items` in shuffled play order (90 shuffled_track_indexes); empty when not shuffled. */
  shuffledIndexes(): number[] {
    if (!this.shuffle) return [];
    return this.#shuffledIds.map((id) => this.#indexOf(id));
  }

  /** Queue item ids in play order. */
  playOrder(): number[] {
    return this.shuffle ? [...this.#shuffledIds] : this.items.map((i) => i.queueItemId);
  }

  /** The track of a queue item or a suggestion ("Current track not found in queue nor autoplay"). */
  trackOf(queueItemId: number): number | undefined {
    return (
      this.items[this.#indexOf(queueItemId)] ?? this.autoplay.find((i) => i.queueItemId === queueItemId)
    )?.trackId;
  }

  /** What plays when `id` ends by itself (41 next_track): the same item on REPEAT_ONE; suggestions after a queue that ends. */
  nextOf(id: number): number | undefined {
    if (this.loop === 'REPEAT_ONE' && this.trackOf(id) !== undefined) return id;
    const suggestion = this.autoplay.findIndex((i) => i.queueItemId === id);
    if (suggestion >= 0) return this.autoplayOn ? this.autoplay[suggestion + 1]?.queueItemId : undefined;
    const order = this.playOrder();
    if (this.loop === 'OFF' && this.autoplayOn && order.length > 0 && order[order.length - 1] === id)
      return this.autoplay[0]?.queueItemId;
    return this.#step(id, +1, this.loop === 'REPEAT_ALL');
  }

  /** Where an explicit NEXT (24) goes: the following item, wrapping unless loop is OFF (a skip never repeats one). */
  skipFrom(id: number): number | undefined {
    if (this.loop === 'OFF' && this.autoplayOn) return this.nextOf(id);
    return this.#step(id, +1, this.loop !== 'OFF');
  }

  previousFrom(id: number): number | undefined {
    return this.#step(id, -1, this.loop !== 'OFF');
  }

  #step(id: number, dir: 1 | -1, wrap: boolean): number | undefined {
    const order = this.playOrder();
    if (order.length === 0) return undefined;
    const at = order.indexOf(id);
    if (at < 0) return dir > 0 ? order[0] : undefined;
    const to = at + dir;
    if (to >= 0 && to < order.length) return order[to];
    return wrap ? order[(to + order.length) % order.length] : undefined;
  }

  #reshuffle(seed: number): void {
    this.shuffle = true;
    this.shuffleSeed = seed >>> 0;
    this.shufflePivot = this.#indexOf(this.current) >= 0 ? this.current : -1;
    const rest = this.items.map((i) => i.queueItemId).filter((id) => id !== this.shufflePivot);
    const fuzz = new FuzzRandom(this.shuffleSeed);
    const random = () => fuzz.next();
    for (let i = rest.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [rest[i], rest[j]] = [rest[j] as number, rest[i] as number];
    }
    this.#shuffledIds = this.shufflePivot >= 0 ? [this.shufflePivot, ...rest] : rest;
  }

  /** A new version: a load or clear (`fresh`) or any other edit, as the version rule numbers them. */
  #bump(fresh: boolean): void {
    const rule = this.versionRule();
    if (rule === 'minor-only' || rule === 'gaps') {
      if (this.major === 0) this.major = 1;
      this.minor += rule === 'gaps' ? 2 : 1;
    } else if (rule === 'major-only' || fresh) {
      this.major += 1;
      this.minor = 0;
    } else this.minor += 1;
  }

  #mint(trackIds: readonly number[]): QueueItem[] {
    return trackIds.map((trackId) => ({ queueItemId: this.#nextId++, trackId }));
  }

  #indexOf(id: number): number {
    return this.items.findIndex((i) => i.queueItemId === id);
  }
}
