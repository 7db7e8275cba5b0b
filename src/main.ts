#!/usr/bin/env node
/**
 * The command line (SPEC.md "Command line"): run the bridge, check a config, decode frames.
 * Exit codes: 0 ok, 1 runtime failure (or a frame that did not decode), 2 bad config.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeFrameText } from './protocol/decode-text.js';

const HELP = `qobuz-connect-bridge — a Qobuz Connect receiver for MPD speakers, mirrored into Home Assistant over MQTT

Usage:
  qobuz-connect-bridge [--config FILE]      run the bridge (default ./config.yaml if present, else env only)
  qobuz-connect-bridge check-config FILE    validate a config file, print every error with its path
  qobuz-connect-bridge decode FRAME...      decode QConnect frames (hex or base64) to JSON on stdout
  qobuz-connect-bridge --version | --help

Environment:
  LOG_LEVEL   debug | info | warn | error (default info)
  LOG_FORMAT  json for JSON lines (default: human-readable)
  QCB_…       override any config key: QCB_ + path in upper snake case, e.g. QCB_MQTT__URL
`;

export function packageVersion(): string {
  // dist/src/main.js and src/main.ts both sit two levels below the package root.
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['..', '../..']) {
    try {
      const pkg = JSON.parse(readFileSync(join(here, up, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'qobuz-connect-bridge' && pkg.version) return pkg.version;
    } catch {
      // try the next level
    }
  }
  return '0.0.0';
}

function decodeCommand(frames: string[]): number {
  if (frames.length === 0) {
    process.stderr.write('decode: give at least one frame (hex or base64)\n');
    return 2;
  }
  let failed = false;
  for (const text of frames) {
    const result = decodeFrameText(text);
    if (!result.ok) failed = true;
    process.stdout.write(`${JSON.stringify(result.json)}\n`);
  }
  return failed ? 1 : 0;
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
  if (command === 'decode') return decodeCommand(rest);
  process.stderr.write(`unknown command: ${command ?? ''}\n${HELP}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`fatal: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
