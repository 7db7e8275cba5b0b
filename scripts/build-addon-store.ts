/**
 * Builds the Home Assistant app (add-on) store as a tree of its own (README.md "Home
 * Assistant add-on", SPEC "Home Assistant add-on"): `repository.yaml` and one app folder with
 * the manifest (its `image:` names the prebuilt images), docs, changelog, icons, translations
 * and AppArmor profile. The release workflow (.github/workflows/addon-image.yaml) publishes
 * the tree to the `addon` branch, which users add as `<url>#addon`.
 *
 * Why a tree of its own: the Supervisor reads every `config.{json,yaml,yml}` of a repository
 * it is given (addon/dev/supervisor-store.ts), and this repository's root holds the bridge's
 * `config.example.yaml` and `config.schema.json`, which it would log as invalid apps at every
 * store refresh. `addon/` stays the source of the image; nothing of the image is needed here.
 *
 *   npm run addon:store [-- OUT_DIR]        (default build/addon-store)
 *
 * The script scans what it wrote like the Supervisor and fails unless it finds exactly one
 * valid app and a valid repository file.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import YAML from 'yaml';
import { scanStore } from '../addon/dev/supervisor-store.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_OUT = join(ROOT, 'build', 'addon-store');

/** What goes into the app folder, from addon/: everything the store shows, nothing it builds. */
export const APP_FILES = [
  'config.yaml',
  'DOCS.md',
  'README.md',
  'CHANGELOG.md',
  'icon.png',
  'logo.png',
  'apparmor.txt',
  'translations',
] as const;

const REPOSITORY_NAME = 'Qobuz Connect Bridge';
const MAINTAINER = 'qobuz-connect-bridge maintainers';

/** The repository file: the Supervisor shows name and maintainer, and links the url. */
function repositoryYaml(url: string): string {
  return [
    '# Home Assistant app repository of qobuz-connect-bridge. Add it in Settings > Apps >',
    `# App store > ⋮ > Repositories as ${url}#addon`,
    '# Built from the main branch (addon/) by scripts/build-addon-store.ts; the release',
    '# workflow overwrites this branch: change the main branch instead.',
    YAML.stringify({ name: REPOSITORY_NAME, url, maintainer: MAINTAINER }).trimEnd(),
    '',
  ].join('\n');
}

/** Writes the store tree to outDir (emptied first); returns the app folder's name (the slug). */
export function buildAddonStore(outDir: string = DEFAULT_OUT): string {
  const manifest = YAML.parse(readFileSync(join(ROOT, 'addon', 'config.yaml'), 'utf8')) as {
    slug: string;
    url: string;
    image?: string;
  };
  if (manifest.image === undefined)
    throw new Error('addon/config.yaml has no image: the store needs prebuilt images');
  rmSync(outDir, { recursive: true, force: true });
  const appDir = join(outDir, manifest.slug);
  mkdirSync(appDir, { recursive: true });
  for (const file of APP_FILES) cpSync(join(ROOT, 'addon', file), join(appDir, file), { recursive: true });
  writeFileSync(join(outDir, 'repository.yaml'), repositoryYaml(manifest.url));

  const scan = scanStore(outDir);
  const problems = [
    ...(scan.repository === null
      ? ['no repository.yaml']
      : scan.repository.errors.map((e) => `repository: ${e}`)),
    ...scan.invalid.map(({ path, errors }) => `${path}: ${errors.join('; ')}`),
    ...(scan.apps.length === 1 ? [] : [`${scan.apps.length} apps found, expected 1`]),
  ];
  if (problems.length > 0) throw new Error(`the store tree does not scan clean:\n  ${problems.join('\n  ')}`);
  return manifest.slug;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const out = resolve(process.argv[2] ?? DEFAULT_OUT);
  const slug = buildAddonStore(out);
  console.log(`wrote the app store to ${out} (repository.yaml, ${slug}/)`);
}
