import { isIP } from 'node:net';

/**
 * docs/protocol.md §2: anyone on the LAN can POST connect-to-qconnect, so the WebSocket endpoint
 * we are told to dial must be a Qobuz host (`allowedHosts`) over `wss`; plain `ws` is
 * accepted only for loopback hosts (the simulated service in tests).
 *
 * Patterns: `*.qobuz.com` matches any subdomain (not `qobuz.com` itself); any other
 * pattern matches exactly. Case-insensitive; a trailing root dot is ignored.
 *
 * Returns null when allowed, else the reason (no secrets: scheme and host only).
 */
export function endpointRefusal(endpoint: string, allowedHosts: readonly string[]): string | null {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'endpoint is not a URL';
  }
  const host = normalizeHost(url.hostname);
  if (!allowedHosts.some((pattern) => hostMatches(host, pattern))) {
    return `endpoint host ${host} is not allowed`;
  }
  if (url.protocol === 'wss:') return null;
  if (url.protocol === 'ws:' && isLoopbackHost(host)) return null;
  return `endpoint scheme ${url.protocol.replace(/:$/, '')} is not allowed for ${host}`;
}

function normalizeHost(hostname: string): string {
  let host = hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host;
}

function hostMatches(hostname: string, pattern: string): boolean {
  const host = normalizeHost(hostname);
  const p = normalizeHost(pattern.trim());
  if (p.startsWith('*.')) {
    const suffix = p.slice(1); // ".qobuz.com"
    return host.length > suffix.length && host.endsWith(suffix);
  }
  return host === p;
}

/** 127.0.0.0/8, ::1 and localhost. */
function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}
