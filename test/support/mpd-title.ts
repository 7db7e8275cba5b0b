import type { MpdServer } from './mpd-server.js';

/**
 * Resolves once MPD plays (state play, audio past 0) the song titled `title` (currentsong), as
 * MPD reports no event for a title: polled every 100 ms until `timeoutMs`.
 */
export async function waitForPlayingTitle(mpd: MpdServer, title: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await mpd.status();
    const last = await mpd.command('currentsong');
    if (status.state === 'play' && Number(status.elapsed ?? 0) > 0 && last.includes(`Title: ${title}\n`))
      return;
    if (Date.now() > deadline)
      throw new Error(
        `MPD did not play "${title}" within ${timeoutMs} ms (state ${status.state}; ${last.replace(/\n/g, ' | ')})`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
