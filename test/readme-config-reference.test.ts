import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  END_MARKER,
  expectedReadme,
  README_FILE,
  renderConfigReference,
  replaceReferenceBlock,
  SCHEMA_FILE,
  START_MARKER,
} from '../scripts/generate-config-reference.js';
import { HaDiscovery } from '../src/mqtt/ha-discovery.js';
import { Topics } from '../src/mqtt/topics.js';

/**
 * Issue #7: the README's configuration reference is generated from config.schema.json and
 * must be fresh; the README keeps its first block, says plainly that the bridge is
 * unofficial, and its MQTT/Home Assistant reference names what the code publishes.
 */

const readme = () => readFileSync(README_FILE, 'utf8');
const schema = () => JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Record<string, unknown>;

/** Every key path of the JSON Schema: `players[].mpd.port`, `mqtt.tls.ca`. */
function keyPaths(node: Record<string, unknown>, prefix = ''): string[] {
  const object =
    (node.properties
      ? node
      : (node.anyOf as Record<string, unknown>[] | undefined)?.find((b) => b.properties)) ?? {};
  const items = node.items as Record<string, unknown> | undefined;
  if (node.type === 'array' && items?.properties) return [prefix, ...keyPaths(items, `${prefix}[]`).slice(1)];
  const props = (object.properties ?? {}) as Record<string, Record<string, unknown>>;
  const children = Object.entries(props).flatMap(([k, v]) => keyPaths(v, prefix ? `${prefix}.${k}` : k));
  return prefix === '' ? children : [prefix, ...children];
}

describe('README.md', () => {
  it('keeps its first block: the title and the two commands', () => {
    expect(readme().split('\n').slice(0, 6).join('\n')).toBe(
      [
        '# qobuz-connect-bridge',
        '',
        '```sh',
        'npm ci && npm start        # set up and run the bridge with config.example.yaml on the embedded MQTT broker',
        'npm ci && npm test         # run the tests (installs mosquitto, mpd, flac with apt-get when missing, as root)',
        '```',
      ].join('\n'),
    );
  });

  it('has a configuration reference generated from the current config.schema.json', () => {
    const fresh = expectedReadme();
    expect(readme() === fresh, 'README.md is stale: run npx tsx scripts/generate-config-reference.ts').toBe(
      true,
    );
  });

  it('detects a stale reference block', () => {
    const edited = readme().replace('| `http.port` |', '| `http.porte` |');
    expect(edited).not.toBe(readme());
    expect(expectedReadme(edited)).toBe(readme());
    expect(() => replaceReferenceBlock('no markers here', 'x')).toThrow(START_MARKER);
  });

  it('lists every key of the schema with its default, and required keys as required', () => {
    const table = renderConfigReference(schema());
    for (const path of keyPaths(schema())) expect(table, path).toContain(`| \`${path}\` |`);
    expect(table).toContain('| `http.port` | integer 0-65535 | `8689` |');
    expect(table).toContain('| `players[].id` | string matching `^[a-z0-9_]+$` | **required** |');
    expect(table).toContain(
      '| `qobuz.max_quality` | `mp3` \\| `cd` \\| `hires_96` \\| `hires_192` | `hires_192` |',
    );
    expect(readme().indexOf(START_MARKER)).toBeLessThan(readme().indexOf(END_MARKER));
  });

  it('says plainly that the bridge is unofficial, reverse-engineered and ships no credentials', () => {
    const text = readme().replace(/\n> ?/g, ' ').replace(/\s+/g, ' ');
    expect(text).toMatch(/\*\*Unofficial\.\*\* This project is not affiliated with or endorsed by Qobuz/);
    expect(text).toContain('reverse-engineered protocol');
    expect(text).toContain('the repository ships no credentials');
  });

  it('links only to files that exist and to headings that exist', () => {
    const text = readme();
    for (const [, target] of text.matchAll(/\]\(([^)#][^)]*)\)/g)) {
      if (/^https?:/.test(target!)) continue;
      expect(existsSync(new URL(`../${target}`, import.meta.url)), target).toBe(true);
    }
    const anchors = new Set(
      [...text.matchAll(/^#{2,3} (.+)$/gm)].map((m) =>
        m[1]!
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    for (const [, anchor] of text.matchAll(/\]\(#([^)]+)\)/g))
      expect(anchors.has(anchor!), anchor).toBe(true);
  });

  it('names every MQTT topic and Home Assistant entity the bridge publishes', () => {
    const topics = new Topics('B');
    for (const topic of [
      topics.bridgeState,
      topics.bridgeInfo,
      topics.availability('p'),
      topics.state('p'),
      topics.coverUrl('p'),
      topics.event('p'),
      topics.set('p'),
      topics.setResult('p'),
    ])
      expect(readme()).toContain(`\`${topic.replace('/p/', '/<player>/').replace(/\/p$/, '/<player>')}\``);
    const discovery = new HaDiscovery({ topics, bridge: { version: '1', name: 'bridge' } });
    const config = JSON.parse(discovery.playerConfig({ id: 'p', name: 'P', uuid: 'u' }).payload) as {
      cmps: Record<string, { p: string; name: string }>;
    };
    const entityTable = readme().slice(
      readme().indexOf('## Home Assistant entities'),
      readme().indexOf('## HTTP endpoints'),
    );
    for (const { p, name } of Object.values(config.cmps)) {
      expect(entityTable, name).toContain(name);
      expect(entityTable, p).toContain(p.replace('_', ' '));
    }
  });
});
