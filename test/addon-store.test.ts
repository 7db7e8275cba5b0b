import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { appManifestErrors, scanStore } from '../addon/dev/supervisor-store.js';

/**
 * Issue #25 / README.md "Home Assistant add-on": the app store is a tree of its own
 * (repository.yaml and one app folder), built by `npm run addon:store` and published by the
 * release workflow to the `addon` branch. A Supervisor-like scan of it finds exactly one valid
 * app and nothing invalid; the repository root itself is no store any more.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const source = YAML.parse(readFileSync(join(ROOT, 'addon', 'config.yaml'), 'utf8')) as Record<
  string,
  unknown
>;

/** Every file below dir, relative and `/`-separated, sorted. */
const filesBelow = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();

let out: string;
let printed: string;

beforeAll(() => {
  out = join(mkdtempSync(join(tmpdir(), 'qcb-store-')), 'store');
  // The way the workflow runs it: the npm script's command with an output folder.
  printed = execFileSync(TSX, ['scripts/build-addon-store.ts', out], { cwd: ROOT, encoding: 'utf8' });
});
afterAll(() => rmSync(join(out, '..'), { recursive: true, force: true }));

describe('the app store tree (npm run addon:store, issue #25)', () => {
  it('holds only repository.yaml and one app folder with the manifest, docs, changelog, icons, translations and AppArmor', () => {
    expect(printed).toContain(out);
    expect(filesBelow(out)).toEqual(
      [
        'qobuz_connect_bridge/CHANGELOG.md',
        'qobuz_connect_bridge/DOCS.md',
        'qobuz_connect_bridge/README.md',
        'qobuz_connect_bridge/apparmor.txt',
        'qobuz_connect_bridge/config.yaml',
        'qobuz_connect_bridge/icon.png',
        'qobuz_connect_bridge/logo.png',
        'qobuz_connect_bridge/translations/en.yaml',
        'repository.yaml',
      ].sort(),
    );
    for (const file of ['config.yaml', 'DOCS.md', 'apparmor.txt', 'icon.png', 'translations/en.yaml'])
      expect(readFileSync(join(out, 'qobuz_connect_bridge', file)), file).toEqual(
        readFileSync(join(ROOT, 'addon', file)),
      );
  });

  it('scans like the Supervisor: exactly one valid app, nothing invalid, a valid repository file', () => {
    const scan = scanStore(out);
    expect(scan.invalid).toEqual([]);
    expect(scan.apps).toEqual([{ path: 'qobuz_connect_bridge/config.yaml', slug: 'qobuz_connect_bridge' }]);
    expect(scan.repository).toEqual({ path: 'repository.yaml', errors: [] });
    const repository = YAML.parse(readFileSync(join(out, 'repository.yaml'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(repository).toEqual({
      name: 'Qobuz Connect Bridge',
      url: source.url,
      maintainer: expect.any(String),
    });
    expect(readFileSync(join(out, 'repository.yaml'), 'utf8')).toContain(`${String(source.url)}#addon`);
  });

  it('names the prebuilt images, so that the Supervisor pulls rather than builds', () => {
    const manifest = YAML.parse(
      readFileSync(join(out, 'qobuz_connect_bridge', 'config.yaml'), 'utf8'),
    ) as Record<string, unknown>;
    expect(manifest.image).toMatch(/^ghcr\.io\/[^/]+\/\{arch\}-addon-qobuz-connect-bridge$/);
    expect(existsSync(join(out, 'qobuz_connect_bridge', 'Dockerfile'))).toBe(false);
  });

  it('leaves no relative link in the docs pointing outside the tree', () => {
    for (const doc of ['DOCS.md', 'README.md', 'CHANGELOG.md']) {
      const text = readFileSync(join(out, 'qobuz_connect_bridge', doc), 'utf8');
      const targets = [...text.matchAll(/\]\(([^)\s]+)\)|^\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1] ?? m[2]!);
      for (const target of targets.filter((t) => !/^(https?:|mailto:|#)/.test(t)))
        expect(
          existsSync(join(out, 'qobuz_connect_bridge', target.split('#')[0]!)),
          `${doc}: ${target}`,
        ).toBe(true);
    }
  });
});

describe('how users add the store (issue #25)', () => {
  it('README and the app docs give the repository URL with #addon, the branch the workflow publishes', () => {
    const url = `${String(source.url)}#addon`;
    for (const doc of ['README.md', 'addon/DOCS.md'])
      expect(readFileSync(join(ROOT, doc), 'utf8'), doc).toContain(url);
    const workflow = readFileSync(join(ROOT, '.github/workflows/addon-image.yaml'), 'utf8');
    expect(workflow).toContain('npm run addon:store');
    expect(workflow).toContain('HEAD:addon');
  });
});

describe('the Supervisor-like scan (addon/dev/supervisor-store.ts, issue #25)', () => {
  it('takes the repository root for what it is now: no repository file, and the root config files as invalid apps', () => {
    // Why the store is a tree of its own: the bridge's config.example.yaml and config.schema.json
    // stay at the root (SPEC "Configuration"), and the Supervisor would log both at every refresh.
    expect(existsSync(join(ROOT, 'repository.yaml'))).toBe(false);
    const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n');
    const scan = scanStore(
      ROOT,
      tracked.filter((f) => f !== '' && existsSync(join(ROOT, f))),
    );
    expect(scan.repository).toBeNull();
    expect(scan.invalid.map((i) => i.path)).toEqual(
      expect.arrayContaining(['config.example.yaml', 'config.schema.json']),
    );
    expect(scan.apps.map((a) => a.path)).toContain('addon/config.yaml');
    expect(scan.invalid.some((i) => i.path.includes('/rootfs/') || i.path.startsWith('.'))).toBe(false);
  });

  it('skips dot-folders and rootfs, reads config.json and config.yml too, and reports a broken manifest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qcb-scan-'));
    try {
      const write = (path: string, text: string) => {
        execFileSync('mkdir', ['-p', join(dir, path, '..')]);
        writeFileSync(join(dir, path), text);
      };
      write('repository.yml', 'maintainer: someone\n'); // no name
      write('.github/config.yaml', 'not: an app\n');
      write('app/rootfs/etc/config.json', '{}');
      write('app/config.yaml', readFileSync(join(ROOT, 'addon', 'config.yaml'), 'utf8'));
      write(
        'other/config.json',
        JSON.stringify({ name: 'x', version: '1', slug: 'bad slug!', arch: ['amd64'] }),
      );
      write('third/config.yml', 'name: [');
      const scan = scanStore(dir);
      expect(scan.repository).toEqual({ path: 'repository.yml', errors: ['name: required string'] });
      expect(scan.apps).toEqual([{ path: 'app/config.yaml', slug: 'qobuz_connect_bridge' }]);
      expect(scan.invalid.map((i) => i.path)).toEqual(['other/config.json', 'third/config.yml']);
      expect(scan.invalid[0]!.errors).toEqual(
        expect.arrayContaining(['description: required string', 'slug: not a valid slug']),
      );
      expect(scan.invalid[1]!.errors[0]).toMatch(/^unreadable/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('applies the Supervisor schema and the linter rules to a manifest', () => {
    expect(appManifestErrors(source)).toEqual([]);
    expect(appManifestErrors({ ...source, boot: 'auto' })).toEqual(['boot: written at its default']);
    expect(appManifestErrors({ ...source, image: `${String(source.image)}:1.0` })).toEqual([
      'image: a Docker image name without a tag',
    ]);
    expect(appManifestErrors({ ...source, arch: ['sparc'] })[0]).toMatch(/^arch:/);
    expect(appManifestErrors({ ...source, services: ['mqtt:maybe'] })).toEqual([
      'services: entries like mqtt:want',
    ]);
    const badSchema = { ...source, schema: { ...(source.schema as object), log_level: 'level' } };
    expect(appManifestErrors(badSchema)).toEqual(['schema.log_level: level is no schema type']);
    const badDefault = { ...source, options: { ...(source.options as object), log_level: 'loud' } };
    expect(appManifestErrors(badDefault)).toHaveLength(1);
    expect(appManifestErrors(badDefault)[0]).toMatch(/^options: .*log_level/);
  });
});
