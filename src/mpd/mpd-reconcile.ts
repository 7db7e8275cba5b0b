import type { Logger } from 'pino';
import type { PlayableItem, PlayedFormat, PlayerEvents } from '../core/player.js';
import type { TypedEmitter } from '../util/typed-emitter.js';
import { POSITION_JUMP_MS } from '../core/position-clock.js';
import { stripStreamTokens } from '../core/stream-tokens.js';
import type { MpdClient } from './mpd-client.js';
import type { MpdPlayerState } from './mpd-player-state.js';
import type { MpdQueueWindow } from './mpd-queue-window.js';
import { redactUrls, type MpdStatus } from './mpd-status.js';

/**
 * Reads MPD's status and turns what MPD did by itself into facts for the player's
 * events: a gapless move to our `next`, another client's move back to our `previous`, a URL that
 * failed, the end of the window.
 * MPD's failure modes (docs/protocol.md §9.2): a failing URL alone gives `state: stop` with an
 * `error:` line naming it; with a following song MPD skips to it and the error
 * vanishes; a next song failing at the change stops on it with the error; a refused
 * seek stops with an error that names no URL.
 */

export type PlayerFact =
  | { readonly type: 'trackStarted'; readonly item: PlayableItem }
  | { readonly type: 'itemFailed'; readonly item: PlayableItem; readonly reason: string }
  | { readonly type: 'queueEnded' }
  | { readonly type: 'formatChanged'; readonly format: PlayedFormat }
  | { readonly type: 'volumeChanged'; readonly percent: number; readonly muted: boolean }
  | { readonly type: 'steppedAside' }
  | { readonly type: 'previousRequested' }
  | { readonly type: 'previousStarted'; readonly item: PlayableItem };

/** A restart reads as one while `elapsed` is still under this (the watcher reads it within ms). */
const RESTART_WITHIN_MS = 1000;
/** `stoppedAtTheChange` and `restartedByOther`: this close to the end, a song counts as finished. */
const END_OF_SONG_MS = 1500;

export interface ReconcileContext {
  readonly client: MpdClient;
  readonly window: MpdQueueWindow;
  readonly state: MpdPlayerState;
  readonly logger: Logger;
  /** A sync for a change MPD announced by itself (the watcher), not one after a command of ours. */
  readonly outside?: boolean;
}

