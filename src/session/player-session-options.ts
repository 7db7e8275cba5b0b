import type { LinkToken } from '../core/link-token.js';
import type { ConnectRequest } from '../core/connect-request.js';
import type { ConnectRejection } from './activation/connect-candidate.js';
import type { TrackIdsLookup } from './verbs/queue-commands.js';
import type { SessionCoreOptions } from './session-core-options.js';
import type { LinkEvent, SessionLinkFactory } from './session-link-port.js';
import type { SessionObserver } from './session-watch.js';

/** What a PlayerSession (player-session.ts) is built with. */
export interface PlayerSessionOptions extends Omit<SessionCoreOptions, 'now' | 'awaitVolumeReport'> {
  readonly now?: () => number;
  /** docs/protocol.md §5.7: report every 10 s while active and playing. */
  readonly heartbeatMs?: number;
  /** Builds the player's links (src/app/session-link-factory.ts: tuning and the wire tap bound in). */
  readonly linkFactory: SessionLinkFactory;
  /** Counted once per reconnect of the session's link (metrics); the factory counts the rest. */
  readonly onLinkEvent?: (event: LinkEvent, count: number) => void;
  /** Mints a WebSocket token with the user's own token (README "Own Qobuz identity"): sessions outlive the app's hour. */
  readonly renewToken?: () => Promise<LinkToken>;
  /** Each Qobuz message handled, with how long it took (metrics). */
  readonly onMessageHandled?: (messageType: number, elapsedMs: number) => void;
  /** Track ids of an album, playlist or track from the Qobuz REST API, for `queue_add` (issue #14) and `play_media`. */
  readonly trackIdsOf?: TrackIdsLookup;
  // ---- the player's own Qobuz identity (README "Own Qobuz identity"): all need `renewToken` ----
  /** Join the account's session at start, in the background, with a minted token (cloud presence). */
  readonly cloud?: boolean;
  /** Delays between failed cloud joins (default CLOUD_RETRY_STEPS_MS). */
  readonly cloudRetryStepsMs?: readonly number[];
  /** play_media / transfer: each step with the service (default 10 s) and the speaker starting (default 20 s). */
  readonly mediaStepTimeoutMs?: number;
  readonly mediaPlayTimeoutMs?: number;
  /** Make before break (issue #26): how long an app's connect may take to be joined (default 20 s). */
  readonly connectAcceptTimeoutMs?: number;
  /** The service accepted an app's connect: called in the loop, before the previous session ends. */
  readonly onConnectAccepted?: (request: ConnectRequest, sessionChanged: boolean) => void;
  /** An app's connect that did not become the session; nothing of the current one changed. */
  readonly onConnectRejected?: (request: ConnectRequest, reason: ConnectRejection) => void;
  /** The account-level owner of the whole session's view (README "The Qobuz session", issue #24). */
  readonly sessionObserver?: SessionObserver;
}
