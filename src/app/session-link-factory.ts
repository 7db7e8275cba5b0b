import { QconnectLink } from '../cloud/qconnect-link.js';
import type { QconnectLinkOptions } from '../cloud/qconnect-link-options.js';
import { QcbError } from '../core/qcb-error.js';
import type { LinkEvent, SessionLinkFactory } from '../session/session-link-port.js';

/** What the composition root binds into every link of one player: tuning, the wire tap, metrics. */
export interface SessionLinkWiring {
  readonly tuning?: Partial<
    Pick<
      QconnectLinkOptions,
      'backoffStepsMs' | 'pingIntervalMs' | 'deadAfterMs' | 'connectTimeoutMs' | 'renewAheadMs' | 'tap'
    >
  >;
  readonly onLinkEvent?: (event: LinkEvent, count: number) => void;
}

/**
 * The factory a PlayerSession builds its links with (src/session/session-link-port.ts): a
 * QconnectLink, not started, its events routed. With a user token the link renews its token itself
 * (README "Own Qobuz identity"), but only while `mayRenew` says so: the link of an app's connect the
 * service has not accepted yet never gets a token of ours (README "Security", issue #26).
 */
export function sessionLinkFactory(wiring: SessionLinkWiring = {}): SessionLinkFactory {
  const onLinkEvent = wiring.onLinkEvent;
  return (o) => {
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
      ...wiring.tuning,
    });
    const routes = o.routes(link);
    link.events.on('connected', ({ reconnection }) => routes.connected(reconnection));
    link.events.on('messages', (messages) => routes.messages(messages));
    link.events.on('disconnected', (info) => routes.disconnected(info.reason));
    link.events.on('closed', (reason) => routes.closed(reason));
    link.events.on('tokenRenewed', ({ ahead }) =>
      onLinkEvent?.(ahead ? 'token_renewed_ahead' : 'token_renewed_at_reconnect', 1),
    );
    link.events.on('framesIn', (n) => onLinkEvent?.('frames_in', n));
    link.events.on('framesOut', (n) => onLinkEvent?.('frames_out', n));
    return link;
  };
}
