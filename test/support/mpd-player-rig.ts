import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { MpdPlayer } from '../../src/mpd/mpd-player.js';
import { AudioHttpServer } from './audio-http-server.js';
import { startMpd, type MpdServer } from './mpd-server.js';
import { startMpdPlayer } from './start-mpd-player.js';

export interface MpdPlayerRigParts {
  readonly mpd: MpdServer;
  readonly cdn: AudioHttpServer;
  /** A temporary folder for the test's audio files, removed after the file's tests. */
  readonly dir: string;
}

export interface MpdPlayerRig {
  /** Starts an MpdPlayer on the rig's MPD (startMpdPlayer); it is stopped after the test. */
  start(
    ...args: Parameters<typeof startMpdPlayer> extends [unknown, ...infer Rest] ? Rest : never
  ): Promise<MpdPlayer>;
}

/**
 * The hooks every MpdPlayer test file needs: a real MPD and a file server started once for the
 * file (then `setup` adds the audio), the test's player stopped after each test, everything
 * stopped and removed at the end.
 */
export function useMpdPlayerRig(
  name: string,
  setup: (parts: MpdPlayerRigParts) => Promise<void>,
): MpdPlayerRig {
  let parts: MpdPlayerRigParts | undefined;
  let player: MpdPlayer | undefined;
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), `qcb-mpd-${name}-`));
    const cdn = new AudioHttpServer();
    const [mpd] = await Promise.all([startMpd(), cdn.start()]);
    parts = { mpd, cdn, dir };
    await setup(parts);
  });
  afterEach(async () => {
    await player?.stop();
    player = undefined;
  });
  afterAll(async () => {
    await parts?.mpd.stop();
    await parts?.cdn.stop();
    if (parts) await rm(parts.dir, { recursive: true, force: true });
  });
  return {
    async start(options, opts) {
      if (!parts) throw new Error('useMpdPlayerRig: start() before the rig is up');
      player = await startMpdPlayer(parts.mpd, options, opts);
      return player;
    },
  };
}
