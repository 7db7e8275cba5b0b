/**
 * The port through which each player's session tells the account-level owner what the Qobuz
 * service says about the whole session (README "The Qobuz session", issue #24): every renderer
 * joining or leaving (83, 85), which one is active (81, 86), what each plays (82), and its own link
 * joining or ending. The facts come from the player's loop, in the order they happened; the owner
 * answers nothing back except through the player's `SessionController`, which runs in that loop.
 * Wire spellings stay in the app's watcher (docs/conventions.md "Sizes and names").
 */

/** A renderer of the session as the service announced it (83 DeviceInfo). */
export interface SessionRendererInfo {
  readonly rendererId: number;
  /** Hyphenated lower-case device uuid, '' when the service sent none. */
  readonly deviceUuid: string;
  readonly name: string;
  /** DeviceType in lower case (`speaker`, `mobile` …), null when unknown. */
  readonly type: string | null;
}

export type RendererPlayStatus = 'playing' | 'paused' | 'stopped' | 'unknown';

/** What a renderer last reported, as the service relayed it (82). */
export interface RendererPlayState {
  readonly status: RendererPlayStatus;
  readonly positionMs: number;
  /** Epoch ms at which `positionMs` held. */
  readonly atMs: number;
  readonly durationMs: number | null;
  /** The queue item it plays, null for none (-1 on the wire). */
  readonly queueItemId: number | null;
  /** The Qobuz track of that item, when the player's queue mirror holds it. */
  readonly trackId: number | null;
}

/** One player's link in a session (null: not joined). */
export interface SessionLinkFact {
  readonly sessionId: string | null;
  readonly ownRendererId: number | null;
  /** A link of the player's own (minted with the user token), rather than the app's connect. */
  readonly own: boolean;
}

/** Controller verbs the owner may ask of a player's link; each runs in that player's loop. Rejects with ERR_NO_SESSION when the link is not joined. */
export interface SessionController {
  /** 63: make `rendererId` the active renderer (docs/protocol.md §8 "The account's session"). */
  setActiveRenderer(rendererId: number): Promise<void>;
  /** 62 {PLAYING | PAUSED}: play or pause whatever renderer is active. */
  setPlaying(playing: boolean): Promise<void>;
}

export interface SessionObserver {
  /** Once per player, before any fact: the verbs its link lends the owner. */
  attach(playerId: string, controller: SessionController): void;
  link(playerId: string, link: SessionLinkFact | null): void;
  rendererAdded(playerId: string, renderer: SessionRendererInfo): void;
  rendererRemoved(playerId: string, rendererId: number): void;
  activeChanged(playerId: string, rendererId: number): void;
  /**
   * 82: `state` null when the message carried none (the last one stands); `connected` false once
   * the service says the active renderer lost its connection (ACTIVE_DISCONNECTED).
   */
  rendererState(playerId: string, rendererId: number, state: RendererPlayState | null, connected: boolean): void;
  /** The queue changed: track ids of queue items may now be known (`trackOf` is valid only during the call). */
  queueChanged(playerId: string, trackOf: (queueItemId: number) => number | null): void;
  /** A type-1 error from the service on that player's link (docs/protocol.md §5.13). */
  serviceError(playerId: string, message: string): void;
}
