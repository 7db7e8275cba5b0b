import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { SCHEMA_ELEMENT, type SchemaNode, supervisorOptions } from '../addon/dev/supervisor-options.js';

/**
 * Issues #7 and #17 / README.md "Home Assistant add-on": the add-on manifest passes the
 * Supervisor's own checks (supervisor/apps/validate.py, store/data.py) and the add-on
 * linter's (frenck/action-addon-linter: no key at its default value), its defaults pass its
 * schema, every option is named and described in the translations, the AppArmor profile is
 * one profile the Supervisor can rename, the repository file is valid, and the store images
 * are real PNGs of the sizes Home Assistant shows.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url));
const text = (path: string) => read(path).toString('utf8');
const manifest = YAML.parse(text('addon/config.yaml')) as Record<string, unknown>;
const schema = manifest.schema as { [key: string]: SchemaNode };
const pkg = JSON.parse(text('package.json')) as { version: string };

/** Every path of a schema or options tree: `players[].mpd_port`. */
function paths(node: unknown, prefix = ''): string[] {
  if (Array.isArray(node)) return node.length > 0 ? paths(node[0], `${prefix}[]`) : [prefix];
  if (node !== null && typeof node === 'object')
    return Object.entries(node).flatMap(([k, v]) => [
      ...(typeof v === 'object' && v !== null ? [`${prefix}${prefix ? '.' : ''}${k}`] : []),
      ...paths(v, `${prefix}${prefix ? '.' : ''}${k}`),
    ]);
  return [prefix];
}
const leaves = (node: unknown) => [...new Set(paths(node))].filter((p) => !p.endsWith('[]'));

/**
 * The keys whose value, when written, is the Supervisor's default (validate.py
 * _SCHEMA_APP_CONFIG), which the add-on linter asks to remove.
 */
const SUPERVISOR_DEFAULTS: Record<string, unknown> = {
  startup: 'application',
  boot: 'auto',
  init: true,
  advanced: false,
  stage: 'stable',
  ingress: false,
  ingress_port: 8099,
  ingress_stream: false,
  panel_icon: 'mdi:puzzle',
  panel_admin: true,
  host_network: false,
  host_pid: false,
  host_ipc: false,
  host_uts: false,
  host_dbus: false,
  udev: false,
  tmpfs: false,
  apparmor: true,
  full_access: false,
  audio: false,
  video: false,
  gpio: false,
  usb: false,
  uart: false,
  devicetree: false,
  kernel_modules: false,
  realtime: false,
  hassio_api: false,
  hassio_role: 'default',
  homeassistant_api: false,
  stdin: false,
  legacy: false,
  docker_api: false,
  auth_api: false,
  backup: 'hot',
  timeout: 10,
  journald: false,
};

