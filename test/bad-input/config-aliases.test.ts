import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { loadConfig } from '../../src/config/load-config.js';

const dir = mkdtempSync(join(tmpdir(), 'qcb-alias-'));
const BOMB =
  'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nplayers: [{id: a, name: A}]\n';
const UNRESOLVED = 'http: *nope\nplayers: [{id: a, name: A}]\n';

describe('YAML aliases in a config file (issues #7, #8)', () => {
  for (const [name, text] of [
    ['alias-bomb.yaml', BOMB],
    ['unresolved-alias.yaml', UNRESOLVED],
  ] as const) {
    it(`refuses ${name} with a ConfigError naming the file, not another exception`, () => {
      const file = join(dir, name);
      writeFileSync(file, text);
      let caught: unknown;
      try {
        loadConfig({ file, env: {} });
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).issues[0]).toMatch(new RegExp(`^${file}(:\\d+:\\d+)?: \\S`));
    });
  }

  it('reports a mistake once even when it surfaces twice', () => {
    const file = join(dir, 'huge-port.yaml');
    writeFileSync(file, 'http: { port: 123456789012345678901234567890 }\nplayers: [{id: a, name: A}]\n');
    let caught: unknown;
    try {
      loadConfig({ file, env: {} });
    } catch (err) {
      caught = err;
    }
    const issues = (caught as ConfigError).issues;
    expect(new Set(issues).size).toBe(issues.length);
    expect(issues.some((i) => i.startsWith('http.port'))).toBe(true);
  });
});
