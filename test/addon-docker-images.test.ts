import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';

/**
 * Issue #7: the two Dockerfiles (plain Docker at the top, the add-on in addon/) cannot be
 * built here (no Docker engine), so their build contexts are checked by reading: every
 * COPY source exists and is not excluded by .dockerignore, the add-on names an explicit
 * base image, and addon/install-local.sh lays out a folder that is such a build context.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const text = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Instruction {
  op: string;
  args: string;
}
/** Instructions of a Dockerfile, continuation lines joined, comments dropped. */
function instructions(dockerfile: string): Instruction[] {
  return dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => ({ op: l.split(/\s+/)[0]!.toUpperCase(), args: l.slice(l.split(/\s+/)[0]!.length).trim() }));
}
/** The context paths a Dockerfile COPYs (not `--from` stage copies). */
function copySources(dockerfile: string): string[] {
  return instructions(dockerfile)
    .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
    .flatMap((i) => i.args.split(/\s+/).slice(0, -1))
    .map((p) => p.replace(/\/$/, ''));
}
const dockerignore = () =>
  text('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
/** True when .dockerignore leaves `path` (or anything under it) out of the context. */
const ignored = (path: string) => dockerignore().some((p) => path === p || path.startsWith(`${p}/`));

describe('the plain Docker image (Dockerfile)', () => {
  const file = text('Dockerfile');

  it('builds on node:20-slim and runs the compiled CLI with /config/config.yaml', () => {
    const ops = instructions(file);
    expect(ops.filter((i) => i.op === 'FROM').map((i) => i.args)).toEqual([
      'node:20-slim AS build',
      'node:20-slim',
    ]);
    expect(
      ops.some((i) => i.op === 'RUN' && i.args.includes('npm ci') && i.args.includes('--ignore-scripts')),
    ).toBe(true);
    expect(ops.some((i) => i.op === 'RUN' && i.args.includes('npm run build'))).toBe(true);
    expect(ops.at(-2)).toEqual({ op: 'ENTRYPOINT', args: '["node", "dist/src/main.js"]' });
    expect(ops.at(-1)).toEqual({ op: 'CMD', args: '["--config", "/config/config.yaml"]' });
  });

  it('copies only paths that exist and that .dockerignore lets through', () => {
    const sources = copySources(file);
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src', 'proto']));
    for (const s of sources) {
      expect(existsSync(join(ROOT, s)), s).toBe(true);
      expect(ignored(s), `${s} is excluded by .dockerignore`).toBe(false);
    }
  });

  it('has a compose example on the host network (mDNS) with the config mounted at /config', () => {
    const compose = YAML.parse(text('docker-compose.example.yml')) as {
      services: Record<string, Record<string, unknown>>;
    };
    const service = compose.services['qobuz-connect-bridge']!;
    expect(service.network_mode).toBe('host');
    expect(service.volumes).toEqual(['./config:/config:ro']);
    expect(text('docker-compose.example.yml')).toMatch(/mDNS/);
  });
});

describe('the add-on image (addon/Dockerfile)', () => {
  const file = text('addon/Dockerfile');

  it('names its base image explicitly and builds every stage from it', () => {
    const ops = instructions(file);
    const arg = ops.find((i) => i.op === 'ARG')?.args ?? '';
    expect(arg).toMatch(/^BUILD_FROM=ghcr\.io\/home-assistant\/base:\d+\.\d+-\d{4}\.\d+\.\d+$/);
    expect(ops[0]?.op).toBe('ARG');
    expect(ops.filter((i) => i.op === 'FROM').map((i) => i.args)).toEqual([
      '${BUILD_FROM} AS build',
      '${BUILD_FROM}',
    ]);
    expect(
      ops.find((i) => i.op === 'RUN' && i.args.includes('apk add') && i.args.includes(' mpd')),
    ).toBeDefined();
    expect(ops.at(-2)).toEqual({ op: 'CMD', args: '["/run.sh"]' });
    expect(existsSync(join(ROOT, 'addon', 'build.yaml'))).toBe(false); // no longer read: it would mislead
  });

  it('copies only paths that exist from the repository root, its documented build context', () => {
    const sources = copySources(file);
    expect(sources).toEqual(
      expect.arrayContaining(['addon/run.sh', 'addon/mpd.conf', 'addon/options-to-config.jq', 'src']),
    );
    for (const s of sources) {
      expect(existsSync(join(ROOT, s)), s).toBe(true);
      expect(ignored(s), `${s} is excluded by .dockerignore`).toBe(false);
    }
    expect(statSync(join(ROOT, 'addon', 'run.sh')).mode & 0o111).not.toBe(0);
  });

  it('is laid out by install-local.sh as a local add-on folder that is such a build context', () => {
    const dest = mkdtempSync(join(tmpdir(), 'qcb-addons-'));
    try {
      execFileSync('bash', [join(ROOT, 'addon', 'install-local.sh'), dest], { stdio: 'pipe' });
      const folder = join(dest, 'qobuz_connect_bridge');
      const files = (function walk(d: string): string[] {
        return readdirSync(d, { withFileTypes: true }).flatMap((e) =>
          e.isDirectory() ? walk(join(d, e.name)) : [relative(folder, join(d, e.name))],
        );
      })(folder);
      // The Supervisor finds add-ons by config.yaml: exactly one, at the top.
      expect(files.filter((f) => /(^|\/)config\.(ya?ml|json)$/.test(f))).toEqual(['config.yaml']);
      expect(readFileSync(join(folder, 'config.yaml'), 'utf8')).toBe(text('addon/config.yaml'));
      expect(readFileSync(join(folder, 'Dockerfile'), 'utf8')).toBe(file);
      for (const s of copySources(file)) expect(existsSync(join(folder, s)), s).toBe(true);
      for (const f of [
        'DOCS.md',
        'README.md',
        'CHANGELOG.md',
        'icon.png',
        'logo.png',
        'translations/en.yaml',
      ])
        expect(files).toContain(f);
      expect(files.some((f) => f.startsWith('test/') || f.startsWith('node_modules/'))).toBe(false);
    } finally {
      rmSync(dest, { recursive: true, force: true });
    }
  });
});
