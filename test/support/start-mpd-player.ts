import pino from 'pino';
import { MpdPlayer, type MpdPlayerOptions } from '../../src/mpd/mpd-player.js';
import type { MpdServer } from './mpd-server.js';
import { nextEvent } from './next-event.js';

/**
 * An MpdPlayer on a test MPD, started and (unless `waitUp` is false) connected. start() resolves
 * after the first connection attempt, and a loaded machine may need a second one, so this waits
 * for the player to say MPD is available (issue #11).
 */
export async function startMpdPlayer(
  mpd: Pick<MpdServer, 'host' | 'port'>,
  options: Omit<MpdPlayerOptions, 'host' | 'port' | 'volume' | 'logger'> & Partial<Pick<MpdPlayerOptions, 'volume' | 'logger'>>,
  opts: { waitUp?: boolean } = {},
): Promise<MpdPlayer> {
  const player = new MpdPlayer({ volume: { min: 0, max: 100 }, logger: pino({ level: 'silent' }), ...options, host: mpd.host, port: mpd.port });
  const up = nextEvent(player, 'availabilityChanged', (available) => available);
  up.catch(() => undefined); // not awaited when MPD is meant to be down
  await player.start();
  if (opts.waitUp ?? true) await up;
  return player;
}
