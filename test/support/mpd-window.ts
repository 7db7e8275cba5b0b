import { expect } from 'vitest';
import type { BridgeHarness } from './bridge-harness.js';

/** The queue items MPD holds, in MPD's order, named through the bridge's stream tokens (-99: not ours). */
export async function mpdWindow(h: BridgeHarness): Promise<number[]> {
  const files = [
    ...(await h.mpd.command('playlistinfo')).matchAll(
      /^file: .*\/stream\/living_room\/([A-Za-z0-9_-]+)\.flac$/gm,
    ),
  ];
  return files.map((m) => h.bridge.tokens.lookup('living_room', m[1]!)?.queueItemId ?? -99);
}

/** Waits (15 s at most: a loaded machine) until MPD holds exactly `expected`, else fails showing what it holds. */
export async function mpdHolds(h: BridgeHarness, expected: number[]): Promise<void> {
  const deadline = Date.now() + 15_000;
  let got: number[] = [];
  while (Date.now() < deadline) {
    got = await mpdWindow(h);
    if (JSON.stringify(got) === JSON.stringify(expected)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  expect(got).toEqual(expected);
}
