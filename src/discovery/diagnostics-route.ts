import { createHash, timingSafeEqual } from 'node:crypto';
import type Router from '@koa/router';
import { HttpError } from './read-json-body.js';

/**
 * `GET /diagnostics` (README "Reporting a problem"): the bug-report bundle. It tells a lot about
 * a home (player names, what plays, recent log lines), so it answers this host only (a loopback
 * client), or a client that sends `Authorization: Bearer <diagnostics.token>` when one is set.
 * The token is compared in constant time, over digests so that its length leaks nothing either.
 */
export interface DiagnosticsRouteOptions {
  /** Builds the bundle (the composition root's port). */
  readonly bundle: () => Promise<unknown>;
  /** `diagnostics.token`; null: loopback clients only. */
  readonly token: string | null;
}

export function diagnosticsRoute(router: Router, options: DiagnosticsRouteOptions): void {
  router.get('/diagnostics', async (ctx) => {
    if (!isLoopback(ctx.req.socket.remoteAddress)) {
      if (options.token === null) throw new HttpError(403, 'diagnostics answer this host only (or set diagnostics.token)');
      if (!tokenMatches(ctx.get('authorization'), options.token)) {
        ctx.set('WWW-Authenticate', 'Bearer');
        throw new HttpError(401, 'diagnostics need Authorization: Bearer <diagnostics.token>');
      }
    }
    const bundle = await options.bundle();
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'application/json';
    ctx.body = JSON.stringify(bundle);
  });
}

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return v4.startsWith('127.') || address === '::1';
}

function tokenMatches(header: string, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  const given = createHash('sha256').update(match?.[1] ?? '').digest();
  const wanted = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, wanted) && match !== null;
}
