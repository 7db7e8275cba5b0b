import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Real FLAC files for tests that play audio through MPD (issue #5).
 *
 * PCM is generated here as a WAV (a sine tone), then encoded by the `flac` CLI
 * (`apt-get install flac`). Each parameter set is encoded once per process and copied
 * to where a test wants it, so many tests share files cheaply.
 */

const run = promisify(execFile);
const FLAC_BIN = '/usr/bin/flac';

export interface FlacOptions {
  /** Directory the file is written to (created if missing). */
  readonly dir: string;
  /** File name, e.g. `track-1.flac`. */
  readonly name: string;
  /** Length in seconds (fractions allowed). */
  readonly seconds: number;
  readonly sampleRate?: number;
  /** 16 or 24. */
  readonly bitDepth?: number;
  readonly channels?: number;
  readonly frequencyHz?: number;
}

type AudioParams = Required<Omit<FlacOptions, 'dir' | 'name'>>;

let cacheDir: Promise<string> | undefined;
const encoded = new Map<string, Promise<string>>();

/** Writes a real FLAC file of a sine tone and returns its path. */
export async function makeFlac(options: FlacOptions): Promise<string> {
  const params: AudioParams = {
    seconds: options.seconds,
    sampleRate: options.sampleRate ?? 44_100,
    bitDepth: options.bitDepth ?? 16,
    channels: options.channels ?? 2,
    frequencyHz: options.frequencyHz ?? 440,
  };
  if (params.bitDepth !== 16 && params.bitDepth !== 24) throw new Error(`makeFlac: bitDepth must be 16 or 24, got ${params.bitDepth}`);
  const key = JSON.stringify(params);
  let source = encoded.get(key);
  if (!source) {
    source = encode(params);
    encoded.set(key, source);
    // A failed encode must not poison the cache for the next caller.
    source.catch(() => encoded.delete(key));
  }
  await mkdir(options.dir, { recursive: true });
  const target = join(options.dir, options.name);
  await copyFile(await source, target);
  return target;
}

async function encode(params: AudioParams): Promise<string> {
  cacheDir ??= mkdtemp(join(tmpdir(), 'qcb-flac-'));
  const dir = await cacheDir;
  const base = `${params.seconds}s-${params.sampleRate}-${params.bitDepth}-${params.channels}-${params.frequencyHz}`;
  const wav = join(dir, `${base}.wav`);
  const flac = join(dir, `${base}.flac`);
  await writeFile(wav, makeWav(params));
  await run(FLAC_BIN, ['--silent', '--force', '-0', '-o', flac, wav]);
  return flac;
}

/** A PCM WAV (RIFF, little-endian) holding a sine tone at half amplitude. */
export function makeWav(params: AudioParams): Buffer {
  const bytesPerSample = params.bitDepth / 8;
  const frames = Math.round(params.seconds * params.sampleRate);
  const dataBytes = frames * params.channels * bytesPerSample;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(params.channels, 22);
  buf.writeUInt32LE(params.sampleRate, 24);
  buf.writeUInt32LE(params.sampleRate * params.channels * bytesPerSample, 28);
  buf.writeUInt16LE(params.channels * bytesPerSample, 32);
  buf.writeUInt16LE(params.bitDepth, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  const peak = 2 ** (params.bitDepth - 1) - 1;
  let offset = 44;
  for (let i = 0; i < frames; i++) {
    const sample = Math.round(0.5 * peak * Math.sin((2 * Math.PI * params.frequencyHz * i) / params.sampleRate));
    for (let c = 0; c < params.channels; c++) {
      if (bytesPerSample === 2) buf.writeInt16LE(sample, offset);
      else buf.writeIntLE(sample, offset, 3);
      offset += bytesPerSample;
    }
  }
  return buf;
}
