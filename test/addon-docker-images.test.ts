import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';

/**
 * Issues #7, #13 and #17: the two Dockerfiles (plain Docker at the top, the add-on in addon/)
 * cannot be built here (no Docker engine), so their build contexts are checked by reading:
 * every COPY source exists and is not excluded by .dockerignore, the add-on names an explicit
 * base image, runs s6-overlay services with a HEALTHCHECK and current labels, its s6-rc
 * definitions hang together, and addon/install-local.sh lays out a folder that is such a
 * build context.
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

  it('builds on node:24-slim, the current Node.js LTS (#26), and runs the compiled CLI as the node user with /config/config.yaml', () => {
    const ops = instructions(file);
    expect(ops.filter((i) => i.op === 'FROM').map((i) => i.args)).toEqual([
      'node:24-slim AS build',
      'node:24-slim',
    ]);
    expect(ops.filter((i) => i.op === 'USER').map((i) => i.args)).toEqual(['node']);
    expect(
      ops.some((i) => i.op === 'RUN' && i.args.includes('npm ci') && i.args.includes('--ignore-scripts')),
    ).toBe(true);
    expect(ops.some((i) => i.op === 'RUN' && i.args.includes('npm run build'))).toBe(true);
    expect(ops.at(-2)).toEqual({ op: 'ENTRYPOINT', args: '["node", "dist/src/main.js"]' });
    // #13: the embedded broker (127.0.0.1 by default) is not advertised as a port to publish.
    expect(ops.filter((i) => i.op === 'EXPOSE').map((i) => i.args)).toEqual(['8689/tcp']);
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
    // #26: Node.js 24 (the active LTS) in both stages, never whatever the base happens to carry.
    const apk = ops.filter((i) => i.op === 'RUN' && i.args.includes('apk add'));
    expect(apk).toHaveLength(2);
    for (const i of apk) expect(i.args).toContain("'nodejs~24'");
    // s6-overlay's /init (the base image's entrypoint) runs the services: no CMD of our own.
    expect(ops.some((i) => i.op === 'CMD' || i.op === 'ENTRYPOINT')).toBe(false);
    expect(existsSync(join(ROOT, 'addon', 'build.yaml'))).toBe(false); // no longer read: it would mislead
  });

  it('makes the unprivileged user qcb and the drop to it at the path the service and AppArmor name (#26)', () => {
    const ops = instructions(file);
    const user = ops.find((i) => i.op === 'RUN' && i.args.includes('adduser'))?.args ?? '';
    expect(user).toMatch(/addgroup -S qcb/);
    expect(user).toMatch(/adduser -S -D -H -h \/nonexistent -s \/sbin\/nologin -G qcb qcb/);
    expect(user).toContain('install -D -m 0755 "$(readlink -f /command/s6-setuidgid)" /usr/local/libexec/qcb-setuidgid');
    expect(text('addon/rootfs/etc/s6-overlay/scripts/qcb-common.sh')).toContain(
      'QCB_SETUIDGID="${QCB_SETUIDGID:-/usr/local/libexec/qcb-setuidgid}"',
    );
    expect(text('addon/rootfs/etc/s6-overlay/scripts/qcb-common.sh')).toContain('QCB_BRIDGE_USER="${QCB_BRIDGE_USER:-qcb}"');
    expect(text('addon/apparmor.txt')).toContain('/usr/local/libexec/qcb-setuidgid cx -> bridge,');
    // The image itself stays root: s6-overlay's /init needs it; only the bridge drops (the service's run).
    expect(ops.some((i) => i.op === 'USER')).toBe(false);
  });

  it('checks its health on /healthz and carries the current labels, version and arch from the build args (#17)', () => {
    const ops = instructions(file);
    const health = ops.find((i) => i.op === 'HEALTHCHECK')?.args ?? '';
    expect(health).toMatch(/--start-period=\d+s/);
    expect(health).toMatch(/CMD \["\/usr\/local\/bin\/qcb-healthcheck"\]$/);
    expect(existsSync(join(ROOT, 'addon/rootfs/usr/local/bin/qcb-healthcheck'))).toBe(true);
    const args = ops.filter((i) => i.op === 'ARG').map((i) => i.args);
    expect(args).toEqual(expect.arrayContaining(['BUILD_ARCH', 'BUILD_VERSION']));
    const labels = ops.find((i) => i.op === 'LABEL')?.args ?? '';
    expect(labels).toContain('io.hass.type="app"');
    expect(labels).toContain('io.hass.arch="${BUILD_ARCH}"');
    expect(labels).toContain('io.hass.version="${BUILD_VERSION}"');
  });

  it('has s6-rc services that hang together: types, dependencies, the user bundle, executable scripts', () => {
    const rc = join(ROOT, 'addon/rootfs/etc/s6-overlay/s6-rc.d');
    const services = readdirSync(rc).filter((n) => n !== 'user');
    expect(services.sort()).toEqual(['init-qobuz-connect-bridge', 'qobuz-connect-bridge']);
    expect(readdirSync(join(rc, 'user/contents.d')).sort()).toEqual(services.sort());
    const type = (s: string) => readFileSync(join(rc, s, 'type'), 'utf8').trim();
    expect(type('init-qobuz-connect-bridge')).toBe('oneshot');
    expect(type('qobuz-connect-bridge')).toBe('longrun');
    expect(readdirSync(join(rc, 'qobuz-connect-bridge/dependencies.d'))).toEqual([
      'init-qobuz-connect-bridge',
    ]);
    expect(readdirSync(join(rc, 'init-qobuz-connect-bridge/dependencies.d'))).toEqual(['base']);
    // The oneshot's `up` is one command line: the image path of a script in rootfs.
    const up = readFileSync(join(rc, 'init-qobuz-connect-bridge/up'), 'utf8').trim();
    expect(existsSync(join(ROOT, 'addon/rootfs', up)), up).toBe(true);
    // What s6 and Docker execute must be executable in git (COPY keeps the mode).
    const modes = execFileSync('git', ['ls-files', '-s', 'addon/rootfs'], { cwd: ROOT, encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => [l.split('\t')[1]!, l.split(' ')[0]!] as const);
    const executables = modes.filter(([, mode]) => mode === '100755').map(([path]) => path);
    for (const path of [
      `addon/rootfs${up}`,
      'addon/rootfs/etc/s6-overlay/scripts/qcb-mpd-run.sh',
      'addon/rootfs/etc/s6-overlay/scripts/qcb-mpd-finish.sh',
      'addon/rootfs/etc/s6-overlay/s6-rc.d/qobuz-connect-bridge/run',
      'addon/rootfs/etc/s6-overlay/s6-rc.d/qobuz-connect-bridge/finish',
      'addon/rootfs/usr/local/bin/qcb-healthcheck',
    ])
      expect(executables, path).toContain(path);
    for (const path of executables.filter((p) => p.includes('s6-overlay')))
      expect(readFileSync(join(ROOT, path), 'utf8'), path).toMatch(/^#!\/command\/with-contenv bashio\n/);
  });

  it('copies only paths that exist from the repository root, its documented build context', () => {
    const sources = copySources(file);
    expect(sources).toEqual(expect.arrayContaining(['addon/rootfs', 'src', 'LICENSE']));
    for (const s of sources) {
      expect(existsSync(join(ROOT, s)), s).toBe(true);
      expect(ignored(s), `${s} is excluded by .dockerignore`).toBe(false);
    }
    // The bridge's own config files stay out of the add-on: nothing reads them there.
    expect(sources.filter((p) => /(^|\/)config\./.test(p))).toEqual([]);
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
      // #17: the Supervisor reads every config.* ending in .json/.yaml/.yml outside dot-folders
      // and rootfs/ as an add-on manifest: exactly one, at the top.
      const seen = files.filter(
        (f) =>
          /(^|\/)config\.[^/]*$/.test(f) &&
          /\.(json|ya?ml)$/.test(f) &&
          !f.split('/').some((part) => part.startsWith('.') || part === 'rootfs'),
      );
      expect(seen).toEqual(['config.yaml']);
      // Without `image:`, so that the Supervisor builds this checkout instead of pulling.
      expect(readFileSync(join(folder, 'config.yaml'), 'utf8')).toBe(
        text('addon/config.yaml').replace(/^image:.*\n/m, ''),
      );
      expect(readFileSync(join(folder, 'Dockerfile'), 'utf8')).toBe(file);
      for (const s of copySources(file)) expect(existsSync(join(folder, s)), s).toBe(true);
      for (const f of [
        'DOCS.md',
        'README.md',
        'CHANGELOG.md',
        'icon.png',
        'logo.png',
        'apparmor.txt',
        'translations/en.yaml',
      ])
        expect(files).toContain(f);
      expect(files.some((f) => f.startsWith('test/') || f.startsWith('node_modules/'))).toBe(false);
    } finally {
      rmSync(dest, { recursive: true, force: true });
    }
  });
});
