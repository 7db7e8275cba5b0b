/**
 * Pure mapping from the core's PlayerView / SessionEvent to the JSON of README.md "MQTT topics"
 * (`B/<player>/state`, `B/<player>/event`). The wire spelling (snake_case) lives here only.
 */
import type { PlayedFormat } from '../core/player.js';
import type { PlayerView, SessionEvent } from '../core/player-view.js';

export interface StatePayload {
  state: PlayerView['state'];
  qobuz_session: PlayerView['qobuzSession'];
  volume: number;
  muted: boolean;
  position_ms: number;
  position_at: string;
  duration_ms: number | null;
  shuffle: boolean;
  repeat: PlayerView['repeat'];
  track: {
    id: number;
    title: string;
    artist: string | null;
    album: string | null;
    cover_url: string | null;
    sample_rate: number | null;
    bit_depth: number | null;
  } | null;
  /** README "The true format" (issue #23): what MPD's outputs play, the stream's own format, and whether they are the same samples. */
  format: FormatPayload | null;
  queue: { length: number; index: number | null };
  /** README "MQTT topics": `other` while another MPD client plays its own music (issue #16). */
  source: NonNullable<PlayerView['source']>;
}

interface FormatPayload {
  sample_rate: number;
  bit_depth: number;
  channels: number;
  stream: { sample_rate: number; bit_depth: number; channels: number };
  /** null: unknown (no `players[].mpd.config_file`). */
  bit_perfect: boolean | null;
  /** Why not, in words; empty when bit-perfect or unknown. */
  not_bit_perfect: string[];
}

export interface EventPayload {
  type: SessionEvent['type'];
  at: string;
  [field: string]: unknown;
}

/** README.md "MQTT topics" state JSON; key order is fixed so identical views give identical bytes. */
export function toStatePayload(view: PlayerView): StatePayload {
  const t = view.track;
  return {
    state: view.state,
    qobuz_session: view.qobuzSession,
    volume: Math.round(view.volume),
    muted: view.muted,
    position_ms: Math.max(0, Math.round(view.positionMs)),
    position_at: new Date(view.positionAtMs).toISOString(),
    duration_ms: view.durationMs,
    shuffle: view.shuffle,
    repeat: view.repeat,
    track: t
      ? {
          id: t.id,
          title: t.title,
          artist: t.artist,
          album: t.album,
          cover_url: t.coverUrl,
          sample_rate: t.sampleRateHz,
          bit_depth: t.bitDepth,
        }
      : null,
    format: view.format ? toFormatPayload(view.format) : null,
    queue: { length: view.queue.length, index: view.queue.index },
    source: view.source ?? 'qobuz',
  };
}

function toFormatPayload(f: PlayedFormat): FormatPayload {
  const stream = f.stream ?? f;
  return {
    sample_rate: f.sampleRateHz,
    bit_depth: f.bitDepth,
    channels: f.channels,
    stream: { sample_rate: stream.sampleRateHz, bit_depth: stream.bitDepth, channels: stream.channels },
    bit_perfect: f.bitPerfect ?? null,
    not_bit_perfect: [...(f.notBitPerfect ?? [])],
  };
}

/** `fooBar` → `foo_bar`; snake_case keys pass unchanged. */
function snakeKey(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/** JSON-safe copy: snake_case keys, 64-bit integers as numbers when safe else decimal strings (as `decode`). */
export function toWire(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toWire);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[snakeKey(k)] = toWire(v);
    return out;
  }
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  return value;
}

/** README.md "MQTT topics" event JSON: `{type, at, ...fields}`; fields cannot override type or at. */
export function toEventPayload(event: SessionEvent): EventPayload {
  const fields = toWire(event.fields) as Record<string, unknown>;
  const out: EventPayload = { type: event.type, at: new Date(event.atMs).toISOString() };
  for (const [k, v] of Object.entries(fields)) if (k !== 'type' && k !== 'at') out[k] = v;
  return out;
}
