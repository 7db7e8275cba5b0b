import type {
  RendererPlayState,
  SessionLinkFact,
  SessionRendererInfo,
} from '../../core/session-observer.js';

/**
 * One player's picture of the account's session (README "The Qobuz session", issue #24): the
 * renderers the service announced, the active one, and what each last reported. Every player of
 * the account keeps its own, fed from its own link, so that when the link answering for the
 * session goes, another player's picture is already whole (AccountSession's fail-over). Plain
 * data: only AccountSession changes it, one fact at a time.
 */

export interface RendererEntry {
  readonly info: SessionRendererInfo;
  state: RendererPlayState | null;
  connected: boolean;
}

export class SessionRoster {
  link: SessionLinkFact | null = null;
  activeRendererId = -1;
  readonly renderers = new Map<number, RendererEntry>();
  /** States reported before the renderer's 83 reached us (a batch may carry 82 first). */
  readonly #early = new Map<number, { state: RendererPlayState | null; connected: boolean }>();

  get joined(): boolean {
    return this.link !== null;
  }

  /**
   * The link joined, moved to another session, or ended: a new session starts from nothing. A
   * session id learnt late (81 after the 83s) is the same session, not a move.
   */
  setLink(link: SessionLinkFact | null): void {
    const before = this.link?.sessionId ?? null;
    const moved = link === null || (before !== null && link.sessionId !== null && before !== link.sessionId);
    this.link = link;
    if (moved) this.clear();
  }

  clear(): void {
    this.renderers.clear();
    this.#early.clear();
    this.activeRendererId = -1;
  }

  added(info: SessionRendererInfo): void {
    const known = this.renderers.get(info.rendererId);
    const early = this.#early.get(info.rendererId);
    this.#early.delete(info.rendererId);
    this.renderers.set(info.rendererId, {
      info,
      state: known?.state ?? early?.state ?? null,
      connected: known?.connected ?? early?.connected ?? true,
    });
  }

  removed(rendererId: number): void {
    this.renderers.delete(rendererId);
    this.#early.delete(rendererId);
  }

  reported(rendererId: number, state: RendererPlayState | null, connected: boolean): void {
    const entry = this.renderers.get(rendererId);
    if (!entry) {
      const early = this.#early.get(rendererId);
      this.#early.set(rendererId, { state: state ?? early?.state ?? null, connected });
      return;
    }
    if (state) entry.state = state;
    entry.connected = connected;
  }

  /** The queue changed: fill in track ids of items that were not known yet, and correct any that moved. */
  resolveTracks(trackOf: (queueItemId: number) => number | null): boolean {
    let changed = false;
    for (const entry of this.renderers.values()) {
      const s = entry.state;
      if (!s || s.queueItemId === null) continue;
      const trackId = trackOf(s.queueItemId) ?? s.trackId;
      if (trackId === s.trackId) continue;
      entry.state = { ...s, trackId };
      changed = true;
    }
    return changed;
  }
}
