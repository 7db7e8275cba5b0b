import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('the generated protobuf module (issue #2)', () => {
  it('is what `npm run proto` makes from proto/qconnect.proto today (run it when this fails)', () => {
    const out = mkdtempSync(join(tmpdir(), 'qcb-proto-check-'));
    try {
      execFileSync(process.execPath, ['scripts/generate-proto.mjs', '--out', out], { stdio: 'pipe' });
      for (const file of ['qconnect.js', 'qconnect.d.ts']) {
        const fresh = readFileSync(join(out, file), 'utf8');
        const committed = readFileSync(join('src/protocol/generated', file), 'utf8');
        expect(committed === fresh, `src/protocol/generated/${file} is stale: run npm run proto`).toBe(true);
        expect(committed.startsWith('// GENERATED')).toBe(true);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});
