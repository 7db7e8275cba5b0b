import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import { connectProbe, type MqttProbe } from './support/mosquitto-server.js';

/**
 * Issue #13 / README "HTTP endpoints": stream tokens never appear in logs or MQTT (MPD's error texts quote
 * the URL) and die with their session — when a new connect replaces it and when its link
 * closes for good. The whole bridge with real MPD, real Mosquitto and the simulated service.
 */
let h: BridgeHarness;
let probe: MqttProbe;
const B = 'qobuz-connect/living_room';
/** Any stream token in a text (32 url-safe characters after the player's stream path). */
const TOKEN_IN_TEXT = /\/stream\/living_room\/(?!\[token\])[A-Za-z0-9_-]{22,}/;

beforeAll(async () => {
  h = await startBridgeHarness({ trackSeconds: [30, 32, 35] });
  probe = await connectProbe(h.mosquitto?.url ?? '');
  await probe.subscribe(`${B}/#`);
}, 60_000);
afterAll(async () => {
  await probe?.end();
  await h?.close();
});

/** The stream URLs MPD holds in its queue right now. */
async function mpdUrls(): Promise<string[]> {
  const list = await h.mpd.command('playlistinfo');
  return [...list.matchAll(/^file: (http:\/\/\S+\/stream\/\S+)$/gm)].map((m) => m[1] ?? '');
}

/** The stream route's answer to MPD's request for `url` (302 while the token lives, 404 after). */
function streamStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** A new session playing its first item; resolves with the URL MPD plays it from. */
async function playing(): Promise<{ url: string; sim: Awaited<ReturnType<BridgeHarness['connectApp']>>['sim']; rendererId: number }> {
  const before = new Set(await mpdUrls());
  const { sim, rendererId } = await h.connectApp({ loadQueue: true });
  sim.jump(0, { playing: true });
  // MPD may still be playing the previous session's item: wait for this session's own URL.
  let url = '';
  await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.2, 10_000);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    url = /^file: (\S+)$/m.exec(await h.mpd.command('currentsong'))?.[1] ?? '';
    if (url.includes('/stream/') && !before.has(url)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(before.has(url)).toBe(false);
  expect(await streamStatus(url)).toBe(302);
  return { url, sim, rendererId };
}

describe('stream tokens die with their session (issue #13)', () => {
  it('kills the tokens of a session replaced by a new connect', async () => {
    const { url } = await playing();
    expect(h.bridge.tokens.size('living_room')).toBeGreaterThan(0);
    await h.connectApp();
    expect(await streamStatus(url)).toBe(404);
  }, 30_000);

  it('keeps the tokens when the app picks us again in the same session (MPD keeps playing its queue)', async () => {
    const { url, sim } = await playing();
    await h.connectApp({ sessionId: sim.sessionId });
    expect(h.bridge.tokens.size('living_room')).toBeGreaterThan(0);
    expect(await streamStatus(url)).toBe(302);
  }, 30_000);

  it('kills the tokens of a session whose link closed for good', async () => {
    const { url, sim, rendererId } = await playing();
    const from = probe.messages.length;
    sim.sendDisconnect(rendererId, false); // the service: do not reconnect
    await probe.waitFor((m) => m.topic === `${B}/event` && (JSON.parse(m.payload) as { type: string }).type === 'session_closed', { from, timeoutMs: 10_000 });
    expect(h.bridge.tokens.size('living_room')).toBe(0);
    expect(await streamStatus(url)).toBe(404);
  }, 30_000);
});

describe('stream tokens never reach a log line or MQTT (issue #13)', () => {
  it('strips the stream URL MPD quotes in its error from the warning and the playback_error reason', async () => {
    const { sim } = await playing();
    // The last item: with no song after it MPD stops on it and its error line quotes the URL.
    const failing = h.trackIds[2] ?? 0;
    for (const format of [5, 6, 7, 27]) h.api.refuseFormat(failing, format, 'error');
    const from = probe.messages.length;
    sim.jump(2, { playing: true });
    const event = await probe.waitFor((m) => m.topic === `${B}/event` && (JSON.parse(m.payload) as { type: string }).type === 'playback_error', { from, timeoutMs: 10_000 });
    const reason = (JSON.parse(event.payload) as { reason?: string }).reason ?? '';
    console.log(`playback_error reason: ${reason}`);
    expect(reason).toContain('/stream/living_room/[token].flac');
    expect(reason).not.toMatch(TOKEN_IN_TEXT);
    // Nowhere at all: not in any MQTT payload, not in any log line at debug.
    for (const m of probe.messages) expect(m.payload, m.topic).not.toMatch(TOKEN_IN_TEXT);
    const leaking = h.logs.filter((line) => TOKEN_IN_TEXT.test(line));
    expect(leaking).toEqual([]);
    // The warning about the item is there, with the token stripped.
    expect(h.logs.some((l) => l.includes('mpd could not play an item') || l.includes('item failed to play'))).toBe(true);
  }, 30_000);
});
