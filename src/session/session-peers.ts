import type { PlayableItem } from '../core/player.js';
import type { PositionClock } from '../core/position-clock.js';

/** The last state another renderer reported (82), to take over from it (docs/protocol.md §5.5). */
export interface PeerState {
  readonly item: PlayableItem | null;
  readonly clock: PositionClock;
  readonly durationMs: number | null;
}

/**
 * What the other renderers of the session last reported, part of a session's state
 * (docs/architecture.md "One owner per player"): only SessionCore changes it.
 */
export class SessionPeers {
  readonly #peers = new Map<number, PeerState>();

  note(rendererId: number, peer: PeerState): void {
    this.#peers.set(rendererId, peer);
  }

  remove(rendererId: number): void {
    this.#peers.delete(rendererId);
  }

  clear(): void {
    this.#peers.clear();
  }

  /** Where to take over (§5.5): the active renderer's last 82, else the saved session position (-1). */
  takeover(activeRendererId: number, ownRendererId: number | null): PeerState | null {
    if (activeRendererId !== ownRendererId) {
      const fromActive = this.#peers.get(activeRendererId);
      if (fromActive?.item) return fromActive;
    }
    const saved = this.#peers.get(-1);
    return saved?.item ? saved : null;
  }
}
