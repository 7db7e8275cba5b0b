import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { loadConfig } from '../../src/config/load-config.js';
import { brokenConfigs, type BrokenConfig } from '../support/fuzz-configs.js';
import { describeGrowth, sampleMemory } from '../support/fuzz-memory.js';
import { FuzzRandom } from '../support/fuzz-random.js';

/**
 * Issues #7 and #8 "Bad input": 100 broken config files through the loader the CLI uses. Each
 * must fail with a ConfigError (never another exception) whose every line starts with the path
 * of the problem, or with `file:line:col` when the text itself does not parse; every mistake
 * put in is reported; nothing is loaded half-way; memory stays flat.
 */
const dir = mkdtempSync(join(tmpdir(), 'qcb-broken-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PATH = /^[\w<>$]+(?:\[\d+\]|\.[\w<>$]+)*: \S/;

function outcome(c: BrokenConfig): { issues: readonly string[]; problems: string[] } {
  let issues: readonly string[];
  try {
    loadConfig({ file: c.file, env: {} });
    return { issues: [], problems: [`${c.name}: loaded without error`] };
  } catch (err) {
    if (!(err instanceof ConfigError)) return { issues: [], problems: [`${c.name}: ${String(err)} instead of a ConfigError`] };
    issues = err.issues;
  }
  const problems: string[] = [];
  if (issues.length === 0) problems.push(`${c.name}: no issue listed`);
  for (const issue of issues) {
    const fileLine = issue.startsWith(`${c.file}: `) || new RegExp(`^${c.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: \\S`).test(issue);
    if (!fileLine && !PATH.test(issue)) problems.push(`${c.name}: issue without a path: ${issue.slice(0, 200)}`);
    if (issue.includes('fuzz-secret')) problems.push(`${c.name}: issue shows the app secret`);
  }
  for (const prefix of c.expect) {
    if (!issues.some((i) => i.startsWith(prefix))) problems.push(`${c.name}: nothing reported at "${prefix}"; got ${JSON.stringify(issues).slice(0, 400)}`);
  }
  return { issues, problems };
}

describe('broken config files (issues #7, #8)', () => {
  it('refuses 100 broken files with a ConfigError naming the path of every mistake, memory flat', async () => {
    const configs = brokenConfigs(new FuzzRandom(0xc0f1), dir, 100);
    expect(configs).toHaveLength(100);
    configs.forEach(outcome); // warm-up: the schema's lazily built parts and the YAML parser
    const memBefore = await sampleMemory();
    const results = configs.map(outcome);
    const memAfter = await sampleMemory();
    const issues = results.reduce((a, r) => a + r.issues.length, 0);
    console.log(`config fuzz: ${configs.length} files, ${issues} issues reported`);
    console.log(describeGrowth('config fuzz (100 files)', memBefore, memAfter));
    expect(results.flatMap((r) => r.problems)).toEqual([]);
    expect(results.filter((r) => r.issues.length >= 2).length).toBeGreaterThan(10);
    expect(memAfter.rssBytes).toBeLessThan(memBefore.rssBytes * 1.1);
  });
});