describe('the add-on manifest (addon/config.yaml)', () => {
  it('names the add-on, carries the package version and runs under s6-overlay on the host network', () => {
    expect(manifest).toMatchObject({
      name: 'Qobuz Connect Bridge',
      version: pkg.version,
      slug: 'qobuz_connect_bridge',
      init: false,
      host_network: true,
      audio: true,
      arch: ['aarch64', 'amd64'],
    });
    expect(manifest.slug).toMatch(/^[-_.A-Za-z0-9]+$/); // RE_SLUG
    expect(manifest.description).toEqual(expect.stringMatching(/Qobuz Connect/));
    expect(manifest.url).toEqual(expect.stringMatching(/^https:\/\//));
  });

  it('is experimental, wants (not needs) the MQTT service, and maps no port on the host network (#17)', () => {
    expect(manifest.stage).toBe('experimental');
    // The embedded broker takes over without the MQTT service, so the add-on must still start.
    expect(manifest.services).toEqual(['mqtt:want']);
    for (const s of manifest.services as string[]) expect(s).toMatch(/^(mqtt|mysql):(provide|want|need)$/);
    expect(manifest).not.toHaveProperty('ports');
    expect(manifest).not.toHaveProperty('ports_description');
  });

  it('leaves out every key at its Supervisor default, as the add-on linter asks (#17)', () => {
    for (const [key, value] of Object.entries(SUPERVISOR_DEFAULTS))
      expect(manifest[key], `${key} is at its default`).not.toEqual(value);
    expect(manifest).not.toHaveProperty('watchdog'); // obsolete: the image has a HEALTHCHECK
    expect(manifest).not.toHaveProperty('codenotary');
  });

  it('names a prebuilt image per architecture, the one the image workflow publishes (#17)', () => {
    const image = manifest.image as string;
    // Supervisor docker_image(): no tag, lower-case path components that may hold {arch}.
    expect(image).not.toMatch(/:[^/]*$/);
    for (const part of image.split('/').slice(1)) expect(part).toMatch(/^[a-z0-9{][a-z0-9.\-_{}]*$/);
    expect(image).toContain('{arch}');
    const workflow = text('.github/workflows/addon-image.yaml');
    const name = /IMAGE_NAME: (\S+)/.exec(workflow)?.[1];
    const owner = /^https:\/\/github\.com\/([^/]+)\//.exec(manifest.url as string)?.[1];
    expect(image).toBe(`ghcr.io/${owner}/{arch}-${name}`);
  });

  it('writes every schema type in the Supervisor syntax, with regexes that compile', () => {
    const types = paths(schema).map(
      (p) =>
        [
          p,
          p
            .split(/\.|\[\]/)
            .reduce<unknown>(
              (n, k) => (k === '' ? (n as unknown[])[0] : (n as Record<string, unknown>)[k]),
              schema,
            ),
        ] as const,
    );
    for (const [path, type] of types.filter(([, t]) => typeof t === 'string')) {
      const m = SCHEMA_ELEMENT.exec(type as string);
      expect(m, `${path}: ${String(type)}`).not.toBeNull();
      if (m?.groups?.match) expect(() => new RegExp(m.groups!.match!)).not.toThrow();
    }
    expect(schema).toMatchObject({
      qobuz: {
        app_id: 'str',
        app_secret: 'password',
        max_quality: 'list(mp3|cd|hires_96|hires_192)',
        user_auth_token: 'password?',
      },
      http: { port: 'port', advertise_address: expect.stringMatching(/\?$/) },
      mdns: { interfaces: ['str?'] },
      mqtt: { url: expect.stringMatching(/\?$/), username: 'str?', password: 'password?', discovery: 'bool' },
      log_level: 'list(debug|info|warn|error)',
    });
  });

  it('keeps players flat: only id and name are required, so the UI editor can add one (#17)', () => {
    const player = (schema.players as SchemaNode[])[0] as Record<string, SchemaNode>;
    expect(player).toEqual({
      id: 'match(^[a-z0-9_]+$)',
      name: 'match(^.+$)',
      device_type: 'list(speaker|streamer|tv|soundbar|computer|headphones)?',
      uuid: expect.stringMatching(/^match\(.*\)\?$/),
      mpd_host: 'str?',
      mpd_port: 'port?',
      mpd_password: 'password?',
      volume_min: 'int(0,100)?',
      volume_max: 'int(0,100)?',
    });
    // A dict is never optional for the Supervisor: nested ones would be required in every entry.
    for (const [key, type] of Object.entries(player)) expect(typeof type, key).toBe('string');
  });

  it('has defaults that pass its own schema, as the Supervisor checks them at start', () => {
    expect(supervisorOptions(manifest as never)).toEqual({ ok: true, value: manifest.options });
  });

  it('gives every option a schema entry', () => {
    const schemaPaths = new Set(leaves(schema));
    for (const p of leaves(manifest.options)) expect(schemaPaths.has(p), p).toBe(true);
  });

  it('names and describes every option in translations/en.yaml, and nothing that is gone', () => {
    const translations = YAML.parse(text('addon/translations/en.yaml')) as Record<string, unknown>;
    const tr = translations.configuration as Record<string, unknown>;
    const allPaths = [...new Set(leaves(schema).concat(paths(schema).filter((p) => !p.endsWith('[]'))))];
    const lookup = (path: string) =>
      path
        .replace(/\[\]/g, '')
        .split('.')
        .reduce<Record<string, unknown> | undefined>((node, key, i) => {
          const at = i === 0 ? node : (node?.fields as Record<string, unknown> | undefined);
          return at?.[key] as Record<string, unknown> | undefined;
        }, tr);
    for (const path of allPaths) {
      const entry = lookup(path);
      expect(entry?.name, `${path}: name`).toEqual(expect.any(String));
      expect(String(entry?.description), `${path}: description`).toMatch(/\w{3}/);
    }
    /** Paths of the translation tree: its keys, and their `fields` one level down. */
    const translatedPaths = (node: Record<string, unknown>, prefix = ''): string[] =>
      Object.entries(node).flatMap(([k, v]) => {
        const path = `${prefix}${prefix ? '.' : ''}${k}`;
        const fields = (v as { fields?: Record<string, unknown> }).fields;
        return [path, ...(fields ? translatedPaths(fields, path) : [])];
      });
    const known = allPaths.map((a) => a.replace(/\[\]/g, ''));
    for (const p of translatedPaths(tr)) expect(known, `translation of ${p}`).toContain(p);
    // The `network` section describes mapped ports; there are none on the host network.
    expect(translations).not.toHaveProperty('network');
  });

  it('has a changelog whose newest entry is the manifest version, and docs on the app id and secret', () => {
    expect(text('addon/CHANGELOG.md')).toMatch(new RegExp(`^## ${pkg.version.replace(/\./g, '\\.')}$`, 'm'));
    const changelogVersions = [...text('addon/CHANGELOG.md').matchAll(/^## (\S+)/gm)].map((m) => m[1]);
    expect(changelogVersions[0]).toBe(pkg.version);
    const docs = text('addon/DOCS.md');
    for (const needle of [
      '## Installation',
      '## Configuration',
      '## Troubleshooting',
      'app_secret',
      'ship **none**',
    ])
      expect(docs).toContain(needle);
  });

  it('names the menus as Home Assistant does since 2026 (Settings > Apps), never the old add-on paths (#17)', () => {
    for (const file of ['addon/DOCS.md', 'addon/install-local.sh', 'repository.yaml', 'README.md']) {
      expect(text(file), file).not.toMatch(/Settings\s*(>|→)\s*Add-ons|Add-on store/);
    }
    expect(text('addon/DOCS.md')).toMatch(/Settings\s*>\s*Apps/);
  });
});

describe('the AppArmor profile (addon/apparmor.txt)', () => {
  const profile = text('addon/apparmor.txt');

  it('holds exactly one top-level profile, named after the slug, which the Supervisor renames', () => {
    // supervisor/utils/apparmor.py reads `^profile (\S+)` and wants exactly one.
    expect([...profile.matchAll(/^profile ([^ ]+).*$/gm)].map((m) => m[1])).toEqual([manifest.slug]);
    expect(profile).toMatch(/flags=\(attach_disconnected,mediate_deleted\)/);
  });

  it('allows the network, the Pulse socket and /data, but no blanket file, capability or mount rule', () => {
    for (const rule of ['network inet stream,', 'network inet dgram,', 'unix,', '/run/{,**} rwk,', '/data/** rwk,'])
      expect(profile).toContain(rule);
    const rules = profile
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    for (const broad of ['file,', 'capability,', 'network,', 'mount,', 'ptrace,', '/** rw,', '/** rwix,'])
      expect(rules, broad).not.toContain(broad);
    expect(rules.some((l) => /^(capability )?sys_admin/.test(l) || l === 'capability sys_admin,')).toBe(
      false,
    );
  });

  /** The rules of the top-level profile and of its child `bridge` (comments and blank lines dropped). */
  const parts = () => {
    const rules = profile
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    const start = rules.findIndex((l) => l.startsWith('profile bridge '));
    return { main: rules.slice(0, start), bridge: rules.slice(start + 1, -2) };
  };

  it('gives the root part no dac_override, setuid or setgid, and no executable /run but s6\'s own and the generated MPD services (#26)', () => {
    const { main } = parts();
    for (const cap of ['dac_override', 'dac_read_search', 'setuid', 'setgid', 'sys_admin'])
      expect(main.filter((l) => l.startsWith('capability') && l.includes(cap)), cap).toEqual([]);
    const runExec = main.filter((l) => /^\/(var\/)?run\//.test(l) && /\s[a-z]*x[a-z]*[, ]/.test(l));
    expect(runExec).toEqual([
      '/run/s6/** rix,',
      '/run/s6-rc*/** rix,',
      '/run/service/** rix,',
      '/run/qobuz-connect-bridge/services/*/run rix,',
      '/run/qobuz-connect-bridge/services/*/finish rix,',
    ]);
  });

  it('runs the bridge in a child profile from the drop on: only it may change identity, and it writes nothing but /tmp (#26)', () => {
    const { main, bridge } = parts();
    expect(main).toContain('/usr/local/libexec/qcb-setuidgid cx -> bridge,');
    // The only identity change in the add-on: s6-setuidgid (root) becoming qcb.
    expect(bridge.filter((l) => l.startsWith('capability'))).toEqual(['capability setuid,', 'capability setgid,']);
    // It executes Node.js and nothing else, and writes only temporary files.
    expect(bridge.filter((l) => /\s[a-z]*x[a-z]*,$/.test(l))).toEqual(['/usr/bin/node rix,']);
    expect(bridge.filter((l) => /^\/\S+ [a-z]*w[a-z]*,$/.test(l))).toEqual(['/tmp/** rwk,']);
    expect(bridge).toContain('/run/qobuz-connect-bridge/bridge.json r,');
    expect(bridge.some((l) => l.startsWith('unix'))).toBe(false);
  });

  it('parses with apparmor_parser (syntax and includes, without loading it)', () => {
    const parser = ['/usr/sbin/apparmor_parser', '/sbin/apparmor_parser'].find((p) => existsSync(p));
    if (!parser)
      throw new Error(
        'apparmor_parser is missing; install it with: apt-get update && apt-get install -y apparmor',
      );
    execFileSync(parser, ['--skip-kernel-load', '--skip-cache', `${ROOT}addon/apparmor.txt`], {
      stdio: 'pipe',
    });
  });
});

describe('the add-on repository (repository.yaml, #17)', () => {
  it('has the name, url and maintainer the Supervisor reads', () => {
    const repo = YAML.parse(text('repository.yaml')) as Record<string, unknown>;
    expect(repo).toEqual({ name: expect.any(String), url: manifest.url, maintainer: expect.any(String) });
  });

  it('holds one add-on: every other file the Supervisor takes for a manifest is a known one (SPEC: the root config files)', () => {
    // supervisor/store/data.py: every **/config.* with a .json/.yaml/.yml suffix, except
    // under a dot-folder or a rootfs/ folder, is read as an add-on manifest.
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
      cwd: ROOT,
      encoding: 'utf8',
    })
      .split('\n')
      .filter((f) => f !== '' && existsSync(`${ROOT}${f}`));
    const found = files.filter(
      (f) =>
        /(^|\/)config\.[^/]*$/.test(f) &&
        /\.(json|ya?ml)$/.test(f) &&
        !f.split('/').some((part) => part.startsWith('.') || part === 'rootfs'),
    );
    const manifests = found.filter((f) => 'slug' in ((YAML.parse(text(f)) as Record<string, unknown>) ?? {}));
    expect(manifests).toEqual(['addon/config.yaml']);
    // The bridge's own config.example.yaml and config.schema.json sit at the root by SPEC
    // ("Configuration"); the Supervisor logs them as unreadable manifests until they move
    // (README "Home Assistant add-on": a maintainer's decision). Nothing else may join them.
    expect(found.filter((f) => !manifests.includes(f)).sort()).toEqual([
      'config.example.yaml',
      'config.schema.json',
    ]);
  });
});

/** Width and height of a PNG after checking its signature, chunk CRCs and image data size. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) =>
    (b.reduce((c, x) => table[(c ^ x) & 0xff]! ^ (c >>> 8), 0xffffffff) ^ 0xffffffff) >>> 0;
  let offset = 8;
  const idat: Buffer[] = [];
  let width = 0;
  let height = 0;
  while (offset < bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const typed = bytes.subarray(offset + 4, offset + 8 + length);
    expect(bytes.readUInt32BE(offset + 8 + length)).toBe(crc(typed));
    const type = typed.subarray(0, 4).toString('ascii');
    if (type === 'IHDR')
      ({ width, height } = { width: typed.readUInt32BE(4), height: typed.readUInt32BE(8) });
    if (type === 'IDAT') idat.push(typed.subarray(4));
    offset += 12 + length;
  }
  expect(inflateSync(Buffer.concat(idat)).length).toBe((width * 4 + 1) * height);
  return { width, height };
}

describe('the add-on store images', () => {
  it('are a 128x128 icon.png and a 250x100 logo.png', () => {
    expect(pngSize(read('addon/icon.png'))).toEqual({ width: 128, height: 128 });
    expect(pngSize(read('addon/logo.png'))).toEqual({ width: 250, height: 100 });
  });
});
