import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LOOKUP_RATE } from '../src/session/queue/queue-metadata.js';
import { LISTING_LIMITS } from '../src/core/queue-listing.js';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import { connectProbe, type MqttProbe } from './support/mosquitto-server.js';

/**
 * Issue #14: a 2 000-item queue must flood neither the Qobuz REST API nor the broker. The listing
 * is a window of 100 around the current item, its titles are looked up at the production rate (a
 * few per second, the current item and the next 20 first), and publishes are coalesced. Measured
 * figures are printed; the bounds asserted are those the design promises, with slack for load.
 */
let h: BridgeHarness;
let probe: MqttProbe;
const B = 'qobuz-connect/living_room';
const SIZE = 2000;
const BULK_FIRST_ID = 900_000;

type Listing = {
  index: number | null;
  length: number;
  items: { queue_item_id: number; title: string | null }[];
  window: { offset: number; total: number } | null;
  next: { queue_item_id: number; title: string | null } | null;
};

beforeAll(async () => {
  h = await startBridgeHarness({ trackSeconds: [60] });
  // 1 999 more catalogue tracks, all served by the first track's file.
  const url = h.cdn.url('/file/5000-6.flac');
  for (let i = 0; i < SIZE - 1; i += 1) {
    h.api.addTrack({
      id: BULK_FIRST_ID + i,
      title: `Bulk ${i}`,
      artist: 'Bulk Artist',
      album: 'Bulk Album',
      durationMs: 60_000,
      formats: { 6: { url, bitDepth: 16, samplingRateKhz: 44.1 } },
    });
  }
  probe = await connectProbe(h.mosquitto!.url);
  await probe.subscribe(`${B}/#`);
}, 60_000);
afterAll(async () => {
  await probe?.end();
  await h?.close();
});

const trackGets = () => h.api.requestsTo('track/get').length;
const listings = (from: number) =>
  probe.messages.slice(from).filter((m) => m.topic === `${B}/queue`);

async function listingWhere(pred: (l: Listing) => boolean, from: number): Promise<Listing> {
  const m = await probe.waitFor((x) => x.topic === `${B}/queue` && pred(JSON.parse(x.payload) as Listing), { from, timeoutMs: 30_000 });
  return JSON.parse(m.payload) as Listing;
}

/** The current item and the next 20 have their titles. */
const nearResolved = (l: Listing, index: number): boolean => {
  const at = index - (l.window?.offset ?? 0);
  return l.index === index && l.items.slice(at, at + 21).every((i) => i.title !== null);
};

describe('a 2 000-item queue (issue #14)', () => {
  it('is listed as a window around the current item, looked up a few tracks per second, published in a few messages', async () => {
    const { sim } = await h.connectApp();
    const from = probe.messages.length;
    const callsBefore = trackGets();
    const t0 = Date.now();
    sim.loadQueue([h.trackIds[0]!, ...Array.from({ length: SIZE - 1 }, (_, i) => BULK_FIRST_ID + i)]);
    sim.jump(0);
    const loaded = await probe.waitFor((m) => m.topic === `${B}/event` && m.payload.includes('"queue_loaded"'), { from });
    const first = await listingWhere((l) => nearResolved(l, 0), from);
    const firstMs = Date.now() - t0;
    const firstCalls = trackGets() - callsBefore;
    expect(first.length).toBe(SIZE);
    expect(first.window).toEqual({ offset: 0, total: SIZE });
    expect(first.items).toHaveLength(LISTING_LIMITS.items);
    expect(first.next).toMatchObject({ queue_item_id: 1, title: 'Bulk 0' });

    // Three more seconds: the rest of the window trickles in at the lookup rate.
    await new Promise((r) => setTimeout(r, 3000));
    const midMs = Date.now() - t0;
    const midCalls = trackGets() - callsBefore;

    // Jump far: the window follows, and the new neighbourhood is looked up first.
    const jumpFrom = probe.messages.length;
    sim.jump(1500);
    const far = await listingWhere((l) => nearResolved(l, 1500), jumpFrom);
    const totalMs = Date.now() - t0;
    const totalCalls = trackGets() - callsBefore;
    expect(far.window).toEqual({ offset: 1500 - LISTING_LIMITS.before, total: SIZE });
    expect(far.items[LISTING_LIMITS.before]?.queue_item_id).toBe(1500);

    const published = listings(from);
    const bytes = published.map((m) => Buffer.byteLength(m.payload));
    const figures = {
      queueItems: SIZE,
      lookupRatePerSecond: DEFAULT_LOOKUP_RATE.perSecond,
      firstNeighbourhoodMs: firstMs,
      firstNeighbourhoodRestCalls: firstCalls,
      restCallsAfterMs: { [midMs]: midCalls, [totalMs]: totalCalls },
      queuePublishes: published.length,
      queuePayloadBytesMax: Math.max(...bytes),
      queuePayloadBytesFirst: bytes[0],
      queueLoadedEventBytes: Buffer.byteLength(loaded.payload),
    };
    console.log(`issue #14, 2 000-item queue: ${JSON.stringify(figures)}`);

    // REST: never more than the rate allows (plus the lookups in flight and MPD's tags of the
    // current and next item), and never more than the two windows hold.
    const allowed = (ms: number) => DEFAULT_LOOKUP_RATE.perSecond * Math.ceil(ms / 1000) + DEFAULT_LOOKUP_RATE.concurrency + 4;
    expect(firstCalls).toBeLessThanOrEqual(allowed(firstMs));
    expect(midCalls).toBeLessThanOrEqual(allowed(midMs));
    expect(totalCalls).toBeLessThanOrEqual(allowed(totalMs));
    expect(totalCalls).toBeLessThanOrEqual(2 * (LISTING_LIMITS.items + 2));
    // The broker: a listing of 100 items stays small, and titles go out in batches (about one a second).
    expect(Math.max(...bytes)).toBeLessThan(32 * 1024);
    expect(published.length).toBeLessThanOrEqual(Math.ceil(totalMs / 1000) + 10);
    expect(Buffer.byteLength(loaded.payload)).toBeLessThan(16 * 1024);
    expect(JSON.parse(loaded.payload)).toMatchObject({ count: SIZE, truncated: true, length: SIZE });
  }, 90_000);
});
