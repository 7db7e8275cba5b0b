/**
 * How the Home Assistant Supervisor reads an app (add-on) repository, for the store build
 * (scripts/build-addon-store.ts) and its tests: which files it takes for app manifests, and
 * the checks a manifest and the repository file must pass, as far as our add-on tests
 * already mirror them.
 *
 * Mirrored from supervisor/store/data.py and supervisor/apps/validate.py:
 * - every `config.*` file below the repository root whose suffix is .json, .yaml or .yml is
 *   an app manifest (so `config.example.yaml` is one too), unless a folder on its path starts
 *   with a dot or is named `rootfs`; one that does not parse or validate is logged as
 *   "Invalid app config" and skipped;
 * - the repository needs `repository.{json,yaml,yml}` at its root with a `name` (`url` and
 *   `maintainer` are optional strings);
 * - a manifest needs name, version, slug (RE_SLUG), description and arch; `image` is a Docker
 *   image without a tag, whose path may hold `{arch}`; the typed keys below have the values
 *   the Supervisor accepts; every schema type is one of its element types and the defaults
 *   (`options`) pass the schema (supervisor-options.ts).
 * Added from the add-on linter (frenck/action-addon-linter): no key is written at the
 * Supervisor's default value.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import YAML from 'yaml';
import { SCHEMA_ELEMENT, type SchemaNode, supervisorOptions } from './supervisor-options.js';

/**
 * The keys whose value, when written, is the Supervisor's default (validate.py
 * _SCHEMA_APP_CONFIG), which the add-on linter asks to remove.
 */
export const SUPERVISOR_DEFAULTS: Readonly<Record<string, unknown>> = {
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

const RE_SLUG = /^[-_.A-Za-z0-9]+$/;
const ARCHES = ['armhf', 'armv7', 'aarch64', 'amd64', 'i386'];
/** Allowed values of the manifest's enumerated keys (validate.py). */
const CHOICES: Record<string, readonly string[]> = {
  startup: ['initialize', 'system', 'services', 'application', 'once'],
  boot: ['auto', 'manual', 'manual_only'],
  stage: ['stable', 'experimental', 'deprecated'],
  backup: ['hot', 'cold'],
  hassio_role: ['default', 'homeassistant', 'backup', 'manager', 'admin'],
};
const BOOLEANS = Object.entries(SUPERVISOR_DEFAULTS)
  .filter(([, v]) => typeof v === 'boolean')
  .map(([k]) => k);

const isDict = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Every string leaf of a schema tree with its path (`players[].mpd_port`). */
function schemaLeaves(node: unknown, path = ''): [string, unknown][] {
  if (Array.isArray(node)) return node.flatMap((n) => schemaLeaves(n, `${path}[]`));
  if (isDict(node))
    return Object.entries(node).flatMap(([k, v]) => schemaLeaves(v, path === '' ? k : `${path}.${k}`));
  return [[path, node]];
}

/** The errors the Supervisor (and the add-on linter) would find in an app manifest; [] = valid. */
export function appManifestErrors(manifest: unknown): string[] {
  if (!isDict(manifest)) return ['not a mapping'];
  const errors: string[] = [];
  for (const key of ['name', 'version', 'slug', 'description'])
    if (typeof manifest[key] !== 'string' || manifest[key] === '') errors.push(`${key}: required string`);
  if (typeof manifest.slug === 'string' && !RE_SLUG.test(manifest.slug))
    errors.push('slug: not a valid slug');
  const arch = manifest.arch;
  if (!Array.isArray(arch) || arch.length === 0 || arch.some((a) => !ARCHES.includes(String(a))))
    errors.push(`arch: a list of ${ARCHES.join(', ')}`);
  if ('url' in manifest && typeof manifest.url !== 'string') errors.push('url: string');
  if ('image' in manifest) {
    const image = manifest.image;
    // docker_image(): lower-case path components that may hold {arch}, and no tag.
    if (
      typeof image !== 'string' ||
      /:[^/]*$/.test(image) ||
      image
        .split('/')
        .slice(1)
        .some((part) => !/^[a-z0-9{][a-z0-9.\-_{}]*$/.test(part))
    )
      errors.push('image: a Docker image name without a tag');
  }
  for (const [key, values] of Object.entries(CHOICES))
    if (key in manifest && !values.includes(String(manifest[key])))
      errors.push(`${key}: one of ${values.join(', ')}`);
  for (const key of BOOLEANS)
    if (key in manifest && typeof manifest[key] !== 'boolean') errors.push(`${key}: boolean`);
  if ('services' in manifest) {
    const services = manifest.services;
    if (
      !Array.isArray(services) ||
      services.some((s) => !/^(mqtt|mysql):(provide|want|need)$/.test(String(s)))
    )
      errors.push('services: entries like mqtt:want');
  }
  if ('schema' in manifest && manifest.schema !== false) {
    if (!isDict(manifest.schema)) errors.push('schema: a mapping');
    else {
      for (const [path, type] of schemaLeaves(manifest.schema)) {
        const m = typeof type === 'string' ? SCHEMA_ELEMENT.exec(type) : null;
        if (m === null) errors.push(`schema.${path}: ${String(type)} is no schema type`);
        else if (m.groups?.match !== undefined) {
          try {
            new RegExp(m.groups.match);
          } catch {
            errors.push(`schema.${path}: the regex does not compile`);
          }
        }
      }
      if (errors.length === 0) {
        const checked = supervisorOptions(
          manifest as { options: Record<string, unknown>; schema: { [key: string]: SchemaNode } },
        );
        if (!checked.ok) errors.push(...checked.errors.map((e) => `options: ${e}`));
      }
    }
  }
  // The add-on linter: a key at the Supervisor's default is noise.
  for (const [key, value] of Object.entries(SUPERVISOR_DEFAULTS))
    if (key in manifest && manifest[key] === value) errors.push(`${key}: written at its default`);
  return errors;
}

/** The errors in a repository file (store/validate.py SCHEMA_REPOSITORY_CONFIG); [] = valid. */
export function repositoryErrors(repository: unknown): string[] {
  if (!isDict(repository)) return ['not a mapping'];
  const errors: string[] = [];
  if (typeof repository.name !== 'string' || repository.name === '') errors.push('name: required string');
  for (const key of ['url', 'maintainer'])
    if (key in repository && typeof repository[key] !== 'string') errors.push(`${key}: string`);
  return errors;
}

export interface StoreScan {
  /** The repository file's path and errors; null when there is none. */
  readonly repository: { readonly path: string; readonly errors: string[] } | null;
  /** Manifests that validate: path (relative, `/`-separated) and slug. */
  readonly apps: { readonly path: string; readonly slug: string }[];
  /** Manifests the Supervisor would log as "Invalid app config". */
  readonly invalid: { readonly path: string; readonly errors: string[] }[];
}

/** Every file below root, relative and `/`-separated, skipping dot-folders and rootfs. */
function scannedFiles(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory())
      return name.startsWith('.') || name === 'rootfs' ? [] : scannedFiles(root, full);
    return [relative(root, full).split(sep).join('/')];
  });
}

