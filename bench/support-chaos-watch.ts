import { PLAYING } from '../test/support/qconnect-service.js';
import type { ChaosPlayer, ChaosRig } from './support-chaos-rig.js';

/**
 * bench/chaos's invariants (issue #21 part 4): audio that stops with nothing forcing it, and
 * the three views of a player (MPD, our reports to Qobuz, MQTT) agreeing after a quiet second.
 */
export interface Violation {
  /** Seconds since the soak started. */
  readonly at: number;
  readonly player: string | null;
  readonly kind: 'silence' | 'disagreement' | 'session' | 'recovery' | 'resources' | 'unhandled';
  detail: string;
}

export interface LastMpd {
  readonly state: string;
  readonly elapsedS: number;
  readonly durationS: number;
  readonly songId: string | null;
}

/**
 * Samples each player's MPD every `intervalMs`. Audio flows while MPD says `play` and its elapsed
 * time moves on (or the song changed). A stretch without flow longer than `maxSilenceMs` is a
 * violation unless the player was asked to pause or a fault or command forces it
 * (`forced(p)`): a forced stretch ends the count, which starts again when the grace ends. A
 * stretch that begins while a REST fault is under way counts from that fault's end.
 */
export class SilenceWatch {
  readonly last = new Map<string, LastMpd>();
  samples = 0;
  /** Longest unforced silence seen, ms (violations or not). */
  longestMs = 0;
  #running = true;
  #loops: Promise<void>[] = [];

  constructor(
    private readonly rig: ChaosRig,
    private readonly forced: (p: ChaosPlayer) => boolean,
    private readonly restExcuses: () => boolean,
    private readonly record: (v: Omit<Violation, 'at'>) => Violation,
    private readonly maxSilenceMs = 1500,
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    this.#loops = this.rig.players.map((p) => this.#loop(p));
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  async #loop(p: ChaosPlayer): Promise<void> {
    let prev: LastMpd | null = null;
    let silentSince: number | null = null;
    let excused = false;
    let open: Violation | null = null;
    while (this.#running) {
      const now = Date.now();
      const st = p.mpdDown ? null : await p.mpd.status().catch(() => null);
      const cur: LastMpd | null = st
        ? {
            state: st['state'] ?? '?',
            elapsedS: Number(st['elapsed'] ?? 0),
            durationS: Number(st['duration'] ?? 0),
            songId: st['songid'] ?? null,
          }
        : null;
      this.samples += 1;
      if (cur) this.last.set(p.id, cur);
      const flowing =
        cur !== null &&
        cur.state === 'play' &&
        (prev === null || prev.songId !== cur.songId || cur.elapsedS > prev.elapsedS);
      prev = cur;
      if (flowing || this.forced(p)) {
        if (open && silentSince !== null) open.detail += `; lasted ${((now - silentSince) / 1000).toFixed(1)} s`;
        open = null;
        silentSince = null;
      } else {
        if (silentSince === null) excused = this.restExcuses();
        // A silence that began under a REST fault counts from the fault's end.
        if (excused && this.restExcuses()) silentSince = now;
        else excused = false;
        silentSince ??= now;
        const lasted = now - silentSince;
        this.longestMs = Math.max(this.longestMs, lasted);
        if (!open && lasted > this.maxSilenceMs)
          open = this.record({
            player: p.id,
            kind: 'silence',
            detail: `no audio for over ${this.maxSilenceMs / 1000} s with nothing forcing it (MPD ${
              cur ? `${cur.state}, song ${cur.songId}, elapsed ${cur.elapsedS.toFixed(1)}/${cur.durationS.toFixed(0)} s` : 'unreachable'
            })`,
          });
      }
      await new Promise((r) => setTimeout(r, this.intervalMs));
    }
  }
}

type Play = 'play' | 'pause' | 'stop' | '?';
interface View {
  readonly state: Play;
  readonly trackId: number | null;
  /** MPD stopped with songs loaded and none current: the tracks its queue holds (by title). */
  readonly holds?: readonly number[];
}

const fromReport = (s: number): Play =>
  s === PLAYING.PLAYING ? 'play' : s === PLAYING.PAUSED ? 'pause' : s === PLAYING.STOPPED ? 'stop' : '?';