/** Folds MPD's status into `state` and `window` and returns the facts to emit, in order. */
export async function reconcile({
  client,
  window,
  state: s,
  logger,
  outside = false,
}: ReconcileContext): Promise<PlayerFact[]> {
  let st = await client.status();
  if (await playsOthers(client, window, st)) {
    // Another MPD client took the speaker (docs/protocol.md §9.4): forget our window, touch nothing.
    window.set(null, null);
    s.resetTrack();
    logger.info('another MPD client plays its own songs: stepping aside');
    const effects = s.apply(st, Date.now());
    return [...(effects.volume ? [{ type: 'volumeChanged' as const, ...effects.volume }] : []), { type: 'steppedAside' }];
  }
  const facts: PlayerFact[] = [];
  const prev = window.previous;
  if (window.current !== null && prev?.songId != null && st.songId === prev.songId) {
    // Another client's `previous` (or its play of that song): MPD plays our previous entry from its
    // start (docs/protocol.md §9.4). The window slides back around it; the song after it stays.
    const gone = window.back();
    if (gone?.songId != null) await client.deleteId(gone.songId).catch(() => {});
    s.resetTrack();
    if (st.state === 'play') s.startBuffering(0);
    logger.info({ queueItemId: prev.item.queueItemId }, 'another MPD client moved back to the previous item');
    facts.push({ type: 'previousStarted', item: prev.item });
  }
  const cur = window.current;
  const next = window.next;
  // With our previous song before it, a `previous` moves MPD there: a restart is then a client's seek.
  const nothingBefore = window.previous?.songId == null;
  if (outside && nothingBefore && restartedByOther(st, s, cur?.songId ?? null, Date.now())) {
    logger.info('another MPD client restarted the current song: previous');
    facts.push({ type: 'previousRequested' });
  }
  let failed = st.error === null ? null : await readError(client, window, st, st.error, logger);

  const onNext = cur !== null && next?.songId != null && st.songId === next.songId;
  if (onNext && failed?.item !== next.item && !s.currentStarted && st.state !== 'stop') {
    // MPD skipped past a current URL it could not open. The session decides what comes
    // next (Player.itemFailed), so MPD must not play on by itself — also when the failure was
    // already read and reported from its error line before MPD moved on (a loaded machine).
    await client.stop();
    st = await client.status();
    if (!s.currentFailed) {
      failed = {
        item: cur.item,
        reason: failed?.item === cur.item ? failed.reason : 'MPD could not open it and skipped past it',
      };
    }
  } else if (onNext && (st.state !== 'stop' || failed?.item === next.item)) {
    const gone = window.advance();
    // The finished entry stays as the previous one; the one before it leaves MPD's queue.
    if (gone?.songId != null) await client.deleteId(gone.songId).catch(() => {});
    s.resetTrack();
    s.currentStarted = true;
    logger.info({ queueItemId: next.item.queueItemId }, 'mpd moved on to the next item');
    facts.push({ type: 'trackStarted', item: next.item });
  }

  if (!onNext && cur !== null && next !== null && stoppedAtTheChange(st, s, cur.songId)) {
    // The next URL failed to open and MPD stopped on the finished song with no error left to
    // read: it is the next item that failed. Move on to it and report it, or the queue stalls.
    const gone = window.advance();
    if (gone?.songId != null) await client.deleteId(gone.songId).catch(() => {});
    s.resetTrack();
    s.currentStarted = true;
    facts.push({ type: 'trackStarted', item: next.item });
    failed ??= { item: next.item, reason: 'MPD stopped before the next item: it could not be opened' };
  }

  if (
    !onNext &&
    cur !== null &&
    next?.songId != null &&
    window.next === next &&
    (await ranPastNext(client, st, s, next.songId, failed?.item === next.item))
  ) {
    // MPD moved onto our next entry (at the change, or another client's `next`), could not open it
    // and found nothing after it: it stopped with no current song (docs/protocol.md §9.2). That is
    // the next item failing, never the end of the Qobuz queue: move on to it and report it.
    const gone = window.advance();
    if (gone?.songId != null) await client.deleteId(gone.songId).catch(() => {});
    s.resetTrack();
    s.currentStarted = true;
    facts.push({ type: 'trackStarted', item: next.item });
    failed = failed?.item === next.item ? failed : { item: next.item, reason: 'MPD could not open it and stopped' };
  }

  if (failed && failed.item === window.current?.item && !s.currentFailed) {
    s.currentFailed = true;
    s.bufferFromSec = null;
    const { item, reason } = failed;
    logger.warn(
      { queueItemId: item.queueItemId, trackId: item.trackId, reason },
      'mpd could not play an item',
    );
    facts.push({ type: 'itemFailed', item, reason });
  }

  const ended = window.current !== null && st.state === 'stop' && st.songId === null;
  if (ended && s.status === 'playing' && s.pendingStartMs === null && !s.currentFailed) {
    const finished = [window.previous?.songId, window.current?.songId];
    window.set(null, null);
    s.resetTrack();
    // Only our songs: songs another client queued after them are theirs.
    for (const id of finished) if (id != null) await client.deleteId(id).catch(() => {});
    logger.info('mpd reached the end of the window: queue ended');
    facts.push({ type: 'queueEnded' });
  }

  const effects = s.apply(st, Date.now());
  const changes: PlayerFact[] = [];
  if (effects.format) changes.push({ type: 'formatChanged', format: effects.format });
  if (effects.volume) changes.push({ type: 'volumeChanged', ...effects.volume });
  return [...changes, ...facts];
}

/**
 * MPD's current song is not one of ours (another client played its own, or cleared the queue):
 * a song id outside our window, or no current song and our current one gone from the queue.
 */
async function playsOthers(client: MpdClient, window: MpdQueueWindow, st: MpdStatus): Promise<boolean> {
  const cur = window.current;
  if (cur?.songId == null) return false;
  if (st.songId !== null) return !window.entries().some((e) => e.songId === st.songId);
  if (st.playlistLength === 0) return true;
  return !(await client.playlistInfo()).some((song) => song.id === cur.songId);
}

