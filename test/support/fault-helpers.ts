import { qconnect } from '../../src/protocol/generated/qconnect.js';
import type { MpdServer } from './mpd-server.js';
import type { SimSession } from './qconnect-service.js';

/**
 * Small tools for the fault scenarios of issue #8 (test/faults): poll with a deadline, sample
 * MPD in the background to prove it never left a state, and read the renderer's reports.
 */

/** Polls `check` every `intervalMs` until it returns a value; rejects naming `what` after `timeoutMs`. */
export async function pollUntil<T>(
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeoutMs ?? 10_000} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
  }
}

export interface MpdSample {
  readonly at: number;
  /** 'play' | 'pause' | 'stop', or 'unreachable' when the status read failed. */
  readonly state: string;
  readonly elapsedMs: number;
  readonly songId: string | null;
}

/** Reads MPD's status every `intervalMs` until stop(); every sample is kept. */
export function sampleMpd(mpd: MpdServer, intervalMs = 50): { samples: MpdSample[]; stop(): Promise<MpdSample[]> } {
  const samples: MpdSample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const s = await mpd.status();
        samples.push({ at: Date.now(), state: s.state ?? '?', elapsedMs: Number(s.elapsed ?? 0) * 1000, songId: s.songid ?? null });
      } catch {
        samples.push({ at: Date.now(), state: 'unreachable', elapsedMs: 0, songId: null });
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    samples,
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}

export type ReportState = qconnect.QueueRendererState.$Properties;

/** The renderer's state reports (23) from index `after` of sim.sent(), with arrival times. */
export function reportsOf(sim: SimSession, rid: number, after = 0): Array<{ at: number; index: number; state: ReportState }> {
  return sim
    .sentOfType(rid, 23)
    .filter((m) => m.index >= after)
    .map((m) => ({ at: m.at, index: m.index, state: (m.body as { state?: ReportState }).state ?? {} }));
}

/** Waits for a report at index >= `after` matching `pred`. */
export async function reportWhere(
  sim: SimSession,
  rid: number,
  pred: (s: ReportState) => boolean,
  opts: { after?: number; timeoutMs?: number } = {},
): Promise<{ at: number; index: number; state: ReportState }> {
  return sim.waitFor(() => reportsOf(sim, rid, opts.after ?? 0).find((r) => pred(r.state)), {
    timeoutMs: opts.timeoutMs ?? 10_000,
    what: 'a matching state report (23)',
  });
}

export const PLAYING = qconnect.PlayingState.PLAYING;
export const BUFFER = qconnect.BufferState;
