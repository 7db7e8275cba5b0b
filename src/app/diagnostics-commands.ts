import { writeFile } from 'node:fs/promises';
import type { Config } from '../config/config-schema.js';
import { ConfigError } from '../config/config-error.js';
import { loadConfig } from '../config/load-config.js';
import { errorMessage } from '../core/qcb-error.js';
import { readRecording, type RecordingFilter } from '../diagnostics/recording-reader.js';
import { baseBundle } from '../diagnostics/report-bundle.js';
import { defaultRedactor } from '../util/redactor.js';

/**
 * The command line's diagnostics (README "Reporting a problem"): `decode --file` reads a
 * recording back, `report` writes the bug-report bundle. Each returns the exit status
 * (0 ok, 1 a failure, 2 bad usage or a bad config, as everywhere on the command line).
 */

export interface CommandIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** `decode --file FILE… [--player ID] [--type T]`: one JSON line per matching record. */
export async function decodeFileCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const files: string[] = [];
  const filter: { player?: string; type?: string } = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = args[i + 1];
    if ((arg === '--file' || arg === '--player' || arg === '--type') && value !== undefined) {
      if (arg === '--file') files.push(value);
      else filter[arg === '--player' ? 'player' : 'type'] = value;
      i++;
    } else {
      io.err(`decode: unexpected argument ${arg ?? ''}: use decode --file FILE [--player ID] [--type TYPE]\n`);
      return 2;
    }
  }
  if (files.length === 0) {
    io.err('decode: give a recording with --file FILE\n');
    return 2;
  }
  let failed = false;
  for (const file of files) {
    try {
      for await (const line of readRecording(file, filter as RecordingFilter)) {
        if (!line.ok) failed = true;
        io.out(`${JSON.stringify(line.json)}\n`);
      }
    } catch (err) {
      io.err(`decode: cannot read ${file}: ${errorMessage(err)}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

/** `report [--config FILE] [--out FILE]`: the running bridge's bundle, or a smaller one when none answers. */
export async function reportCommand(args: readonly string[], io: CommandIo, version: string): Promise<number> {
  let file: string | undefined;
  let out: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = args[i + 1];
    if ((arg === '--config' || arg === '-c') && value !== undefined) file = args[++i];
    else if (arg === '--out' && value !== undefined) out = args[++i];
    else {
      io.err(`report: unexpected argument ${arg ?? ''}: use report [--config FILE] [--out FILE]\n`);
      return 2;
    }
  }
  let config: Config;
  try {
    config = loadConfig({ ...(file ? { file } : {}), env: process.env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const line of err.issues) io.err(`${line}\n`);
    return 2;
  }
  const target = out ?? `qobuz-connect-bridge-report-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  const fetched = await fetchBundle(config);
  let text: string;
  if (fetched.ok) text = fetched.text;
  else {
    const smaller = {
      ...baseBundle({ version, config, redactor: defaultRedactor }),
      bridge: { running: false, reason: fetched.reason },
    };
    text = JSON.stringify(defaultRedactor.scrubStrict(smaller), null, 2);
  }
  try {
    await writeFile(target, `${text}\n`, { mode: 0o600 });
  } catch (err) {
    io.err(`report: cannot write ${target}: ${errorMessage(err)}\n`);
    return 1;
  }
  if (fetched.ok) io.err(`wrote ${target}: the running bridge's bundle (${fetched.url})\n`);
  else
    io.err(
      `no bridge answered (${fetched.reason}): wrote ${target}, a smaller bundle (version, Node, OS, config without secrets)\n`,
    );
  return 0;
}

type Fetched = { ok: true; text: string; url: string } | { ok: false; reason: string };

/** GET /diagnostics of the bridge this config describes, on this host (loopback unless http.bind names one address). */
async function fetchBundle(config: Config): Promise<Fetched> {
  const { port, bind } = config.http;
  if (port === 0) return { ok: false, reason: 'http.port is 0 (a random port): no address to ask' };
  const host = bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind.includes(':') ? `[${bind}]` : bind;
  const url = `http://${host}:${port}/diagnostics`;
  const token = config.diagnostics.token;
  try {
    const response = await fetch(url, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(15_000),
      redirect: 'error',
    });
    const text = await response.text();
    if (response.status !== 200) return { ok: false, reason: `${url} answered HTTP ${response.status}` };
    JSON.parse(text);
    return { ok: true, text, url };
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : errorMessage(err);
    return { ok: false, reason: `${url}: ${cause}` };
  }
}
