import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { QconnectLink } from '../src/cloud/qconnect-link.js';
import type { LinkToken } from '../src/core/link-token.js';
import { useSimService } from './support/qconnect-harness.js';

/**
 * Issue #21 part 4 (docs/protocol.md §8 "Token renewal"): a token the service refuses before any
 * payload is replaced by a fresh one, and the first refusal in a row reconnects at once (the
 * service answered: no outage to back off from). A service that refuses every fresh token too does
 * not get hammered: the next refusal goes through the reconnect backoff.
 */
const sim = useSimService();
const BACKOFF_MS = 120_000;
let link: QconnectLink | null = null;

afterEach(() => {
  link?.close();
  link = null;
});

function startLink(mint: () => LinkToken): { lines: Array<Record<string, unknown>>; mints: () => number } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  let mints = 0;
  const first = sim.service.issueToken({ sessionId: sim.sessionId });
  sim.service.expireToken(first.jwt);
  link = new QconnectLink({
    endpoint: first.endpoint,
    jwt: first.jwt,
    expiresAtMs: first.exp * 1000,
    logger,
    backoffStepsMs: [BACKOFF_MS],
    renewToken: () => {
      mints++;
      return Promise.resolve(mint());
    },
  });
  link.start();
  return { lines, mints: () => mints };
}

const tokenOf = (t: { jwt: string; exp: number; endpoint: string }): LinkToken => ({ jwt: t.jwt, expiresAtMs: t.exp * 1000, endpoint: t.endpoint });

describe('a token the service refuses at a connect (issue #21)', () => {
  it('mints a fresh one and connects again at once, without a backoff step', async () => {
    const { mints } = startLink(() => tokenOf(sim.service.issueToken({ sessionId: sim.sessionId })));
    // The first connection was refused, the second subscribed with the minted token.
    await sim.service.waitFor(() => sim.service.connections()[1]?.phase === 'subscribed', {
      what: 'a second connection, subscribed',
      timeoutMs: 10_000,
    });
    expect(sim.service.connections().map((c) => c.closedBy)).toEqual(['unauthorized', null]);
    expect(mints()).toBe(1);
  });

  it('backs off after a second refusal in a row instead of minting in a loop', async () => {
    const { lines, mints } = startLink(() => {
      const t = sim.service.issueToken({ sessionId: sim.sessionId });
      sim.service.expireToken(t.jwt);
      return tokenOf(t);
    });
    await sim.service.waitFor(
      () => lines.some((l) => l.msg === 'link down, reconnecting' && l.delayMs === BACKOFF_MS),
      { what: 'a reconnect that waits the backoff', timeoutMs: 10_000 },
    );
    expect(sim.service.connections().map((c) => c.closedBy)).toEqual(['unauthorized', 'unauthorized']);
    expect(mints()).toBe(1);
    expect(link!.state).toBe('waiting');
    expect(lines.filter((l) => l.msg === 'link down, reconnecting').map((l) => l.delayMs)).toEqual([0, BACKOFF_MS]);
  });
});
