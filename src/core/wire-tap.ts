/**
 * The port through which adapters show what they said on the wire (README "Reporting a problem",
 * docs/architecture.md "Diagnostics"): the cloud link its QConnect messages, the Qobuz REST
 * transport its calls, the MPD client its commands. The composition root wires each tap to the
 * diagnostics module (the in-memory rings and the recorder); adapters never know who listens.
 *
 * Taps are optional and must be cheap: an adapter calls them inline, on its own hot path. They
 * never throw into the adapter (`safeTap` below), and they get what was on the wire as it was:
 * redaction is the listener's job, once, in one place (src/diagnostics/).
 */

export type WireDirection = 'in' | 'out';

/** One REST exchange: never the query (it carries signatures) nor a body (they carry tokens). */
export interface RestExchange {
  readonly method: string;
  /** `<object>/<method>`, e.g. `track/getFileUrl`. */
  readonly path: string;
  /** HTTP status, or null when no answer came (timeout, network error). */
  readonly status: number | null;
  readonly ms: number;
  readonly attempt: number;
  /** Why no answer came. */
  readonly error?: string;
}

/** One MPD command and how it went. */
export interface MpdExchange {
  readonly command: string;
  readonly args: readonly string[];
  readonly ms: number;
  readonly ok: boolean;
  readonly error?: string;
  /** The parsed answer of a `status` command (plain data), for the bundle's "last MPD statuses". */
  readonly status?: Readonly<Record<string, unknown>>;
}

export interface QconnectTap {
  /** One WebSocket binary message (one frame or several), as sent or received. */
  qconnect(direction: WireDirection, bytes: Uint8Array): void;
}

export interface RestTap {
  rest(exchange: RestExchange): void;
}

export interface MpdTap {
  mpd(exchange: MpdExchange): void;
}

/** All three, per player: what the composition root hands each player's adapters. */
export type WireTap = QconnectTap & RestTap & MpdTap;

/** Calls `fn`, swallowing whatever a listener throws: diagnostics never break the adapter they watch. */
export function safeTap(fn: () => void): void {
  try {
    fn();
  } catch {
    // A failing listener turns itself off (the recorder does, with one warning); the adapter goes on.
  }
}
