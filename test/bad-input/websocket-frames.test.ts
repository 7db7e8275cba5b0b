import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { qconnect } from '../../src/protocol/generated/qconnect.js';
import { startBridgeHarness, type BridgeHarness } from '../support/bridge-harness.js';
import { fuzzFrames, type FuzzFrame } from '../support/fuzz-frames.js';
import { describeGrowth, sampleMemory } from '../support/fuzz-memory.js';
import { FuzzRandom } from '../support/fuzz-random.js';
import { expectUnchanged, takeSnapshot } from '../support/fuzz-snapshot.js';
import type { SimSession } from '../support/qconnect-service.js';

/**
 * Issue #8 "Bad input": 10 000 hostile WebSocket messages from the Qobuz service side while the
 * player is connected and playing. No crash, no state change, each malformed one dropped with
 * its own log line naming why, memory flat; afterwards the session still obeys a SetState.
 */
let h: BridgeHarness;
let sim: SimSession;
let rid: number;
const B = 'qobuz-connect/living_room';
const PROTOCOL_CODES = ['ERR_FRAME_EMPTY', 'ERR_FRAME_TRUNCATED', 'ERR_FRAME_TOO_LARGE', 'ERR_VARINT_INVALID', 'ERR_BODY_INVALID'];

beforeAll(async () => {
  h = await startBridgeHarness({ trackSeconds: [90, 90] });
  ({ sim, rendererId: rid } = await h.connectApp({ loadQueue: true }));
  sim.jump(0, { playing: true });
  await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.2);
  await sim.waitFor(() => sim.renderers().find((r) => r.rendererId === rid)?.lastState?.playingState === qconnect.PlayingState.PLAYING, { what: 'PLAYING report' });
}, 60_000);
afterAll(async () => h?.close());

async function framesIn(): Promise<number> {
  const m = await h.bridge.metrics.frames.get();
  return m.values.filter((v) => v.labels.direction === 'in').reduce((a, v) => a + v.value, 0);
}

interface Tally {
  sent: number;
  rejected: number;
  inert: number;
  byKind: Record<string, number>;
  codes: Record<string, number>;
}

/** Sends `frames` in batches; after each, waits until the bridge has dealt with every one of them. */
async function flood(frames: Iterable<FuzzFrame>, tally: Tally): Promise<void> {
  let batch: FuzzFrame[] = [];
  const flush = async () => {
    const inBefore = await framesIn();
    h.logs.length = 0;
    for (const f of batch) sim.sendRaw(rid, f.bytes);
    const rejected = batch.filter((f) => f.effect === 'rejected').length;
    const accepted = batch.reduce((a, f) => a + f.frames, 0);
    // Every rejected message gets exactly one "malformed frame dropped" line; every accepted frame is counted in.
    const dropped = () => h.logs.filter((l) => l.includes('"msg":"malformed frame dropped"'));
    await expect.poll(() => dropped().length, { timeout: 10_000 }).toBe(rejected);
    // At least: the service may send frames of its own meanwhile (its 82 answering a heartbeat).
    await expect.poll(async () => (await framesIn()) - inBefore, { timeout: 10_000 }).toBeGreaterThanOrEqual(accepted);
    const lines = dropped();
    expect(lines).toHaveLength(rejected);
    for (const line of lines) {
      const code = (JSON.parse(line) as { code?: string }).code ?? 'none';
      tally.codes[code] = (tally.codes[code] ?? 0) + 1;
    }
    tally.rejected += rejected;
    tally.inert += batch.length - rejected;
    tally.sent += batch.length;
    for (const f of batch) tally.byKind[f.kind] = (tally.byKind[f.kind] ?? 0) + 1;
    h.logs.length = 0; // the debug lines carry hex: keep the process's memory about the bridge
    batch = [];
  };
  for (const f of frames) {
    batch.push(f);
    if (batch.length === 250) await flush();
  }
  if (batch.length > 0) await flush();
}

const newTally = (): Tally => ({ sent: 0, rejected: 0, inert: 0, byKind: {}, codes: {} });

describe('hostile WebSocket frames from the service side (issue #8)', () => {
  it('survives 10 000 fuzzed frames with no state change, one log line per malformed frame and flat memory', async () => {
    const src = { h, sim, rendererId: rid, topic: B };
    // Warm-up: JIT, pools and lazily built tables, so the measured phase shows growth, not first use.
    await flood(fuzzFrames(new FuzzRandom(0xbad0), 1000), newTally());
    const memBefore = await sampleMemory();
    const before = await takeSnapshot(src);
    const tally = newTally();
    await flood(fuzzFrames(new FuzzRandom(0xbad1), 10_000), tally);
    const memAfter = await sampleMemory();
    const after = await takeSnapshot(src);

    console.log(`websocket fuzz: ${JSON.stringify(tally)}`);
    console.log(describeGrowth('websocket fuzz (10 000 frames)', memBefore, memAfter));
    expect(tally.sent).toBe(10_000);
    expect(tally.rejected).toBeGreaterThan(3000);
    expect(tally.inert).toBeGreaterThan(1000);
    expect(Object.keys(tally.byKind)).toHaveLength(7);
    for (const code of Object.keys(tally.codes)) expect(PROTOCOL_CODES).toContain(code);
    expectUnchanged(before, after);
    expect(h.service.errors).toEqual([]);
    expect(memAfter.rssBytes).toBeLessThan(memBefore.rssBytes * 1.1);

    // Still the same session, still obeying: a pause lands on MPD and is reported PAUSED.
    const n = sim.sent(rid).length;
    sim.pause();
    await h.mpd.waitForStatus((s) => s.state === 'pause');
    await sim.waitForMessage(rid, 23, { after: n, where: (b: { state?: qconnect.QueueRendererState.$Properties }) => b.state?.playing_state === qconnect.PlayingState.PAUSED });
    expect(h.bridge.player(h.playerId)?.session.view().state).toBe('paused');
  }, 60_000);
});
