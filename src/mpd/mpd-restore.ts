import type { Logger } from 'pino';
import { errorMessage } from '../core/qcb-error.js';
import type { MpdClient } from './mpd-client.js';
import type { MpdPlayerState } from './mpd-player-state.js';
import type { MpdQueueWindow } from './mpd-queue-window.js';
import type { VolumeMapping } from './volume-mapping.js';

/**
 * Starting MpdPlayer's current song, and MpdPlayer across a lost MPD (mpd-connection.ts reconnects
 * with backoff): what to bring back, kept while MPD is away, and bringing it back once MPD answers.
 */
export type Resume = 'play' | 'pause' | 'none';

/** MPD's answer when the song it was told to start could not be opened or decoded. */
const STREAM_FAILED = /failed to (decode|open)/i;

/** Starts the window's current song at `positionMs`, buffering until its audio flows. */
export async function startCurrent(
  client: MpdClient,
  window: MpdQueueWindow,
  state: MpdPlayerState,
  positionMs: number,
  logger: Logger,
): Promise<void> {
  const id = window.current?.songId;
  if (id == null) return;
  state.startBuffering(positionMs);
  try {
    if (positionMs > 0) await client.seekId(id, positionMs / 1000);
    else await client.playId(id);
  } catch (err) {
    // docs/protocol.md §9.2: a stream that fails fast (404) can fail inside `playid` itself. That is
    // the item failing, not the command: the sync that follows reads MPD's error and reports it.
    if (!STREAM_FAILED.test(errorMessage(err))) throw err;
    logger.debug({ err: errorMessage(err) }, 'the item failed as it started');
  }
}

/** MPD went away: the clock freezes where it was, and what it was doing is what comes back. */
export function resumeAtLoss(s: MpdPlayerState, hasCurrent: boolean): Resume {
  const paused = s.pendingStartMs !== null || s.status === 'paused';
  const resume: Resume = !hasCurrent ? 'none' : s.status === 'playing' ? 'play' : paused ? 'pause' : 'none';
  if (s.pendingStartMs !== null) s.positionMs = s.pendingStartMs;
  s.freeze(Date.now());
  return resume;
}

export interface RestoreContext {
  readonly client: MpdClient;
  readonly window: MpdQueueWindow;
  readonly state: MpdPlayerState;
  readonly volume: VolumeMapping;
  readonly resume: Resume;
  readonly startCurrent: (client: MpdClient, positionMs: number) => Promise<void>;
  readonly logger: Logger;
}

/**
 * After (re)connecting: our volume, our window, and playback where it was at the loss. An MPD that
 * kept running with exactly our window keeps playing it (its song ids are taken over); otherwise the
 * window is written again and started where it was.
 */
export async function restoreSpeaker({ client, window, state: s, volume, resume, startCurrent, logger }: RestoreContext): Promise<void> {
  const st = await client.status();
  if (!volume.fixed && st.volume !== null && s.mpdVolume !== null && st.volume !== s.mpdVolume)
    await client.setVol(s.mpdVolume);
  // Nothing of ours to restore: MPD's modes are its other clients' (`load` turns them off when we play).
  if (!window.current) return;
  await client.setPlaybackModesOff();
  const wantPlay = resume === 'play';
  const drift = Math.abs((st.elapsedSec ?? 0) * 1000 - s.positionMs);
  const adopted = (st.state === 'play') === wantPlay && drift < 3000 && (await window.adopt(client, st));
  if (!adopted) {
    const positionMs = s.positionMs;
    s.resetTrack();
    await client.clearError();
    await window.write(client);
    if (wantPlay) await startCurrent(client, positionMs);
    else if (resume === 'pause') s.pendingStartMs = positionMs;
  } else if (resume === 'pause' && st.state === 'stop') {
    s.pendingStartMs = s.positionMs;
  }
  // Metadata that arrived while MPD was away (no-op for songs already fully tagged).
  for (const entry of window.entries()) await window.writeTags(client, entry);
  logger.info({ resume, positionMs: s.positionMs, adopted }, 'mpd window restored');
}