const fromMqtt = (s: string): Play =>
  s === 'playing' ? 'play' : s === 'paused' ? 'pause' : s === 'stopped' || s === 'idle' ? 'stop' : '?';
const show = (v: View | null): string =>
  v ? `${v.state} track ${v.holds ? `one of [${v.holds.join(', ')}] (no current song)` : (v.trackId ?? '-')}` : 'none';

/** The three views of `p` now: MPD's, our last report to Qobuz (what the service last received), MQTT's. */
export async function viewsOf(rig: ChaosRig, p: ChaosPlayer): Promise<{ mpd: View | null; report: View | null; mqtt: View | null }> {
  const [mpd, r, m] = [await mpdView(rig, p), p.sim.renderers().find((x) => x.rendererId === p.rendererId)?.lastState ?? null, rig.mqtt.state(p.id)];
  const report: View | null = r
    ? {
        state: fromReport(r.playingState),
        trackId: p.sim.queue().items.find((i) => i.queueItemId === r.currentQueueItemId)?.trackId ?? null,
      }
    : null;
  const mqtt: View | null = m ? { state: fromMqtt(m.state), trackId: m.trackId } : null;
  return { mpd, report, mqtt };
}

/**
 * MPD's view. A song loaded but never started stays stopped in MPD (it cannot pause a song it
 * never started) and the bridge reports it paused (src/mpd/mpd-player-state.ts `pendingStartMs`):
 * `stop` with songs queued reads as `pause`, on the current song when MPD has one, else on one of
 * the songs it holds (named by the titles the bridge tagged them with). Playing or paused, MPD's
 * `duration` names the track (the tracks' lengths differ).
 */
async function mpdView(rig: ChaosRig, p: ChaosPlayer): Promise<View | null> {
  if (p.mpdDown) return null;
  const st = await p.mpd.status().catch(() => null);
  if (!st) return null;
  const state = st['state'] ?? '?';
  if (state === 'play' || state === 'pause')
    return { state, trackId: rig.trackBySeconds.get(Math.round(Number(st['duration'] ?? -1))) ?? null };
  if (state !== 'stop') return { state: '?', trackId: null };
  if (Number(st['playlistlength'] ?? 0) === 0) return { state: 'stop', trackId: null };
  const songs = await p.mpd.songs(st['songid'] === undefined ? 'playlistinfo' : 'currentsong').catch(() => []);
  const ids = songs.map((s) => rig.trackByTitle.get(s['Title']?.[0] ?? '')).filter((id) => id !== undefined);
  return st['songid'] === undefined
    ? { state: 'pause', trackId: null, holds: ids }
    : { state: 'pause', trackId: ids[0] ?? null };
}

/**
 * Polls until MPD, the report and MQTT agree on the play state and the track (a stopped player:
 * on the state only), or `withinMs` passed. Resolves with how long agreement took, or with what
 * each said last.
 */
export async function awaitAgreement(
  rig: ChaosRig,
  p: ChaosPlayer,
  withinMs: number,
): Promise<{ ms: number; views: Awaited<ReturnType<typeof viewsOf>> } | { ms: null; detail: string }> {
  const start = Date.now();
  for (;;) {
    const v = await viewsOf(rig, p);
    const all = [v.mpd, v.report, v.mqtt];
    const named = v.report?.trackId ?? null;
    const sameTrack = v.mpd?.holds
      ? named !== null && v.mqtt?.trackId === named && (v.mpd.holds.length === 0 || v.mpd.holds.includes(named))
      : all.every((x) => x?.trackId !== null && x?.trackId === v.mpd?.trackId);
    const agree =
      all.every((x) => x !== null && x.state !== '?' && x.state === v.mpd?.state) &&
      (v.mpd?.state === 'stop' || sameTrack);
    if (agree) return { ms: Date.now() - start, views: v };
    if (Date.now() - start > withinMs)
      return {
        ms: null,
        detail: `no agreement within ${withinMs / 1000} s: MPD ${show(v.mpd)}, report to Qobuz ${show(v.report)}, MQTT ${show(v.mqtt)}`,
      };
    await new Promise((r) => setTimeout(r, 100));
  }
}
