import type Router from '@koa/router';
import type { Logger } from 'pino';
import { errorMessage, isQcbError } from '../core/qcb-error.js';
import { expiredToken, parseConnectBody } from './connect-body.js';
import { sourceAddress, type ConnectRateLimit } from './connect-rate-limit.js';
import { HYPHENATED_UUID } from './device-types.js';
import { endpointRefusal } from './endpoint-check.js';
import type { HttpPlayer, HttpServerOptions } from './http-options.js';
import { HttpError, readJsonBody } from './read-json-body.js';
import { requireJsonContentType } from './request-guard.js';

type Deps = Pick<
  HttpServerOptions,
  'appId' | 'model' | 'allowedEndpointHosts' | 'currentSessionId' | 'onConnect' | 'onConnectRefused'
> & {
  readonly brand: string;
  readonly players: readonly HttpPlayer[];
  readonly maxBodyBytes: number;
  readonly rateLimit: ConnectRateLimit;
  readonly log: Logger;
};

/**
 * The three routes the Qobuz app calls under TXT `path` = `/devices/{uuid}`
 * (docs/protocol.md §2), in the order it calls them.
 */
export function deviceRoutes(router: Router, deps: Deps): void {
  const byUuid = new Map(deps.players.map((p) => [p.uuid.toLowerCase(), p]));

  /** docs/protocol.md §2: malformed uuid 400, unknown uuid 404. */
  const playerFor = (uuid: string | undefined): HttpPlayer => {
    if (!uuid || !HYPHENATED_UUID.test(uuid)) throw new HttpError(400, 'malformed device uuid');
    const player = byUuid.get(uuid.toLowerCase());
    if (!player) throw new HttpError(404, 'unknown device');
    return player;
  };

  router.get('/devices/:uuid/get-display-info', (ctx) => {
    const p = playerFor(ctx.params.uuid);
    ctx.state.player = p.id;
    ctx.body = {
      type: p.deviceType,
      friendly_name: p.name,
      model_display_name: deps.model,
      brand_display_name: deps.brand,
      serial_number: p.uuid,
      max_audio_quality: p.maxAudioQuality,
    };
  });

  router.get('/devices/:uuid/get-connect-info', (ctx) => {
    const p = playerFor(ctx.params.uuid);
    ctx.state.player = p.id;
    ctx.body = { current_session_id: deps.currentSessionId(p.id), app_id: deps.appId };
  });

  router.post('/devices/:uuid/connect-to-qconnect', async (ctx) => {
    const p = playerFor(ctx.params.uuid);
    ctx.state.player = p.id;
    const refuse = (status: number, reason: string, message: string): HttpError => {
      deps.onConnectRefused?.(p.id, reason);
      return new HttpError(status, message);
    };
    // README "Security" (issue #26): a few connects a minute per source address and player, counted
    // before the body is read, so a flood costs nothing. The socket's own address: no proxy is trusted.
    const retryAfterS = deps.rateLimit.attempt(sourceAddress(ctx.req.socket.remoteAddress), p.id);
    if (retryAfterS > 0) {
      ctx.set('Retry-After', String(retryAfterS));
      throw refuse(429, 'rate_limited', 'too many connects: try again later');
    }
    let parsed: ReturnType<typeof parseConnectBody>;
    try {
      requireJsonContentType(ctx.get('content-type'));
      parsed = parseConnectBody(await readJsonBody(ctx.req, deps.maxBodyBytes));
    } catch (err) {
      deps.onConnectRefused?.(p.id, 'bad_request');
      throw err;
    }
    if (!parsed.ok) throw refuse(400, 'bad_request', parsed.error);
    // Issue #26: an expired token proves nothing, and is never renewed with the owner's user token.
    const expired = expiredToken(parsed.request);
    if (expired) {
      deps.log.warn({ player: p.id, reason: expired }, 'connect-to-qconnect refused');
      throw refuse(400, 'expired_token', expired);
    }
    const refusal = endpointRefusal(parsed.request.jwtQconnect.endpoint, deps.allowedEndpointHosts);
    if (refusal) {
      // docs/protocol.md §2: refuse and connect nowhere; only scheme and host are logged.
      deps.log.warn({ player: p.id, reason: refusal }, 'connect-to-qconnect refused');
      throw refuse(403, 'endpoint_not_allowed', refusal);
    }
    const secrets = [parsed.request.jwtQconnect.jwt, parsed.request.jwtApi.jwt];
    try {
      await deps.onConnect(p.id, parsed.request);
    } catch (err) {
      const code = isQcbError(err) ? err.code : 'ERR_CONNECT';
      deps.log.warn({ player: p.id, code, err: redact(errorMessage(err), secrets) }, 'connect-to-qconnect failed');
      ctx.status = 500;
      ctx.body = { success: false, error: `connect failed (${code})` };
      return;
    }
    // Taken in hand: the player joins beside its current session, which ends only once the service
    // accepted the new one (README "Security"); the outcome is logged and counted then.
    deps.log.info(
      { player: p.id, becomeActive: parsed.request.becomeActive },
      'connect-to-qconnect: joining',
    );
    ctx.body = { success: true };
  });
}

/** Belt and braces: a handler's error message must not carry the tokens it was given. */
function redact(message: string, secrets: readonly string[]): string {
  return secrets.reduce((m, s) => (s.length > 0 ? m.split(s).join('[redacted]') : m), message);
}
