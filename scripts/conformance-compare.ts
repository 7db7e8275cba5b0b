import { readFileSync } from 'node:fs';
import { compareRecord, FramesFile } from './conformance-frames.js';

/**
 * Usage: npx tsx scripts/conformance-compare.ts FRAMES.json
 *
 * Decodes every frame of a frames file (docs/protocol.md "Conformance" gives the format) with
 * our codec and compares it with the source's own decoding. Prints one line per disagreement
 * or decoding failure, then `N/M frames agree` (frames without a source decoding agree when
 * they decode). Exit 0 only when all agree. Frames files from public sources live outside the
 * repository and are never committed.
 */
function main(argv: readonly string[]): number {
  const path = argv[0];
  if (path === undefined || argv.length !== 1) {
    console.error('usage: tsx scripts/conformance-compare.ts FRAMES.json');
    return 2;
  }
  const parsed = FramesFile.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    for (const issue of parsed.error.issues) console.error(`${path}: ${issue.path.join('.')}: ${issue.message}`);
    return 2;
  }
  const frames = parsed.data.frames;
  let agree = 0;
  let compared = 0;
  for (const [i, record] of frames.entries()) {
    const verdict = compareRecord(record, i);
    if (verdict.compared) compared += 1;
    if (verdict.error !== undefined) console.log(`frame ${i} (${verdict.label}): does not decode: ${verdict.error}`);
    for (const line of verdict.disagreements) console.log(`frame ${i} (${verdict.label}): ${line}`);
    if (verdict.error === undefined && verdict.disagreements.length === 0) agree += 1;
  }
  console.log(`${agree}/${frames.length} frames agree (${compared} with a source decoding)`);
  return agree === frames.length ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
