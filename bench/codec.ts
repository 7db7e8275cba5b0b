import { decodeFrames, messagesOf } from '../src/protocol/frame-codec.js';
import { frameToJson } from '../src/protocol/frame-json.js';
import { FrameWriter } from '../src/protocol/frame-writer.js';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { stateUpdated } from '../src/protocol/renderer-messages.js';

/**
 * bench/codec (issue #2): frames/s to decode and encode a typical state report (23), beside a
 * floor measured in the same run: JSON.parse of the same frame's content as JSON text (what the
 * same information costs in the most common wire format). Aim: > 500 000 decodes/s on one core.
 */
function report(writer: FrameWriter, i: number): Uint8Array {
  return writer.payload([
    stateUpdated({
      playingState: qconnect.PlayingState.PLAYING,
      bufferState: qconnect.BufferState.OK,
      positionMs: 61_000 + i,
      positionAtMs: 1_766_125_180_776 + i,
      durationMs: 241_000,
      queueVersion: { major: 14, minor: 2 },
      currentQueueItemId: 3,
      nextQueueItemId: 4,
    }),
  ]);
}

function rate(label: string, n: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(n, 20_000); i++) fn(i); // warm up the JIT
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const perSecond = n / seconds;
  console.log(`  ${label.padEnd(34)} ${Math.round(perSecond).toLocaleString('en').padStart(12)} /s`);
  return perSecond;
}

export function benchCodec(n = 500_000): void {
  const writer = new FrameWriter(() => 1_766_125_180_776);
  const frame = report(writer, 0);
  const [decoded] = decodeFrames(frame);
  const asJson = JSON.stringify(decoded ? frameToJson(decoded) : {});
  console.log(`bench/codec — a ${frame.length}-byte state report (type 23), ${n.toLocaleString('en')} iterations each`);
  const floor = rate(`floor: JSON.parse of ${asJson.length} chars`, n, () => JSON.parse(asJson));
  const decode = rate('decode (frame -> typed messages)', n, () => {
    const [f] = decodeFrames(frame);
    if (f?.type === 'PAYLOAD') messagesOf(f.body);
  });
  const encode = rate('encode (report -> frame)', n, (i) => report(writer, i));
  console.log(`  time per frame vs floor: decode ${(floor / decode).toFixed(2)}x, encode ${(floor / encode).toFixed(2)}x`);
  console.log(`  aim: decode > 500 000/s -> ${decode > 500_000 ? 'met' : 'NOT met'}`);
}

if (import.meta.url === `file://${process.argv[1]}`) benchCodec();
