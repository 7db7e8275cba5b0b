import type { qconnect } from '../../protocol/generated/qconnect.js';
import type { SessionCore } from '../session-core.js';

/**
 * A 41 that arrives before the 43 making us active (docs/protocol.md §5.6 and "Unknowns": whether
 * the production service can send a 41 before, or in the same batch ahead of, that 43 is not
 * captured). Until active we do not act on a 41, so one that comes that early would be lost and
 * the app's pick would play the previous renderer's item instead of the one it asked for. So the
 * last such 41 is kept for a short while and applied once the 43 comes; a 43 later than that
 * finds nothing (a stale 41 must not replay long after). Kept per session core, outside it, as
 * the core's loop is the only caller of both ends.
 */
const EARLY_SET_STATE_MS = 2_000;

const kept = new WeakMap<SessionCore, { readonly body: qconnect.SrvrRndrSetState; readonly atMs: number }>();

/** A 41 with something to do (a track, a position or a playing state) reached us while not active. */
export function keepEarlySetState(core: SessionCore, body: qconnect.SrvrRndrSetState): void {
  kept.set(core, { body, atMs: core.now() });
}

/** The 43 made us active: the 41 that came just before it, if any (taken once). */
export function takeEarlySetState(core: SessionCore): qconnect.SrvrRndrSetState | null {
  const early = kept.get(core);
  kept.delete(core);
  return early && core.now() - early.atMs <= EARLY_SET_STATE_MS ? early.body : null;
}
