import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import { connectProbe, type MqttProbe } from './support/mosquitto-server.js';
import { promoteAutoplay } from './support/qconnect-queue-ops.js';
import type { SimSession } from './support/qconnect-service.js';
import { SimRenderer } from './support/sim-renderer.js';

/**
 * Issue #14: the Qobuz queue on MQTT and in Home Assistant, both ways. The retained queue listing
 * (`B/<player>/queue`), one event per Qobuz queue message, and the queue verbs `play_item`,
 * `queue_add`, `queue_clear` answered once the simulated service applied them — against real
 * Mosquitto and MPD, with payloads as README "MQTT topics" documents them.
 */
let h: BridgeHarness;
let probe: MqttProbe;
const B = 'qobuz-connect/living_room';
const ALBUM = '0060254728578';
const PLAYLIST = '1234567';

type Json = Record<string, unknown>;
type Entry = { queue_item_id: number; track_id: number; title: string | null; artist: string | null };
type Listing = {
  version: { major: number; minor: number } | null;
  shuffle: boolean;
  index: number | null;
  length: number;
  items: Entry[];
  window: unknown;
  autoplay: Entry[];
  next: Entry | null;
};

beforeAll(async () => {
  h = await startBridgeHarness({ trackSeconds: [30, 30, 30, 30] });
  h.api.addAlbum({ id: ALBUM, title: 'The Album', trackIds: [h.trackIds[2]!, h.trackIds[1]!] });
  h.api.addPlaylist({ id: PLAYLIST, title: 'The Playlist', trackIds: [h.trackIds[3]!] });
  probe = await connectProbe(h.mosquitto!.url);
  await probe.subscribe(`${B}/#`);
}, 60_000);
afterAll(async () => {
  await probe?.end();
  await h?.close();
});

const command = (payload: unknown): Promise<Json> => probe.command(B, payload, { timeoutMs: 15_000 });

async function event(type: string, from: number, pred: (e: Json) => boolean = () => true): Promise<Json> {
  const m = await probe.waitFor(
    (x) =>
      x.topic === `${B}/event` &&
      (JSON.parse(x.payload) as Json).type === type &&
      pred(JSON.parse(x.payload) as Json),
    { from },
  );
  return JSON.parse(m.payload) as Json;
}

async function listingWhere(pred: (l: Listing) => boolean, from = 0): Promise<Listing> {
  const m = await probe.waitFor((x) => x.topic === `${B}/queue` && pred(JSON.parse(x.payload) as Listing), {
    from,
    timeoutMs: 15_000,
  });
  return JSON.parse(m.payload) as Listing;
}

const queueEvents = (from: number): string[] =>
  probe.messages
    .slice(from)
    .filter((m) => m.topic === `${B}/event`)
    .map((m) => String((JSON.parse(m.payload) as Json).type))
    .filter((t) => /queue|tracks|shuffle_changed|autoplay/.test(t));

/** A new Qobuz session with the four test tracks loaded and item 0 playing on MPD. */
async function playingSession(): Promise<{ sim: SimSession; rid: number }> {
  const { sim, rendererId: rid } = await h.connectApp({ loadQueue: true });
  sim.jump(0, { playing: true });
  await h.mpd.waitForStatus((s) => s.state === 'play');
  await sim.waitFor(() => sim.savedState?.currentQueueItemId === 0 || undefined, {
    what: 'our report of item 0',
  });
  return { sim, rid };
}

