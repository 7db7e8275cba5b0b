import type { PlayerSession } from '../src/session/player-session.js';
import type { BridgeHarness } from '../test/support/bridge-harness.js';
import type { SimSession } from '../test/support/qconnect-service.js';
import { MpdLine } from './support-floors.js';
import { ReportWatch } from './support-report-watch.js';

/**
 * The starting point of the command-latency benches: the app connected, the queue loaded and
 * playing on MPD, the session idle, a watch on the renderer's reports and an idle line on the
 * bridge's MPD to time when MPD itself reports a change.
 */
export async function startPlaying(h: BridgeHarness): Promise<{
  sim: SimSession;
  rendererId: number;
  session: PlayerSession;
  watch: ReportWatch;
  idleLine: MpdLine;
}> {
  const { sim, rendererId } = await h.connectApp({ loadQueue: true });
  sim.jump(0, { playing: true });
  await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.1, 10_000);
  const session = h.bridge.player(h.playerId)?.session;
  if (!session) throw new Error('no session');
  await session.idle();
  const watch = new ReportWatch(h.service, rendererId);
  const idleLine = await MpdLine.open(h.mpd.host, h.mpd.port);
  return { sim, rendererId, session, watch, idleLine };
}
