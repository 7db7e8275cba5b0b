import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import type { Logger } from 'pino';
import { QcbError, errorMessage, isQcbError } from '../core/qcb-error.js';
import type { MpdClient } from './mpd-client.js';

/**
 * What MPD's own config says about the path from decoder to DAC (issue #23, README "The true
 * format"). MPD's protocol does not tell: `status`'s `audio:` is the decoder's format, the same
 * whether an output resamples it or not (measured on 0.23.12 with a null output forcing
 * `format "44100:16:2"` on a 96 kHz / 24-bit FLAC: `audio: 96000:24:2`), and `outputs` names the
 * outputs without their format or mixer. So the bridge reads the config file it is pointed at
 * (`players[].mpd.config_file`) and only the settings that change samples.
 */

export interface MpdOutputSettings {
  readonly name: string | null;
  readonly type: string | null;
  /** The output's `format` (`44100:16:2`, `*:24:*`), null when it passes the decoder's on. */
  readonly format: string | null;
  /** `software`, `hardware`, `null`, `none`; null = MPD's default. */
  readonly mixerType: string | null;
  /** `httpd`/`shout`/`recorder`: the encoder (`flac`, `wave`, `vorbis`, `lame`...). */
  readonly encoder: string | null;
  /** `enabled "no"`: off at MPD's start (the `outputs` command says what is on now). */
  readonly enabled: boolean;
}

export interface MpdAudioConfig {
  readonly outputs: readonly MpdOutputSettings[];
  /** Global `audio_output_format`: every output gets this (deprecated in MPD, still honoured). */
  readonly audioOutputFormat: string | null;
  /** Global `mixer_type` (deprecated), the default of every output's. */
  readonly mixerType: string | null;
  /** `replaygain` (`off`, `track`, `album`, `auto`); null = off. */
  readonly replayGain: string | null;
  readonly volumeNormalization: boolean;
}

interface Block {
  readonly name: string;
  readonly settings: Map<string, string>;
}

/** One `key "value"` or `key value` line; `#` comments; blocks `name {` … `}`. */
const SETTING = /^([A-Za-z0-9_]+)\s+(?:"((?:[^"\\]|\\.)*)"|(\S+))\s*(?:#.*)?$/;
const BLOCK_OPEN = /^([A-Za-z0-9_]+)\s*\{\s*(?:#.*)?$/;
const MAX_INCLUDE_DEPTH = 8;

type Entry =
  | { readonly kind: 'setting'; readonly key: string; readonly value: string }
  | { readonly kind: 'block'; readonly block: Block }
  | { readonly kind: 'include'; readonly path: string; readonly optional: boolean };

/** Parses one config text into its entries in order (`include` is read in place by the caller, as MPD does). */
function parseMpdConfigText(text: string): Entry[] {
  const entries: Entry[] = [];
  let open: Block | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (open && line === '}') {
      entries.push({ kind: 'block', block: open });
      open = null;
      continue;
    }
    const block = BLOCK_OPEN.exec(line);
    if (block && !open) {
      open = { name: block[1] ?? '', settings: new Map() };
      continue;
    }
    const m = SETTING.exec(line);
    if (!m) continue; // not a setting we can read: MPD itself would refuse the file
    const key = (m[1] ?? '').toLowerCase();
    const value = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
    if (open) open.settings.set(key, value);
    else if (key === 'include' || key === 'include_optional') entries.push({ kind: 'include', path: value, optional: key === 'include_optional' });
    else entries.push({ kind: 'setting', key, value });
  }
  return entries;
}

/** Reads MPD's config file (and what it includes); rejects with ERR_CONFIG_INVALID when it cannot be read. */
export async function readMpdAudioConfig(path: string): Promise<MpdAudioConfig> {
  const top = new Map<string, string>();
  const blocks: Block[] = [];
  const read = async (file: string, optional: boolean, depth: number): Promise<void> => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if (optional) return;
      throw new QcbError('ERR_CONFIG_INVALID', `cannot read MPD's config ${file}: ${errorMessage(err)}`);
    }
    for (const e of parseMpdConfigText(text)) {
      if (e.kind === 'setting') top.set(e.key, e.value);
      else if (e.kind === 'block') blocks.push(e.block);
      else if (depth < MAX_INCLUDE_DEPTH) await read(isAbsolute(e.path) ? e.path : join(dirname(file), e.path), e.optional, depth + 1);
    }
  };
  await read(path, false, 0);
  return toAudioConfig(top, blocks);
}

/** One config text without includes (tests, a config given inline). */
export function audioConfigOf(text: string): MpdAudioConfig {
  const top = new Map<string, string>();
  const blocks: Block[] = [];
  for (const e of parseMpdConfigText(text)) {
    if (e.kind === 'setting') top.set(e.key, e.value);
    else if (e.kind === 'block') blocks.push(e.block);
  }
  return toAudioConfig(top, blocks);
}

function toAudioConfig(top: Map<string, string>, blocks: readonly Block[]): MpdAudioConfig {
  const get = (m: Map<string, string>, k: string): string | null => m.get(k) ?? null;
  return {
    outputs: blocks
      .filter((b) => b.name === 'audio_output')
      .map((b) => ({
        name: get(b.settings, 'name'),
        type: get(b.settings, 'type'),
        format: get(b.settings, 'format'),
        mixerType: get(b.settings, 'mixer_type'),
        encoder: get(b.settings, 'encoder'),
        enabled: !/^(no|false|0)$/i.test(b.settings.get('enabled') ?? 'yes'),
      })),
    audioOutputFormat: get(top, 'audio_output_format'),
    mixerType: get(top, 'mixer_type'),
    replayGain: get(top, 'replaygain'),
    volumeNormalization: /^(yes|true|1)$/i.test(top.get('volume_normalization') ?? 'no'),
  };
}

/**
 * MPD's config (read again at each connect: MPD may have restarted with another one) and the
 * outputs it has enabled now, into `into` (MpdPlayerState). Without a config file, nothing.
 */
export async function readAudioPath(
  client: MpdClient,
  configFile: string | null,
  into: { audioConfig: MpdAudioConfig | null; enabledOutputs: readonly string[] | null },
  log: Logger,
): Promise<void> {
  if (!configFile) return;
  try {
    into.audioConfig = await readMpdAudioConfig(configFile);
  } catch (err) {
    into.audioConfig = null;
    log.warn({ err: errorMessage(err) }, "MPD's config could not be read: bit-perfectness unknown");
  }
  try {
    into.enabledOutputs = await client.enabledOutputs();
  } catch (err) {
    // Never a reason to drop MPD: judge by the config's own `enabled` instead.
    into.enabledOutputs = null;
    if (isQcbError(err, 'ERR_MPD_UNREACHABLE') || isQcbError(err, 'ERR_MPD_TIMEOUT')) throw err;
    log.warn({ err: errorMessage(err) }, "MPD's outputs could not be listed: judged by its config alone");
  }
}
