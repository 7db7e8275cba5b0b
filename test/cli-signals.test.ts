import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSoloBridgeConfig } from './support/solo-bridge-config.js';

/**
 * README.md "Command line": SIGTERM or SIGINT ends the bridge with exit code 0 within 5 s, at
 * any moment. A supervisor (the add-on's, systemd, a test) may signal as soon as it reads a
 * line; the listeners must exist before the first line is written, or the signal's default
 * action ends the process with no exit code at all (seen under load, issue #21's runs).
 */
const dir = mkdtempSync(join(tmpdir(), 'qcb-cli-signals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function bridgeSignalledAtFirstLine(signal: NodeJS.Signals): Promise<{ code: number | null; signal: string | null; out: string }> {
  const config = join(dir, `config-${signal}.json`);
  // No MPD: start-up does not wait for it, and the mDNS announcement keeps start-up busy for a while.
  await writeSoloBridgeConfig(config);
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('QCB_')));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config', config], {
    cwd: new URL('..', import.meta.url).pathname,
    env: { ...clean, LOG_FORMAT: 'json', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let sent = false;
  const onData = (d: Buffer) => {
    out += d.toString();
    // The first line is written long before start-up ends ("bridge running").
    if (!sent && out.includes('\n')) {
      sent = true;
      child.kill(signal);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, sig) => resolve({ code, signal: sig, out }));
  });
}

describe('the bridge ends cleanly on a signal at any moment (README "Command line")', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`exits 0 on a ${signal} that arrives while it is still starting`, async () => {
      const result = await bridgeSignalledAtFirstLine(signal);
      expect(result.signal, result.out).toBeNull();
      expect(result.code, result.out).toBe(0);
      expect(result.out).toContain('shutting down');
      // Start-up had not finished when the signal came: the bridge never said it was running.
      expect(result.out).not.toContain('bridge running');
    }, 60_000);
  }
});
