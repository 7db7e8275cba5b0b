import { afterEach, describe, expect, it } from 'vitest';
import {
  startBridgeHarness,
  type BridgeHarness,
  type BridgeHarnessOptions,
} from './support/bridge-harness.js';
import { connectProbe, type MqttProbe } from './support/mosquitto-server.js';

/**
 * Issue #15, bad input (README "Own Qobuz identity"): unknown ids, an empty playlist, tracks Qobuz
 * will not stream, no user token, a createToken Qobuz refuses or never answers — each gets one
 * clear `set/result`, and the player, MPD and the Qobuz session stay as they were.
 */
const B = 'qobuz-connect/living_room';
const ALBUM = '0060254735180';

const opened: Array<{ h: BridgeHarness; probe: MqttProbe }> = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.probe.end();
    await o.h.close();
  }
});

async function start(o: BridgeHarnessOptions): Promise<{ h: BridgeHarness; probe: MqttProbe }> {
  const h = await startBridgeHarness({ trackSeconds: [12, 12], ...o });
  const probe = await connectProbe(h.mosquitto!.url);
  await probe.subscribe(`${B}/#`);
  h.api.addAlbum({ id: ALBUM, title: 'Morning Jazz', trackIds: h.trackIds });
  const rig = { h, probe };
  opened.push(rig);
  return rig;
}

function command(probe: MqttProbe, payload: unknown): Promise<Record<string, unknown>> {
  return probe.command(B, payload, { timeoutMs: 30_000 });
}

