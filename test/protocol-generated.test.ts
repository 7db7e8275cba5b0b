import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('the generated protobuf module and message names (issues #2, #11)', () => {
  it('is what `npm run proto` makes from proto/qconnect.proto today (run it when this fails)', () => {
    const out = mkdtempSync(join(tmpdir(), 'qcb-proto-check-'));
    try {
      execFileSync(process.execPath, ['scripts/generate-proto.mjs', '--out', out], { stdio: 'pipe' });
      for (const file of ['qconnect.js', 'qconnect.d.ts', 'message-names.ts']) {
        const fresh = readFileSync(join(out, file), 'utf8');
        const committed = readFileSync(join('src/protocol/generated', file), 'utf8');
        expect(committed === fresh, `src/protocol/generated/${file} is stale: run npm run proto`).toBe(true);
        expect(committed.startsWith('// GENERATED')).toBe(true);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses a schema whose MessageType enum and Message fields disagree', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qcb-proto-bad-'));
    try {
      const proto = readFileSync('proto/qconnect.proto', 'utf8').replace(
        /^\s*MESSAGE_TYPE_SRVR_RNDR_SET_VOLUME = 42;\n/m,
        '',
      );
      writeFileSync(join(dir, 'bad.proto'), proto);
      const args = ['scripts/generate-proto.mjs', '--proto', join(dir, 'bad.proto'), '--out', dir];
      const run = spawnSync(process.execPath, args, { encoding: 'utf8' });
      expect(run.status).not.toBe(0);
      expect(run.stderr).toContain('Message.SrvrRndrSetVolume: no MessageType value names it');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
