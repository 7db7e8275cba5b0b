import type {
  RendererPlayState,
  SessionLinkFact,
  SessionRendererInfo,
} from '../../core/session-observer.js';
import type { StepGuard } from '../loop-step.js';

/**
 * One player's picture of the account's session (README "The Qobuz session", issue #24): the
 * renderers the service announced, the active one, and what each last reported. Every player of
 * the account keeps its own, fed from its own link, so that when the link answering for the
 * session goes, another player's picture is already whole (AccountSession's fail-over). Only
 * AccountSession changes it, one fact at a time, in a step of its loop: with a guard, every write
 * asserts that a step runs (docs/architecture.md "The account's session").
 */

export interface RendererEntry {
  readonly info: SessionRendererInfo;
  state: RendererPlayState | null;
  connected: boolean;
}

export class SessionRoster {
  readonly #guard: StepGuard | null;
  #link: SessionLinkFact | null = null;
  #activeRendererId = -1;
  readonly #renderers = new Map<number, RendererEntry>();
  /** States reported before the renderer's 83 reached us (a batch may carry 82 first). */
  readonly #early = new Map<number, { state: RendererPlayState | null; connected: boolean }>();

  constructor(guard: StepGuard | null = null) {
    this.#guard = guard;
  }

  get link(): SessionLinkFact | null {
    return this.#link;
  }

  get joined(): boolean {
    return this.#link !== null;
  }

  get activeRendererId(): number {
    return this.#activeRendererId;
  }

  get renderers(): ReadonlyMap<number, Readonly<RendererEntry>> {
    return this.#renderers;
  }

  /**
   * The link joined, moved to another session, or ended: a new session starts from nothing. A
   * session id learnt late (81 after the 83s) is the same session, not a move.
   */
  setLink(link: SessionLinkFact | null): void {
    this.#write('setLink');
    const before = this.#link?.sessionId ?? null;
    const moved = link === null || (before !== null && link.sessionId !== null && before !== link.sessionId);
    this.#link = link;
    if (moved) {
      this.#renderers.clear();
      this.#early.clear();
      this.#activeRendererId = -1;
    }
  }

  setActive(rendererId: number): void {
    this.#write('setActive');
    this.#activeRendererId = rendererId;
  }

  added(info: SessionRendererInfo): void {
    this.#write('added');
    const known = this.#renderers.get(info.rendererId);
    const early = this.#early.get(info.rendererId);
    this.#early.delete(info.rendererId);
    this.#renderers.set(info.rendererId, {
      info,
      state: known?.state ?? early?.state ?? null,
      connected: known?.connected ?? early?.connected ?? true,
    });
  }

  removed(rendererId: number): void {
    this.#write('removed');
    this.#renderers.delete(rendererId);
    this.#early.delete(rendererId);
  }

  reported(rendererId: number, state: RendererPlayState | null, connected: boolean): void {
    this.#write('reported');
    const entry = this.#renderers.get(rendererId);
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
    this.#write('resolveTracks');
    let changed = false;
    for (const entry of this.#renderers.values()) {
      const s = entry.state;
      if (!s || s.queueItemId === null) continue;
      const trackId = trackOf(s.queueItemId) ?? s.trackId;
      if (trackId === s.trackId) continue;
      entry.state = { ...s, trackId };
      changed = true;
    }
    return changed;
  }

  /** Development mode (loop-step.ts): a write outside a step of AccountSession's loop is a bug, caught here. */
  #write(what: string): void {
    this.#guard?.assert(`account roster ${what}`);
  }
}
