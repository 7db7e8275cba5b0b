import type { AudioFormat } from '../core/player.js';

/**
 * Pure parsers for MPD protocol replies (`status`, `currentsong`, `playlistinfo`, `addid`).
 * MPD answers `key: value` lines; parsed here so numbers, `audio: 96000:24:2` and a
 * string `bitrate` come out typed (docs/protocol.md §9.1).
 */

type MpdState = 'play' | 'pause' | 'stop';

export interface MpdStatus {
  readonly state: MpdState;
  /** Absent when MPD has no mixer (docs/protocol.md §9.2): null, not -1. */
  readonly volume: number | null;
  readonly repeat: boolean;
  readonly random: boolean;
  /** `single` may be `oneshot`: anything but `0` counts as on. */
  readonly single: boolean;
  readonly consume: boolean;
  readonly playlistLength: number;
  /** Position of the current song in MPD's queue. */
  readonly song: number | null;
  readonly songId: number | null;
  readonly nextSongId: number | null;
  readonly elapsedSec: number | null;
  readonly durationSec: number | null;
  readonly bitrateKbps: number | null;
  readonly audio: AudioFormat | null;
  /** MPD's `error:` line; it contains the failing URL. */
  readonly error: string | null;
}

export interface MpdSong {
  readonly file: string;
  readonly id: number;
  readonly pos: number;
  readonly durationSec: number | null;
  /** The song's Title and Name tags, when it has them. */
  readonly title?: string;
  readonly name?: string;
}

/** `key: value` lines into a map (the first occurrence of a key wins). */
function parsePairs(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(': ');
    if (i <= 0) continue;
    const key = line.slice(0, i).toLowerCase();
    if (!out.has(key)) out.set(key, line.slice(i + 2));
  }
  return out;
}

function num(value: string | undefined): number | null {
  if (value === undefined || value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

function int(value: string | undefined): number | null {
  const n = num(value);
  return n === null ? null : Math.trunc(n);
}

function flag(value: string | undefined): boolean {
  return value !== undefined && value !== '0';
}

/**
 * `44100:16:2`, `96000:24:2`; `f` (float) counts as 32 bits. DSD (`dsd64:2`) and
 * anything else unparseable gives null: the format is then unknown, not wrong.
 */
export function parseAudioFormat(value: string | undefined): AudioFormat | null {
  if (value === undefined) return null;
  const m = /^(\d+):(\d+|f):(\d+)$/.exec(value.trim());
  if (!m) return null;
  const sampleRateHz = Number(m[1]);
  const bitDepth = m[2] === 'f' ? 32 : Number(m[2]);
  const channels = Number(m[3]);
  if (sampleRateHz <= 0 || bitDepth <= 0 || channels <= 0) return null;
  return { sampleRateHz, bitDepth, channels };
}

export function parseStatus(text: string): MpdStatus {
  const p = parsePairs(text);
  const state = p.get('state');
  // `duration` is precise; older servers only give `time: elapsed:total`.
  const time = p.get('time')?.split(':');
  return {
    state: state === 'play' || state === 'pause' ? state : 'stop',
    volume: int(p.get('volume')),
    repeat: flag(p.get('repeat')),
    random: flag(p.get('random')),
    single: flag(p.get('single')),
    consume: flag(p.get('consume')),
    playlistLength: int(p.get('playlistlength')) ?? 0,
    song: int(p.get('song')),
    songId: int(p.get('songid')),
    nextSongId: int(p.get('nextsongid')),
    elapsedSec: num(p.get('elapsed')) ?? num(time?.[0]),
    durationSec: num(p.get('duration')) ?? (time?.[1] !== undefined && time[1] !== '0' ? num(time[1]) : null),
    bitrateKbps: int(p.get('bitrate')),
    audio: parseAudioFormat(p.get('audio')),
    error: p.get('error') ?? null,
  };
}

/** `playlistinfo` / `currentsong`: one song per `file:` line. */
export function parseSongs(text: string): MpdSong[] {
  const songs: MpdSong[] = [];
  let block: string[] = [];
  const flush = () => {
    if (block.length === 0) return;
    const p = parsePairs(block.join('\n'));
    const file = p.get('file');
    const id = int(p.get('id'));
    if (file !== undefined && id !== null) {
      const title = p.get('title');
      const name = p.get('name');
      songs.push({
        file,
        id,
        pos: int(p.get('pos')) ?? songs.length,
        durationSec: num(p.get('duration')),
        ...(title === undefined ? {} : { title }),
        ...(name === undefined ? {} : { name }),
      });
    }
    block = [];
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('file: ')) flush();
    block.push(line);
  }
  flush();
  return songs;
}

/** `outputs`: blocks of `outputid`, `outputname`, `plugin`, `outputenabled`; the names of the enabled ones. */
export function parseEnabledOutputs(text: string): string[] {
  const names: string[] = [];
  let name: string | null = null;
  for (const line of text.split('\n')) {
    const i = line.indexOf(': ');
    if (i <= 0) continue;
    const key = line.slice(0, i).toLowerCase();
    const value = line.slice(i + 2);
    if (key === 'outputid') name = null;
    else if (key === 'outputname') name = value;
    else if (key === 'outputenabled' && value === '1' && name !== null) names.push(name);
  }
  return names;
}

/** `addid` answers `Id: 17`. */
export function parseAddId(text: string): number {
  const id = int(parsePairs(text).get('id'));
  if (id === null) throw new Error(`addid: no Id in reply`);
  return id;
}

/**
 * An MPD error string with every URL cut down to scheme, host and path: error lines and
 * MPD's log carry the full URL, and a redirect target may be a signed CDN URL whose
 * query string must never reach a log line or an event (docs/protocol.md §9.2).
 */
export function redactUrls(text: string): string {
  return text.replace(/\b(https?:\/\/[^\s?#;]+)[?#][^\s;]*/g, '$1');
}
