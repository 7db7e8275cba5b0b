import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import { withTimeout } from '../util/abortable-sleep.js';

/** A name that takes longer is left out: the bridge's start must not wait on a slow resolver. */
const LOOKUP_TIMEOUT_MS = 2000;

/**
 * The addresses the HTTP server's global connection cap never shuts out (README "Security", issue
 * #26): this host's own (an MPD here reaches the bridge from one of them) and the configured MPD
 * hosts', resolved once at start. A name that does not resolve (in 2 s) is left out, never fatal.
 */
export async function reservedHosts(mpdHosts: readonly string[]): Promise<string[]> {
  const own = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
  const resolved = await Promise.all(
    [...new Set(mpdHosts)].map((host) =>
      withTimeout(lookup(host, { all: true }), LOOKUP_TIMEOUT_MS, () => new Error('lookup timed out')).then(
        (answers) => answers.map((a) => a.address),
        () => [] as string[],
      ),
    ),
  );
  return [...new Set([...own, ...resolved.flat()])];
}