describe('play_media and transfer refuse what they cannot do, changing nothing (issue #15)', () => {
  it('without a user token and without a session: ERR_NO_USER_TOKEN, and no link is opened', async () => {
    const { h, probe } = await start({});
    expect(await command(probe, { play_media: { type: 'album', id: ALBUM } })).toMatchObject({
      ok: false,
      code: 'ERR_NO_USER_TOKEN',
    });
    expect(await command(probe, { transfer: true })).toMatchObject({ ok: false, code: 'ERR_NO_USER_TOKEN' });
    // play keeps its old answer when the player has no way into a session of its own.
    expect(await command(probe, { action: 'play' })).toEqual({
      ok: false,
      error: 'no Qobuz session',
      code: 'ERR_NO_SESSION',
    });
    expect(h.service.connections()).toHaveLength(0);
    expect(h.api.requestsTo('qws/createToken')).toHaveLength(0);
    expect((await h.mpd.status()).state).toBe('stop');
  }, 30_000);

  it('refuses unknown ids, an empty playlist and tracks Qobuz will not stream, while the music plays on untouched', async () => {
    const { h, probe } = await start({ userAuthToken: true });
    h.api.addPlaylist({ id: '777', title: 'Empty', trackIds: [] });
    h.api.addTrack({
      id: 9001,
      title: 'Gone',
      artist: 'Nobody',
      album: 'Nowhere',
      durationMs: 1000,
      formats: {},
    });
    h.api.addAlbum({ id: 'unstreamable1', title: 'Gone', trackIds: [9001] });
    const sim = h.service.session(h.service.accountSessionId);
    const rid = await sim.waitForRenderer(h.playerUuid);
    expect(await command(probe, { play_media: { type: 'album', id: ALBUM } })).toEqual({ ok: true });
    await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0);
    const queueBefore = sim.queue();
    // The song as it stays: the stream's own tags may replace ours for a moment as its audio starts,
    // until the bridge puts ours back (src/mpd/mpd-queue-window.ts keepTags); a read in between
    // would not be what MPD holds afterwards.
    const ours = (song: string) => /^Name: Qobuz$/m.test(song) && (song.match(/^Title: /gm) ?? []).length === 1;
    let songBefore = await h.mpd.command('currentsong');
    for (const deadline = Date.now() + 10_000; !ours(songBefore) && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      songBefore = await h.mpd.command('currentsong');
    }
    expect(ours(songBefore), songBefore).toBe(true);
    const sentBefore = sim.sent(rid).length;
    const cases: Array<[unknown, string, RegExp]> = [
      [{ play_media: { type: 'album', id: 'nosuchalbum' } }, 'ERR_NOT_FOUND', /no album nosuchalbum/],
      [{ play_media: 'https://open.qobuz.com/playlist/123456' }, 'ERR_NOT_FOUND', /no playlist 123456/],
      [{ play_media: { type: 'playlist', id: '777' } }, 'ERR_NOT_FOUND', /playlist 777 has no tracks/],
      [{ play_media: { type: 'track', id: 424242 } }, 'ERR_NOT_FOUND', /no track 424242/],
      [{ play_media: 'track:9001' }, 'ERR_NOT_STREAMABLE', /cannot be streamed/],
      [{ play_media: 'album:unstreamable1' }, 'ERR_NOT_STREAMABLE', /none of the 1 tracks/],
      [
        { play_media: 'https://example.com/album/abc' },
        'ERR_BAD_COMMAND',
        /Qobuz album, playlist or track link/,
      ],
      [{ play_media: { type: 'album', id: ALBUM }, volume: 10 }, 'ERR_BAD_COMMAND', /play_media goes alone/],
    ];
    for (const [payload, code, error] of cases) {
      const answer = await command(probe, payload);
      expect(answer, JSON.stringify(payload)).toMatchObject({ ok: false, code });
      expect(String(answer.error)).toMatch(error);
    }
    // Nothing reached Qobuz, the queue and MPD are as they were, and we still play.
    expect(
      sim
        .sent(rid)
        .slice(sentBefore)
        .filter((m) => [62, 63, 65, 66, 67, 68].includes(m.type)),
    ).toEqual([]);
    expect(sim.queue()).toEqual(queueBefore);
    expect(sim.activeRendererId).toBe(rid);
    expect(await h.mpd.command('currentsong')).toBe(songBefore);
    expect((await h.mpd.status()).state).toBe('play');
    // transfer while already playing here is nothing to do.
    expect(await command(probe, { transfer: true })).toEqual({ ok: true });
  }, 40_000);

  it('says there is nothing to take over when no device of the account has anything to play', async () => {
    const { h, probe } = await start({ userAuthToken: true });
    const sim = h.service.session(h.service.accountSessionId);
    const rid = await sim.waitForRenderer(h.playerUuid);
    const answer = await command(probe, { transfer: true });
    expect(answer).toMatchObject({ ok: false, code: 'ERR_BAD_COMMAND' });
    expect(String(answer.error)).toMatch(/nothing to take over/);
    expect(sim.sentTypes(rid)).not.toContain(63);
    expect(sim.activeRendererId).toBe(-1);
  }, 30_000);

  it('answers a createToken Qobuz refuses (401) with ERR_QOBUZ_AUTH and opens no link; the next try works', async () => {
    const { h, probe } = await start({ userAuthToken: true, cloud: false });
    h.api.failNext(1, 401, { path: 'qws/createToken', message: 'User authentication is required.' });
    const answer = await command(probe, { play_media: { type: 'album', id: ALBUM } });
    expect(answer).toMatchObject({ ok: false, code: 'ERR_QOBUZ_AUTH' });
    expect(String(answer.error)).toMatch(
      /qws\/createToken refused with HTTP 401 using X-User-Auth-Token \(user_auth_token\)/,
    );
    expect(h.service.connections()).toHaveLength(0);
    expect((await h.mpd.status()).state).toBe('stop');
    // cloud: false — nothing joined in the background either; the next command mints and plays.
    expect(await command(probe, { play_media: { type: 'album', id: ALBUM } })).toEqual({ ok: true });
    await h.mpd.waitForStatus((s) => s.state === 'play');
    expect(h.service.connections()).toHaveLength(1);
  }, 30_000);

  it('answers a createToken that never comes with ERR_TIMEOUT and does not join when it comes late', async () => {
    const { h, probe } = await start({ userAuthToken: true, cloud: false, mediaStepTimeoutMs: 800 });
    h.api.setDelay(2500, 'qws/createToken');
    const answer = await command(probe, { play_media: { type: 'album', id: ALBUM } });
    expect(answer).toMatchObject({ ok: false, code: 'ERR_TIMEOUT' });
    expect(String(answer.error)).toMatch(/qws\/createToken/);
    // The late token arrives and is dropped: still no link, MPD untouched.
    await h.service.waitFor(() => h.logs.some((l) => l.includes('qobuz websocket token minted')), {
      timeoutMs: 10_000,
      what: 'the late answer read',
    });
    await h.bridge.player(h.playerId)!.idle();
    expect(h.service.connections()).toHaveLength(0);
    expect((await h.mpd.status()).state).toBe('stop');
  }, 30_000);

  it('keeps trying to join in the background when Qobuz refuses the first createToken at start', async () => {
    const { h, probe } = await start({ userAuthToken: true, cloudRetryStepsMs: [200] });
    // Too late for the very first mint (it runs as the bridge starts): refuse the next two instead.
    const sim = h.service.session(h.service.accountSessionId);
    const rid = await sim.waitForRenderer(h.playerUuid);
    h.api.failNext(2, 401, { path: 'qws/createToken' });
    // The service ends the session for good: the player mints again after a while, refused twice, then joins.
    sim.sendDisconnect(rid, false);
    await probe.waitFor((m) => m.topic === `${B}/event` && JSON.parse(m.payload).type === 'session_closed');
    await sim.waitFor(
      () =>
        h.api.requestsTo('qws/createToken').length >= 4 &&
        sim.renderers().find((r) => r.rendererId === rid)?.connected,
      {
        timeoutMs: 15_000,
        what: 'joined again after two refusals',
      },
    );
    expect(h.api.requestsTo('qws/createToken').map((q) => q.status)).toEqual([200, 401, 401, 200]);
    expect(h.logs.some((l) => l.includes('qws/createToken failed'))).toBe(true);
  }, 30_000);
});