describe('the Qobuz queue on MQTT (issue #14)', () => {
  it('lets an automation react to a track added in the app by adding an album after the current item', async () => {
    const { sim, rid } = await playingSession();
    // The automation's trigger: the app adds a track.
    let from = probe.messages.length;
    sim.addTracks([h.trackIds[3]!]);
    const added = await event('tracks_added', from);
    expect(added).toMatchObject({
      version: { major: 1, minor: 1 },
      count: 1,
      tracks: [{ queue_item_id: 4, track_id: h.trackIds[3] }],
      length: 5,
      from_mqtt: false,
    });
    expect(typeof added.at).toBe('string');

    // Its action: the album, next.
    from = probe.messages.length;
    const sentBefore = sim.sent(rid).length;
    expect(await command({ queue_add: { type: 'album', id: ALBUM, next: true }, id: 'auto-1' })).toEqual({
      ok: true,
      id: 'auto-1',
    });
    // Answered once the service applied it: the queue holds the album after the current item.
    const [t0, t1, t2, t3] = h.trackIds;
    expect(sim.queue().items.map((i) => i.trackId)).toEqual([t0, t2, t1, t1, t2, t3, t3]);
    const insert = sim.sentOfType(rid, 67).at(-1)!;
    expect(sim.sent(rid).indexOf(insert)).toBeGreaterThanOrEqual(sentBefore);
    // After the current item, queue item 0 (a zero is left off the wire: docs/protocol.md §0).
    expect(insert.body.insert_after ?? 0).toBe(0);
    expect(insert.body.track_ids).toEqual([t2, t1]);
    expect(h.api.requestsTo('album/get')).toHaveLength(1);
    expect(await event('tracks_inserted', from)).toMatchObject({
      count: 2,
      after_queue_item_id: 0,
      tracks: [
        { queue_item_id: 5, track_id: h.trackIds[2] },
        { queue_item_id: 6, track_id: h.trackIds[1] },
      ],
      length: 7,
      from_mqtt: true,
    });
    // The listing shows the new order with titles, and what comes next (the "Up next" sensor).
    const listing = await listingWhere(
      (l) => l.length === 7 && l.items.every((i) => i.title !== null) && l.next?.queue_item_id === 5,
      from,
    );
    expect(listing).toMatchObject({
      version: { major: 1, minor: 2 },
      shuffle: false,
      index: 0,
      window: null,
    });
    expect(listing.items.map((i) => i.queue_item_id)).toEqual([0, 5, 6, 1, 2, 3, 4]);
    expect(listing.next).toMatchObject({ track_id: h.trackIds[2], title: 'Track 3', artist: 'Test Artist' });
    // The player still plays item 0.
    expect((await h.mpd.status()).state).toBe('play');
    expect(sim.savedState?.currentQueueItemId).toBe(0);
  }, 60_000);

  it('publishes one event per Qobuz queue message, with the ids it names and the titles already known', async () => {
    const { sim } = await playingSession();
    let from = probe.messages.length;
    // The load of playingSession() was announced too; a fresh one now.
    sim.loadQueue(h.trackIds);
    expect(await event('queue_loaded', from)).toMatchObject({
      version: { major: 2, minor: 0 },
      count: 4,
      tracks: h.trackIds.map((t, i) => ({ queue_item_id: i, track_id: t })),
      length: 4,
      from_mqtt: false,
    });
    sim.jump(0);
    await listingWhere((l) => l.version?.major === 2 && l.items.every((i) => i.title !== null), from);

    from = probe.messages.length;
    sim.insertTracks([h.trackIds[3]!], 1);
    expect(await event('tracks_inserted', from)).toMatchObject({
      after_queue_item_id: 1,
      count: 1,
      tracks: [{ queue_item_id: 4, track_id: h.trackIds[3], title: 'Track 4' }],
      length: 5,
    });
    sim.removeTracks([2]);
    expect(await event('tracks_removed', from)).toMatchObject({
      count: 1,
      tracks: [{ queue_item_id: 2, track_id: h.trackIds[2], title: 'Track 3' }],
      length: 4,
    });
    sim.reorderTracks([3], -1);
    expect(await event('tracks_reordered', from)).toMatchObject({
      after_queue_item_id: -1,
      count: 1,
      tracks: [{ queue_item_id: 3, track_id: h.trackIds[3], title: 'Track 4' }],
    });
    sim.setShuffle(true);
    expect(await event('shuffle_changed', from)).toMatchObject({
      shuffle: true,
      version: { major: 2, minor: 4 },
    });
    // The shuffled order comes from the service (a 90 answers our 76): the listing follows it. Until
    // that 90 is in, a listing may still show the order from before (the mirror cannot know it yet).
    const order = sim.queue().shuffledIndexes.map((i) => sim.queue().items[i]!.queueItemId);
    const ids = (l: Listing) => JSON.stringify(l.items.map((i) => i.queue_item_id));
    const shuffled = await listingWhere(
      (l) => l.shuffle && l.version?.minor === 4 && ids(l) === JSON.stringify(order),
      from,
    );
    expect(shuffled.items.map((i) => i.queue_item_id)).toEqual(order);
    // Off again.
    sim.setShuffle(false);
    expect(await event('shuffle_changed', from, (e) => e.shuffle === false)).toMatchObject({
      version: { major: 2, minor: 5 },
    });
    sim.clearQueue();
    expect(await event('queue_cleared', from)).toMatchObject({ version: { major: 3, minor: 0 }, length: 0 });
    await listingWhere(
      (l) => l.version?.major === 3 && l.length === 0 && l.items.length === 0 && l.next === null,
      from,
    );

    // Autoplay: mode, suggestions, and a suggestion that became a queue item (105).
    sim.setAutoplay(true);
    expect(await event('autoplay_changed', from, (e) => e.change === 'mode')).toMatchObject({
      autoplay: true,
    });
    const [suggestion] = sim.loadAutoplay([h.trackIds[1]!]) as [number];
    expect(await event('autoplay_changed', from, (e) => e.change === 'loaded')).toMatchObject({
      count: 1,
      tracks: [{ queue_item_id: suggestion, track_id: h.trackIds[1], title: 'Track 2' }],
      autoplay_length: 1,
    });
    await listingWhere((l) => l.autoplay.length === 1 && l.autoplay[0]?.title === 'Track 2', from);
    // The service moves a suggestion into the queue once it plays (here without waiting for a track to end).
    promoteAutoplay(sim.core, suggestion);
    expect(await event('autoplay_changed', from, (e) => e.change === 'moved_to_queue')).toMatchObject({
      tracks: [{ queue_item_id: suggestion, track_id: h.trackIds[1] }],
      length: 1,
      autoplay_length: 0,
    });
    await listingWhere(
      (l) => l.length === 1 && l.items[0]?.queue_item_id === suggestion && l.autoplay.length === 0,
      from,
    );
    await probe.flush();
    // One event per message, in order (the snapshot that answered our 76 after the shuffle is `queue_updated`).
    expect(queueEvents(from).filter((t) => t !== 'queue_updated')).toEqual([
      'tracks_inserted',
      'tracks_removed',
      'tracks_reordered',
      'shuffle_changed',
      'shuffle_changed',
      'queue_cleared',
      'autoplay_changed',
      'autoplay_changed',
      'autoplay_changed',
    ]);
  }, 60_000);

  it('jumps with play_item, adds a track and a playlist, clears the queue: each answered after the service applied it', async () => {
    const { sim, rid } = await playingSession();
    let from = probe.messages.length;
    expect(await command({ play_item: 2, id: 'c1' })).toEqual({ ok: true, id: 'c1' });
    // Applied: our own report of item 2 came back from the service (82).
    expect(sim.savedState?.currentQueueItemId).toBe(2);
    expect(sim.sentOfType(rid, 62).at(-1)?.body).toMatchObject({ current_queue_item: { id: 2 } });
    await h.mpd.waitForStatus((s) => s.state === 'play');
    await probe.waitFor(
      (m) =>
        m.topic === `${B}/state` &&
        (JSON.parse(m.payload) as { track?: { title?: string } }).track?.title === 'Track 3',
      { from },
    );
    await listingWhere((l) => l.index === 2 && l.next?.queue_item_id === 3, from);

    from = probe.messages.length;
    expect(await command({ queue_add: { type: 'track', id: String(h.trackIds[0]) }, id: 'c2' })).toEqual({
      ok: true,
      id: 'c2',
    });
    expect(sim.queue().items.at(-1)).toEqual({ queueItemId: 4, trackId: h.trackIds[0] });
    expect(await event('tracks_added', from)).toMatchObject({
      tracks: [{ queue_item_id: 4 }],
      from_mqtt: true,
    });

    from = probe.messages.length;
    expect(await command({ queue_add: { type: 'playlist', id: PLAYLIST, next: true }, id: 'c3' })).toEqual({
      ok: true,
      id: 'c3',
    });
    expect(sim.queue().items.map((i) => i.queueItemId)).toEqual([0, 1, 2, 5, 3, 4]);
    expect(await event('tracks_inserted', from)).toMatchObject({ after_queue_item_id: 2, from_mqtt: true });

    from = probe.messages.length;
    expect(await command({ queue_clear: true, id: 'c4' })).toEqual({ ok: true, id: 'c4' });
    expect(sim.queue().items).toEqual([]);
    expect(await event('queue_cleared', from)).toMatchObject({ from_mqtt: true, length: 0 });
    await listingWhere((l) => l.length === 0 && l.index === null, from);
    await h.mpd.waitForStatus((s) => s.state === 'stop');
  }, 60_000);

  it('jumps on the phone when the phone plays: applied once the phone reports the item', async () => {
    const { sim } = await playingSession();
    const phone = await SimRenderer.phone(h.service.issueToken({ sessionId: sim.sessionId }), {
      deviceUuid: '6d1f0a52-7e33-4c55-9a0c-3b2f1e4d5c6a',
    });
    try {
      sim.pickRenderer(phone.rendererId, { withSetState: true });
      await h.mpd.waitForStatus((s) => s.state === 'pause');
      const from = probe.messages.length;
      expect(await command({ play_item: 3 })).toEqual({ ok: true });
      expect(phone.state.queueItemId).toBe(3);
      expect(sim.activeRendererId).toBe(phone.rendererId);
      await listingWhere((l) => l.index === 3 && l.next === null, from);
    } finally {
      await phone.close();
    }
  }, 60_000);

  it('refuses an unknown item, album, playlist or track, and every queue verb without a session, changing nothing', async () => {
    const { sim, rid } = await playingSession();
    const version = sim.queue().version;
    const sent = sim.sent(rid).length;
    expect(await command({ play_item: 99, id: 'b1' })).toEqual({
      ok: false,
      error: 'queue item 99 is not in the Qobuz queue',
      code: 'ERR_NOT_FOUND',
      id: 'b1',
    });
    for (const [type, id] of [
      ['album', 'nope'],
      ['playlist', '999'],
      ['track', '999999'],
      ['track', 'abc'],
    ] as const) {
      const r = await command({ queue_add: { type, id }, id: `b-${type}-${id}` });
      expect(r, `${type} ${id}`).toMatchObject({ ok: false, code: 'ERR_NOT_FOUND', id: `b-${type}-${id}` });
      expect(String(r.error)).toMatch(/Qobuz|track/);
    }
    expect(await command({ queue_add: { type: 'artist', id: '1' } })).toMatchObject({
      ok: false,
      code: 'ERR_BAD_COMMAND',
    });
    expect(sim.queue().version).toEqual(version);
    expect(
      sim
        .sent(rid)
        .slice(sent)
        .filter((m) => [62, 65, 66, 67, 68].includes(m.type)),
    ).toEqual([]);
    expect((await h.mpd.status()).state).toBe('play');

    // The session ends for good: the listing empties, and every queue verb says there is none.
    let from = probe.messages.length;
    sim.sendDisconnect(rid, false);
    await listingWhere((l) => l.version === null && l.length === 0 && l.items.length === 0, from);
    const albumCalls = h.api.requestsTo('album/get').length;
    from = probe.messages.length;
    for (const cmd of [
      { play_item: 0 },
      { queue_add: { type: 'album', id: ALBUM } },
      { queue_clear: true },
    ]) {
      expect(await command({ ...cmd, id: 'none' })).toEqual({
        ok: false,
        error: 'no Qobuz session',
        code: 'ERR_NO_SESSION',
        id: 'none',
      });
    }
    expect(h.api.requestsTo('album/get')).toHaveLength(albumCalls);
    await probe.flush();
    expect(
      probe.messages.slice(from).filter((m) => m.topic === `${B}/queue` || m.topic === `${B}/event`),
    ).toEqual([]);
  }, 60_000);
});
