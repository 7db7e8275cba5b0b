import type { Logger } from 'pino';
import { QconnectLink, type LinkToken, type QconnectLinkOptions } from '../cloud/qconnect-link.js';
import { QcbError } from '../core/qcb-error.js';
import type { QcMessage } from '../protocol/frame-codec.js';

/** Where a link's events go: each into the player's loop (player-session.ts). */
export interface LinkRoutes {
  connected(reconnection: boolean): void;
  messages(messages: QcMessage[]): void;
  disconnected(reason: string): void;
  closed(reason: string): void;
}

export type LinkEvent =
  'reconnect' | 'frames_in' | 'frames_out' | 'token_renewed_ahead' | 'token_renewed_at_reconnect';

/**
 * A player's QconnectLink, not started, its events routed. With a user token the link renews its
 * token itself (README "Own Qobuz identity"), but only while `mayRenew` says so: the link of an app's
 * connect the service has not accepted yet never gets a token of ours (README "Security", issue #26).
 */
export function createSessionLink(o: {
  readonly token: LinkToken;
  readonly logger: Logger;
  readonly now: () => number;
  readonly renew: (() => Promise<LinkToken>) | undefined;
  readonly mayRenew: () => boolean;
  readonly tuning: Partial<QconnectLinkOptions> | undefined;
  readonly onLinkEvent: ((event: LinkEvent, count: number) => void) | undefined;
  readonly routes: (link: QconnectLink) => LinkRoutes;
}): QconnectLink {
  const renew = o.renew;
  const link = new QconnectLink({
    endpoint: o.token.endpoint,
    jwt: o.token.jwt,
    expiresAtMs: o.token.expiresAtMs,
    logger: o.logger,
    now: o.now,
    ...(renew
      ? {
          renewToken: () =>
            o.mayRenew()
              ? renew()
              : Promise.reject(
                  new QcbError(
                    'ERR_SESSION_CLOSED',
                    'no token of ours for a connect the service has not accepted',
                  ),
                ),
        }
      : {}),
    ...o.tuning,
  });
  const routes = o.routes(link);
  link.events.on('connected', ({ reconnection }) => routes.connected(reconnection));
  link.events.on('messages', (messages) => routes.messages(messages));
  link.events.on('disconnected', (info) => routes.disconnected(info.reason));
  link.events.on('closed', (reason) => routes.closed(reason));
  link.events.on('tokenRenewed', ({ ahead }) =>
    o.onLinkEvent?.(ahead ? 'token_renewed_ahead' : 'token_renewed_at_reconnect', 1),
  );
  link.events.on('framesIn', (n) => o.onLinkEvent?.('frames_in', n));
  link.events.on('framesOut', (n) => o.onLinkEvent?.('frames_out', n));
  return link;
}

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