/**
 * Another client's `previous` (docs/protocol.md §9.4): with no song before ours in MPD's queue, MPD
 * restarts the current one, which then plays from under a second, having been a second or more
 * further on (also from pause). Nothing else tells it from a client's `seekcur 0` while playing.
 * Not while ours is loading or buffering, and not at the song's end (MPD's own repeat, if a client
 * turned it on).
 */
function restartedByOther(st: MpdStatus, s: MpdPlayerState, songId: number | null, nowMs: number): boolean {
  if (songId === null || st.songId !== songId || st.state !== 'play' || st.elapsedSec === null) return false;
  if (s.status === 'stopped' || s.pendingStartMs !== null || s.bufferFromSec !== null || !s.currentStarted) return false;
  const before = s.positionAt(nowMs);
  const after = st.elapsedSec * 1000;
  if (after >= RESTART_WITHIN_MS || before - after < POSITION_JUMP_MS) return false;
  return s.durationMs === null || before < s.durationMs - END_OF_SONG_MS;
}

/**
 * MPD stopped on our current song right at its end while we were playing it, with a next entry
 * queued: the next one could not be opened. The end-of-song check keeps an `mpc stop` from
 * another client mid-song from counting as a failure.
 */
function stoppedAtTheChange(st: MpdStatus, s: MpdPlayerState, currentSongId: number | null): boolean {
  if (st.state !== 'stop' || currentSongId === null || st.songId !== currentSongId) return false;
  if (s.status !== 'playing' || s.pendingStartMs !== null || !s.currentStarted || s.currentFailed) return false;
  return s.durationMs !== null && s.positionAt(Date.now()) >= s.durationMs - END_OF_SONG_MS;
}

/**
 * MPD stopped with no current song while our next entry is still in its queue: it moved there and
 * could not open it (its `error:` names it, or was read before). MPD plays a next song it can open,
 * and another client's `stop` keeps the current song, so nothing else leaves this state.
 */
async function ranPastNext(
  client: MpdClient,
  st: MpdStatus,
  s: MpdPlayerState,
  nextSongId: number,
  errorNamesNext: boolean,
): Promise<boolean> {
  if (st.state !== 'stop' || st.songId !== null || s.pendingStartMs !== null || s.currentFailed) return false;
  if (errorNamesNext) return true;
  return (await client.playlistInfo()).some((song) => song.id === nextSongId);
}

/** Which window entry an `error:` line is about (cleared once read). */
async function readError(
  client: MpdClient,
  window: MpdQueueWindow,
  st: MpdStatus,
  error: string,
  logger: Logger,
): Promise<{ item: PlayableItem; reason: string } | null> {
  await client.clearError();
  // The reason goes to the log and to MQTT (event `reason`): no signed query, no stream token (README "HTTP endpoints").
  const reason = stripStreamTokens(redactUrls(error));
  const entry = window.byError(error);
  if (entry) return { item: entry.item, reason };
  // No URL in it (e.g. "Decoder failed to seek"): it is about the song MPD stopped on.
  const cur = window.current;
  if (cur && st.state === 'stop' && cur.songId !== null && st.songId === cur.songId)
    return { item: cur.item, reason };
  logger.debug({ error: reason }, 'mpd error about an entry not in the window');
  return null;
}

/** The facts as the player's events, in order. */
export function emitFacts(events: TypedEmitter<PlayerEvents>, facts: readonly PlayerFact[]): void {
  for (const fact of facts) {
    if (fact.type === 'trackStarted') events.emit('trackStarted', fact.item);
    else if (fact.type === 'itemFailed') events.emit('itemFailed', fact.item, fact.reason);
    else if (fact.type === 'queueEnded') events.emit('queueEnded');
    else if (fact.type === 'formatChanged') events.emit('formatChanged', fact.format);
    else if (fact.type === 'volumeChanged') events.emit('volumeChanged', fact.percent, fact.muted);
    else if (fact.type === 'previousRequested') events.emit('previousRequested');
    else if (fact.type === 'previousStarted') events.emit('previousStarted', fact.item);
  }
}
