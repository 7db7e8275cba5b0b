import { isIP } from 'node:net';
import type Koa from 'koa';
import { HttpError } from './read-json-body.js';

/**
 * README "HTTP endpoints": the routes face the whole LAN, and a web page any LAN user opens can reach
 * them too. Two checks on every request, before any route runs:
 *
 * - `Host` must name us: an IP literal, `localhost`, the advertised address or one of our
 *   mDNS host names; anything else is 421. A DNS-rebinding page reaches us under its own
 *   name (`Host: evil.example`), never under one of ours.
 * - any `Origin` header is 403: the Qobuz apps are native and send none, while every
 *   browser sends one on a cross-site POST (and on any fetch from a rebound page).
 *
 * A request without `Host` (HTTP/1.0; Node refuses it for 1.1) comes from no browser and passes.
 */
export interface RequestGuardOptions {
  /** The IPv4 the app and MPD reach us on (already an IP literal, listed for clarity). */
  readonly advertiseAddress?: string;
  /** Our mDNS host names, e.g. `qcb-<uuid>.local`. */
  readonly hostNames: readonly string[];
}

export function requestGuard(options: RequestGuardOptions): Koa.Middleware {
  const names = new Set(['localhost', ...options.hostNames, ...(options.advertiseAddress ? [options.advertiseAddress] : [])].map(normalizeName));
  return async (ctx, next) => {
    const host = ctx.get('host');
    // The host is never echoed: it is whatever a foreign page chose.
    if (host !== '' && !hostAllowed(host, names)) throw new HttpError(421, 'misdirected request: this host name is not ours');
    if (ctx.get('origin') !== '') throw new HttpError(403, 'requests from web pages are refused');
    await next();
  };
}

/** `Host` header value (`name[:port]`, `[v6][:port]`) against the allowed names; IP literals always pass. */
function hostAllowed(hostHeader: string, allowedNames: ReadonlySet<string>): boolean {
  const name = hostName(hostHeader.trim());
  if (name === null) return false;
  if (isIP(name) !== 0) return true;
  return allowedNames.has(normalizeName(name));
}

/** The name part of a Host header, or null when it is malformed. */
function hostName(host: string): string | null {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0) return null;
    const rest = host.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
    return host.slice(1, end);
  }
  const colon = host.indexOf(':');
  if (colon < 0) return host;
  if (!/^\d{1,5}$/.test(host.slice(colon + 1))) return null;
  return host.slice(0, colon);
}

function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** README "HTTP endpoints": connect-to-qconnect takes only JSON; a browser cannot send that cross-site without a preflight. */
export function requireJsonContentType(contentType: string | undefined): void {
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') throw new HttpError(415, 'Content-Type must be application/json');
}
