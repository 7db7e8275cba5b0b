/**
 * The one position clock (docs/architecture.md "One clock"): where playback is, as of when,
 * and whether it moves. The session's intent and the MPD player's picture of the speaker are
 * both clocks of this shape, so both extrapolate and compare positions with the same rule.
 */

export type ClockStatus = 'playing' | 'paused' | 'stopped';

export interface PositionClock {
  readonly status: ClockStatus;
  /** Position in ms at `atMs`. */
  readonly positionMs: number;
  /** Epoch ms at which `positionMs` held. */
  readonly atMs: number;
  /** Loaded or seeking but no audio yet: the position does not move. */
  readonly buffering: boolean;
}

/**
 * A position further than this from where a clock says we should be is a seek (or a stall)
 * worth telling Qobuz and MQTT about; closer is jitter between two clocks. One value for the
 * whole bridge (issue #11: the session used 1500 ms and the MPD state 750 ms).
 */
export const POSITION_JUMP_MS = 1000;

export function clockAt(status: ClockStatus, positionMs: number, atMs: number, buffering = false): PositionClock {
  return { status, positionMs: Math.max(0, positionMs), atMs, buffering };
}

/** True while audio flows, so the position advances with wall time. */
export function isFlowing(c: PositionClock): boolean {
  return c.status === 'playing' && !c.buffering;
}

/** The position at `nowMs`: `positionMs + (now − atMs)` while audio flows (docs/protocol.md §4 Position). */
export function positionAt(c: PositionClock, nowMs: number): number {
  return isFlowing(c) ? c.positionMs + Math.max(0, nowMs - c.atMs) : c.positionMs;
}

/** Whether `later` is somewhere `earlier` did not predict: a seek, a stall or a restart. */
export function positionJumped(earlier: PositionClock, later: PositionClock): boolean {
  return Math.abs(positionAt(earlier, later.atMs) - later.positionMs) > POSITION_JUMP_MS;
}