const parseFile = (path: string): unknown => {
  const text = readFileSync(path, 'utf8');
  return path.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
};

/**
 * Scans a repository tree as the Supervisor does when a user adds it to the app store.
 * `files` (relative, `/`-separated) stands for what a clone holds, e.g. `git ls-files` of a
 * working copy with node_modules; without it every file below root is read.
 */
export function scanStore(root: string, files: readonly string[] = scannedFiles(root)): StoreScan {
  files = files.filter(
    (f) =>
      !f
        .split('/')
        .slice(0, -1)
        .some((d) => d.startsWith('.') || d === 'rootfs'),
  );
  const repoFile = ['repository.json', 'repository.yaml', 'repository.yml'].find((f) => files.includes(f));
  let repository: StoreScan['repository'] = null;
  if (repoFile !== undefined) {
    try {
      repository = { path: repoFile, errors: repositoryErrors(parseFile(join(root, repoFile))) };
    } catch (err) {
      repository = { path: repoFile, errors: [`unreadable: ${(err as Error).message}`] };
    }
  }
  const apps: { path: string; slug: string }[] = [];
  const invalid: { path: string; errors: string[] }[] = [];
  for (const path of files.filter((f) => /(^|\/)config\.([^/]*\.)?(json|ya?ml)$/.test(f)).sort()) {
    let manifest: unknown;
    try {
      manifest = parseFile(join(root, path));
    } catch (err) {
      invalid.push({ path, errors: [`unreadable: ${(err as Error).message}`] });
      continue;
    }
    const errors = appManifestErrors(manifest);
    if (errors.length > 0) invalid.push({ path, errors });
    else apps.push({ path, slug: (manifest as { slug: string }).slug });
  }
  return { repository, apps, invalid };
}
