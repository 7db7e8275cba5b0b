import Long from 'long';
import { describe, expect, it } from 'vitest';
import { decodeFrames, messagesOf } from '../src/protocol/frame-codec.js';
import { frameToJson } from '../src/protocol/frame-json.js';
import { FrameWriter, message } from '../src/protocol/frame-writer.js';
import { ProtocolError } from '../src/protocol/protocol-error.js';
import { FuzzRandom } from './support/fuzz-random.js';

/** Seeded (mulberry32), so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  const r = new FuzzRandom(seed);
  return () => r.next();
}

/** Decoding must either succeed all the way to JSON or fail with a ProtocolError: nothing else. */
function decodesOrFailsCleanly(bytes: Uint8Array): 'ok' | 'error' {
  try {
    for (const frame of decodeFrames(bytes)) {
      if (frame.type === 'PAYLOAD') messagesOf(frame.body);
      JSON.stringify(frameToJson(frame));
    }
    return 'ok';
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw new Error(`non-protocol error for ${Buffer.from(bytes).toString('hex')}: ${String(err)}`, { cause: err });
    return 'error';
  }
}

function validFrames(): Uint8Array[] {
  const w = new FrameWriter(() => 1_766_125_180_776);
  return [
    w.authenticate('eyJhbGciOiJIUzI1NiJ9.e30.sig'),
    w.subscribe(),
    w.payload([message(41, { playing_state: 2, current_position: 61_000, queue_version: { major: 4 }, current_track: { queue_item_id: 2, track_id: 123456 }, next_track: { queue_item_id: 3, track_id: 654321 } })]),
    w.payload([
      message(90, { queue_version: { major: 9, minor: 1 }, tracks: [{ queue_item_id: 0, track_id: 1 }, { queue_item_id: 1, track_id: 2 }], shuffle_mode: true, shuffled_track_indexes: [1, 0] }),
      message(82, { renderer_id: 7, status: 1, player_state: { playing_state: 2, buffer_state: 2, current_position: { timestamp: Long.fromNumber(1_766_125_180_000, true), value: 3000 }, duration: 200_000, current_queue_item_id: 1 } }),
    ]),
    w.disconnect(true),
    w.error(5, 'bad'),
  ];
}

describe('decoding hostile bytes (issue #2)', () => {
  it('decodes or cleanly refuses 100 000 random byte strings', () => {
    const next = rng(0x5eed);
    const outcomes = { ok: 0, error: 0 };
    for (let i = 0; i < 100_000; i++) {
      const len = Math.floor(next() * 64);
      const bytes = new Uint8Array(len);
      for (let j = 0; j < len; j++) bytes[j] = Math.floor(next() * 256);
      // Bias a third of them towards a real envelope type so the protobuf decoders are reached.
      if (len > 0 && i % 3 === 0) bytes[0] = [1, 2, 6, 9, 10][i % 5] as number;
      outcomes[decodesOrFailsCleanly(bytes)]++;
    }
    expect(outcomes.ok + outcomes.error).toBe(100_000);
    expect(outcomes.error).toBeGreaterThan(0);
  });

  it('decodes or cleanly refuses 100 000 random mutations of valid frames', () => {
    const next = rng(0xfeed);
    const frames = validFrames();
    const outcomes = { ok: 0, error: 0 };
    for (let i = 0; i < 100_000; i++) {
      const base = frames[i % frames.length] as Uint8Array;
      const bytes = Uint8Array.from(base);
      const flips = 1 + Math.floor(next() * 4);
      for (let f = 0; f < flips; f++) {
        const at = Math.floor(next() * bytes.length);
        const kind = next();
        if (kind < 0.6) bytes[at] = Math.floor(next() * 256);
        else if (kind < 0.8) bytes[at] = (bytes[at] as number) ^ (1 << Math.floor(next() * 8));
        else bytes[at] = 0xff;
      }
      const cut = next() < 0.2 ? Math.floor(next() * bytes.length) : bytes.length;
      outcomes[decodesOrFailsCleanly(bytes.subarray(0, cut))]++;
    }
    expect(outcomes.ok).toBeGreaterThan(0);
    expect(outcomes.error).toBeGreaterThan(0);
  });
});
