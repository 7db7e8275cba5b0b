import type { Logger } from 'pino';
import type { LinkToken } from '../core/link-token.js';
import type { QcMessage } from '../protocol/frame-codec.js';
import type { OutgoingMessage } from '../protocol/frame-writer.js';

/**
 * The port through which a player's session uses its Qobuz Connect link (docs/architecture.md
 * "Layers"): the session never builds a link itself; the composition root hands it a
 * SessionLinkFactory (src/app/session-link-factory.ts builds the cloud adapter's QconnectLink).
 */
export interface SessionLinkPort {
  start(): void;
  /** False when the link is down: the frames are dropped, the session re-reports after `connected`. */
  send(messages: OutgoingMessage[]): boolean;
  resubscribe(): boolean;
  /** A reconnect waiting out its backoff starts now (a command waits for the join); true when one did. */
  retryNow(): boolean;
  close(reason?: string): void;
}

/** Where a link's events go: each into the player's loop (session-connection.ts routes them, player-session.ts queues them). */
interface LinkRoutes {
  connected(reconnection: boolean): void;
  messages(messages: QcMessage[]): void;
  disconnected(reason: string): void;
  closed(reason: string): void;
}

export type LinkEvent =
  'reconnect' | 'frames_in' | 'frames_out' | 'token_renewed_ahead' | 'token_renewed_at_reconnect';

/** What the session asks of a new link. */
interface SessionLinkRequest {
  readonly token: LinkToken;
  readonly logger: Logger;
  readonly now: () => number;
  /** Mints a fresh token with the user's own (README "Own Qobuz identity"); undefined without one. */
  readonly renew: (() => Promise<LinkToken>) | undefined;
  /** False while the link is an app's connect the service has not accepted (README "Security", issue #26). */
  readonly mayRenew: () => boolean;
  readonly routes: (link: SessionLinkPort) => LinkRoutes;
}

/** Builds a player's link, not started, its events routed (passed in by the composition root). */
export type SessionLinkFactory = (request: SessionLinkRequest) => SessionLinkPort;

/** The line that says a player's link ended for good (`expired`: its token ran out), and what comes next. */
export function logLinkClosed(log: Logger, reason: string, expired: boolean, cloud: boolean): void {
  if (expired) {
    // README "MQTT topics" (`expired`): the one line that tells the user what happened and what to do.
    log.warn(
      "Qobuz session ended: the app's token expired (they last about an hour); pick this speaker in the Qobuz app again, or set qobuz.user_auth_token so the bridge renews it itself",
    );
  } else {
    log.info(
      { reason },
      cloud
        ? 'Qobuz session closed: joining the account again shortly'
        : 'Qobuz session closed: waiting for the app',
    );
  }
}
