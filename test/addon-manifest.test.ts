import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { SCHEMA_ELEMENT, type SchemaNode } from '../addon/dev/supervisor-options.js';

/**
 * Issue #7 / README.md "Home Assistant add-on": the add-on manifest has what the Supervisor
 * and the builder need, every option is in the schema, named and described in the
 * translations, and the store images are real PNGs of the sizes Home Assistant shows.
 */

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url));
const text = (path: string) => read(path).toString('utf8');
const manifest = YAML.parse(text('addon/config.yaml')) as Record<string, unknown>;
const schema = manifest.schema as { [key: string]: SchemaNode };
const pkg = JSON.parse(text('package.json')) as { version: string };

/** Every path of a schema or options tree: `players[].mpd.port`. */
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

describe('the add-on manifest (addon/config.yaml)', () => {
  it('names the add-on and carries the package version', () => {
    expect(manifest).toMatchObject({
      name: 'Qobuz Connect Bridge',
      version: pkg.version,
      slug: 'qobuz_connect_bridge',
      init: false,
      host_network: true,
      audio: true,
      arch: ['aarch64', 'amd64'],
    });
    expect(manifest.description).toEqual(expect.stringMatching(/Qobuz Connect/));
    expect(manifest.url).toEqual(expect.stringMatching(/^https:\/\//));
  });

  it('needs the MQTT service and declares the HTTP port with a description', () => {
    expect(manifest.services).toEqual(['mqtt:need']);
    expect(manifest.ports).toEqual({ '8689/tcp': 8689 });
    expect((manifest.ports_description as Record<string, string>)['8689/tcp']).toMatch(/Qobuz/);
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
      http: { port: 'port' },
      mdns: { interfaces: ['str?'] },
      mqtt: { url: expect.stringMatching(/\?$/), username: 'str?', password: 'password?', discovery: 'bool' },
      log_level: 'list(debug|info|warn|error)',
    });
    const player = (schema.players as SchemaNode[])[0] as Record<string, Record<string, string> | string>;
    expect(player).toMatchObject({
      id: 'match(^[a-z0-9_]+$)',
      device_type: 'list(speaker|streamer|tv|soundbar|computer|headphones)',
      uuid: expect.stringMatching(/\?$/),
      mpd: { host: 'str?', port: 'port?', password: 'password?' },
      volume: { min: 'int(0,100)', max: 'int(0,100)' },
    });
  });

  it('gives every option a schema entry', () => {
    const schemaPaths = new Set(leaves(schema));
    for (const p of leaves(manifest.options)) expect(schemaPaths.has(p), p).toBe(true);
  });

  it('names and describes every option in translations/en.yaml', () => {
    const tr = (YAML.parse(text('addon/translations/en.yaml')) as { configuration: Record<string, unknown> })
      .configuration;
    for (const path of leaves(schema).concat(paths(schema).filter((p) => !p.endsWith('[]')))) {
      const entry = path
        .replace(/\[\]/g, '')
        .split('.')
        .reduce<Record<string, unknown> | undefined>((node, key, i) => {
          const at = i === 0 ? node : (node?.fields as Record<string, unknown> | undefined);
          return at?.[key] as Record<string, unknown> | undefined;
        }, tr);
      expect(entry?.name, `${path}: name`).toEqual(expect.any(String));
      expect(String(entry?.description), `${path}: description`).toMatch(/\w{3}/);
    }
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
      'repository root',
    ])
      expect(docs).toContain(needle);
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
