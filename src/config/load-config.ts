import { existsSync, readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import YAML from 'yaml';
import { errorMessage } from '../core/qcb-error.js';
import { registerSecret } from '../util/redactor.js';
import { applyEnvOverrides } from './apply-env-overrides.js';
import { ConfigError } from './config-error.js';
import { ConfigSchema, type Config } from './config-schema.js';
import { configSecrets } from './config-secrets.js';
import { expectedText, formatIssues } from './format-issues.js';

/**
 * File + environment → validated, defaulted, deeply frozen Config (README.md
 * "Configuration" and "Command line": `--config FILE`, default ./config.yaml, else
 * the environment alone). Every problem is collected and thrown at once as a
 * ConfigError; nothing is half-loaded.
 */

const DEFAULT_CONFIG_FILE = 'config.yaml';

export interface LoadConfigOptions {
  /** The config file; when absent, ./config.yaml if it exists, else the environment alone. */
  file?: string | undefined;
  /** Usually process.env; only `QCB_*` variables are read. */
  env: NodeJS.ProcessEnv;
  /** Where ./config.yaml is looked for; default process.cwd(). */
  cwd?: string;
}

/**
 * Parses YAML or JSON text (JSON is YAML: one parser, exact line numbers for both).
 * Returns the settings mapping, or the problems as `file:line:col: message` lines.
 */
function parseConfigText(
  text: string,
  file: string,
): { value: Record<string, unknown> } | { issues: string[] } {
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      issues: doc.errors.map((e) => {
        const where = e.linePos ? `${file}:${e.linePos[0].line}:${e.linePos[0].col}` : file;
        // The yaml message repeats the position and quotes the source; the first clause is the news.
        const message = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        return `${where}: ${message}`;
      }),
    };
  }
  let value: unknown;
  try {
    // The yaml library reports alias bombs and unresolved aliases by throwing here, not in doc.errors.
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { issues: [`${file}: ${errorMessage(err)}`] };
  }
  if (value === null || value === undefined) return { value: {} };
  if (typeof value !== 'object' || Array.isArray(value)) {
    return {
      issues: [
        `${file}: expected a mapping of settings (qobuz, http, mdns, mqtt, players), got ${Array.isArray(value) ? 'a list' : JSON.stringify(value)}`,
      ],
    };
  }
  return { value: value as Record<string, unknown> };
}

function readSettings(file: string | undefined): Record<string, unknown> {
  if (file === undefined) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read the config file (${errorMessage(err)})`]);
  }
  const parsed = parseConfigText(text, file);
  if ('issues' in parsed) throw new ConfigError(parsed.issues);
  return parsed.value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** The file to read: the given one, else ./config.yaml when present, else none (environment only). */
function configFileToUse(options: LoadConfigOptions): string | undefined {
  if (options.file !== undefined) return options.file;
  const fallback = resolvePath(options.cwd ?? process.cwd(), DEFAULT_CONFIG_FILE);
  return existsSync(fallback) ? fallback : undefined;
}

/**
 * Loads and validates the configuration; throws ConfigError listing every problem.
 * Its secrets are registered with the process-wide log redactor before it returns.
 */
export function loadConfig(options: LoadConfigOptions): Config {
  const settings = readSettings(configFileToUse(options));
  const overrides = applyEnvOverrides(settings, options.env, ConfigSchema);
  const result = ConfigSchema.safeParse(overrides.value, { reportInput: true, error: expectedText });
  const issues = [
    ...overrides.issues,
    ...(result.success
      ? []
      : formatIssues(result.error.issues, { schema: ConfigSchema, sourceOf: overrides.sourceOf })),
  ];
  // One mistake can surface through several schema branches: report each line once.
  if (issues.length > 0 || !result.success) throw new ConfigError([...new Set(issues)]);
  const config = deepFreeze(result.data) as Config;
  for (const secret of configSecrets(config)) registerSecret(secret);
  return config;
}
