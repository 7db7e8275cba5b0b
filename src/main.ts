#!/usr/bin/env node
/**
 * The command line (README.md "Command line"): run the bridge, check a config, decode frames.
 * Exit codes: 0 ok, 1 runtime failure (or a frame that did not decode), 2 bad config.
 */
// First, before the modules below load: docs/architecture.md "Memory at idle".
import './util/young-generation.js';
import { readFileSync } from 'node:fs';
import { PRODUCT_NAME } from './core/product.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bridge } from './app/bridge.js';
import { ConfigError } from './config/config-error.js';
import { loadConfig } from './config/load-config.js';
import { errorMessage } from './core/qcb-error.js';
import { newLogRing } from './diagnostics/diagnostics.js';
import { loggerFromEnv } from './util/logger.js';

const HELP = `qobuz-connect-bridge — a Qobuz Connect receiver for MPD speakers, mirrored into Home Assistant over MQTT

Usage:
  qobuz-connect-bridge [--config FILE] [--record FILE]
                                            run the bridge (default ./config.yaml if present, else env only);
                                            --record: record the wire (redacted JSON Lines) into FILE
  qobuz-connect-bridge check-config FILE    validate a config file, print every error with its path (exit 2)
  qobuz-connect-bridge decode FRAME...      decode QConnect frames (hex or base64) to JSON on stdout
  qobuz-connect-bridge decode --file FILE [--player ID] [--type TYPE]
                                            decode a recording (TYPE: 41, SrvrRndrSetState, addid, …)
  qobuz-connect-bridge report [--config FILE] [--out FILE]
                                            write a bug-report bundle (from the running bridge if it answers)
  qobuz-connect-bridge --version | --help

Environment:
  LOG_LEVEL   debug | info | warn | error (default info)
  LOG_FORMAT  json for JSON lines (default: human-readable)
  QCB_…       override any config key: QCB_ + path in upper snake case, e.g. QCB_MQTT__URL
`;

function argv0IsRun(): boolean {
  const first = process.argv[2];
  return first === undefined || first.startsWith('-c') || first.startsWith('--config');
}

export function packageVersion(): string {
  // dist/src/main.js and src/main.ts both sit two levels below the package root.
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['..', '../..']) {
    try {
      const pkg = JSON.parse(readFileSync(join(here, up, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === PRODUCT_NAME && pkg.version) return pkg.version;
    } catch {
      // try the next level
    }
  }
  return '0.0.0';
}

const io = { out: (text: string) => process.stdout.write(text), err: (text: string) => process.stderr.write(text) };

async function decodeCommand(frames: string[]): Promise<number> {
  if (frames.length === 0) {
    process.stderr.write('decode: give at least one frame (hex or base64)\n');
    return 2;
  }
  const { decodeFrameText } = await import('./protocol/decode-text.js');
  let failed = false;
  for (const text of frames) {
    const result = decodeFrameText(text);
    if (!result.ok) failed = true;
    process.stdout.write(`${JSON.stringify(result.json)}\n`);
  }
  return failed ? 1 : 0;
}

async function checkConfigCommand(args: string[]): Promise<number> {
  const [file] = args;
  if (!file || args.length > 1) {
    process.stderr.write('check-config: give exactly one config file\n');
    return 2;
  }
  const { checkConfig } = await import('./config/check-config.js');
  const result = checkConfig(file, process.env);
  const out = result.ok ? process.stdout : process.stderr;
  for (const line of result.lines) out.write(`${line}\n`);
  // Issue #7: a bad config is exit status 2, here as at start-up.
  return result.ok ? 0 : 2;
}

async function runCommand(args: string[]): Promise<number> {
  let file: string | undefined;
  let record: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if ((arg === '--config' || arg === '-c') && args[i + 1]) file = args[++i];
    else if (arg?.startsWith('--config=')) file = arg.slice('--config='.length);
    else if (arg === '--record' && args[i + 1]) record = args[++i];
    else {
      process.stderr.write(`unknown argument: ${arg ?? ''}\n${HELP}`);
      return 2;
    }
  }
  // The bug-report bundle's recent log lines (README "Reporting a problem"), scrubbed like every line.
  const logLines = newLogRing();
  const logger = loggerFromEnv(process.env, { tee: (line) => logLines.push(line, line.length) });
  let config;
  try {
    config = loadConfig({ ...(file ? { file } : {}), env: process.env });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const line of err.issues) process.stderr.write(`${line}\n`);
    return 2;
  }
  // --record FILE: the config's recorder, on from the start, into FILE.
  if (record !== undefined) config = { ...config, diagnostics: { ...config.diagnostics, record: true, record_file: record } };
  const bridge = new Bridge({ config, logger, version: packageVersion(), logLines });
  // Nothing but a bad config at start may end the process (README "Bad input").
  process.on('uncaughtException', (err) => logger.error({ err: errorMessage(err) }, 'uncaught exception (kept running)'));
  process.on('unhandledRejection', (err) => logger.error({ err: errorMessage(err) }, 'unhandled rejection (kept running)'));
  return new Promise<number>((resolve) => {
    let stopping = false;
    let started: Promise<unknown> = Promise.resolve();
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      // README.md "Command line": exit 0 within 5 s whatever happens.
      const hard = setTimeout(() => resolve(0), 4500);
      hard.unref();
      void started
        .then(() => bridge.stop())
        .finally(() => {
          clearTimeout(hard);
          resolve(0);
        });
    };
    // Listen before anything is said: until a listener exists, SIGTERM's default action ends the
    // process by the signal (no exit code), and a supervisor may send it as soon as it reads
    // "bridge running". A signal during start-up stops the bridge once start has finished.
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    started = bridge.start().then(
      () => {
        if (!stopping)
          logger.info({ players: config.players.map((p) => p.id), http: bridge.httpPort, mqtt: bridge.mqttUrl }, 'bridge running');
      },
      async (err: unknown) => {
        logger.error({ err: errorMessage(err) }, 'start-up failed');
        await bridge.stop();
        resolve(1);
      },
    );
  });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  // The commands other than run load their modules when used (docs/architecture.md "Memory at idle").
  if (command === 'decode' && rest.includes('--file'))
    return (await import('./app/diagnostics-commands.js')).decodeFileCommand(rest, io);
  if (command === 'decode') return decodeCommand(rest);
  if (command === 'report')
    return (await import('./app/diagnostics-commands.js')).reportCommand(rest, io, packageVersion());
  if (command === 'check-config') return checkConfigCommand(rest);
  if (command === undefined || command.startsWith('-')) return runCommand(argv);
  process.stderr.write(`unknown command: ${command}\n${HELP}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // The run command resolves only at shutdown: leave no handle (sockets, timers) holding the exit.
    if (argv0IsRun()) setImmediate(() => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`fatal: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
