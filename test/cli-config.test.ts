import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/config-error.js';
import { loadConfig } from '../src/config/load-config.js';
import { brokenConfigs } from './support/fuzz-configs.js';
import { FuzzRandom } from './support/fuzz-random.js';

/**
 * Issue #7 through the real command line (README.md "Command line", "Configuration"):
 * `check-config FILE` prints every mistake with its path and exits 2; `--config bad.yaml`
 * lists every error with its path on stderr and exits 2 before starting anything.
 */
const dir = mkdtempSync(join(tmpdir(), 'qcb-cli-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as a user runs it, with no QCB_ variables leaking in from the test's environment. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('QCB_')));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
      cwd: new URL('..', import.meta.url).pathname,
      env: { ...clean, LOG_FORMAT: 'json', LOG_LEVEL: 'debug', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Generous: each CLI compiles the sources with tsx, which takes seconds on a loaded 2-core machine.
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const lines = (text: string) => text.split('\n').filter((l) => l.length > 0);

function file(name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

// Five different kinds of mistake: unknown key, out-of-range port, bad id, wrong type, duplicate uuid.
const FIVE = `http:
  port: 70000
mqtt:
  base_topik: qobuz-connect
players:
  - id: Living Room
    name: Living Room
    uuid: 2f1a0c3e-8b7d-4c55-9e21-0a9b8c7d6e5f
  - id: kitchen
    name: Kitchen
    uuid: 2f1a0c3e-8b7d-4c55-9e21-0a9b8c7d6e5f
    mpd:
      port: "6600"
`;
const FIVE_PATHS = ['http.port: ', 'mqtt.base_topik: ', 'players[0].id: ', 'players[1].mpd.port: ', 'players[1].uuid: '];

describe('check-config and a bad config at start, through the CLI (issue #7)', () => {
  it('check-config prints each mistake of a file with five different mistakes on its own line with its path and exits 2', async () => {
    const bad = file('five.yaml', FIVE);
    const run = await cli(['check-config', bad]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const out = lines(run.stderr);
    expect(out).toHaveLength(FIVE_PATHS.length);
    for (const path of FIVE_PATHS) expect(out.filter((l) => l.startsWith(path))).toHaveLength(1);
  });

  it('run --config with the same file lists every error with its path on stderr, starts nothing and exits 2', async () => {
    const bad = file('five-run.yaml', FIVE);
    const [check, run] = await Promise.all([cli(['check-config', bad]), cli(['--config', bad])]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    // Only the issue lines: no log line, so nothing was started (no HTTP, MQTT or mDNS).
    expect(lines(run.stderr)).toEqual(lines(check.stderr).map((l) => l.replace('five.yaml', 'five-run.yaml')));
    for (const path of FIVE_PATHS) expect(lines(run.stderr).some((l) => l.startsWith(path))).toBe(true);
  });

  it('reports text that does not parse, a list, garbage, an empty and a missing file with exit 2 from both commands', async () => {
    const cases: Array<[string, RegExp]> = [
      [file('syntax.yaml', 'http:\n  port: 1\n bind: x\n'), /syntax\.yaml:3:1: \S/],
      [file('syntax.json', '{"players": [{"id": "a"}'), /syntax\.json:\d+:\d+: \S/],
      [file('list.json', '[{"id": "living_room"}]'), /list\.json: expected a mapping of settings/],
      [file('garbage.yaml', Buffer.from([0xff, 0xfe, 0x00, 0x9f, 0x0a, 0x7b, 0xc3, 0x28])), /garbage\.yaml: expected a mapping of settings/],
      [file('empty.yaml', ''), /^players: expected a list of players/],
      [join(dir, 'missing.yaml'), /missing\.yaml: cannot read the config file/],
    ];
    // Two processes at a time: twelve tsx start-ups at once starve a 2-core machine (issue #11).
    const runs: Run[] = [];
    for (const [f] of cases) runs.push(...(await Promise.all([cli(['check-config', f]), cli(['--config', f])])));
    for (const [i, run] of runs.entries()) {
      const [f, pattern] = cases[Math.floor(i / 2)] as [string, RegExp];
      expect({ f, code: run.code }).toEqual({ f, code: 2 });
      expect(lines(run.stderr).length).toBeGreaterThan(0);
      for (const line of lines(run.stderr)) expect(line).toMatch(pattern);
    }
  }, 240_000);

  it('check-config prints exactly what the loader reports for a sample of the generated broken files', async () => {
    mkdirSync(join(dir, 'gen'), { recursive: true });
    const sample = brokenConfigs(new FuzzRandom(0xc11), join(dir, 'gen'), 100).filter((_, i) => i % 20 === 7);
    expect(sample.length).toBe(5);
    const runs: Run[] = [];
    for (const c of sample) runs.push(await cli(['check-config', c.file]));
    for (const [i, c] of sample.entries()) {
      let issues: readonly string[] = [];
      try {
        loadConfig({ file: c.file, env: {} });
      } catch (err) {
        if (err instanceof ConfigError) issues = err.issues;
      }
      expect(issues.length).toBeGreaterThan(0);
      expect({ file: c.name, code: runs[i]?.code, lines: lines(runs[i]?.stderr ?? '') }).toEqual({ file: c.name, code: 2, lines: [...issues] });
    }
  }, 240_000);

  it('check-config accepts a good file with exit 0 and a summary on stdout', async () => {
    const good = file('good.yaml', 'players:\n  - id: den\n    name: Den\n');
    const run = await cli(['check-config', good]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/good\.yaml: valid; players: den \(/);
  });
});
