/**
 * Parses `B/<player>/set` payloads (README.md "MQTT topics", commands) into the core's PlayerCommand.
 * Outside input: validated with zod, every problem turned into one readable error string that
 * goes back on `B/<player>/set/result`. Home Assistant's discovery templates send these same
 * JSON forms (ha-discovery.ts), so one parser serves HA and any other automation.
 */
import { z } from 'zod';
import { isMediaId, MEDIA_TYPES, parseMediaRef } from '../core/media-ref.js';
import type { PlayerCommand } from '../core/player-view.js';

/** Same cap as the HTTP bodies (docs/protocol.md §2: bodies over 64 KiB are refused). */
export const MAX_COMMAND_BYTES = 64 * 1024;

/** Longest seek we accept: 24 h, far beyond any track, well inside int32 ms. */
const MAX_SEEK_MS = 24 * 60 * 60 * 1000;

/** A command's `id`, echoed in its result (README "MQTT topics"). */
export const MAX_ID_CHARS = 64;

const ACTIONS = ['play', 'pause', 'toggle', 'stop', 'next', 'previous'] as const;
/** Queue verbs (README "MQTT topics", issue #14): what `queue_add` may name. */
const SOURCE_KINDS = ['album', 'playlist', 'track'] as const;
/** Qobuz album, playlist and track ids are letters and digits; this keeps them safe in a REST query. */
const CATALOGUE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const QueueAddSchema = z.strictObject(
  {
    type: z.enum(SOURCE_KINDS, { error: `must be one of ${SOURCE_KINDS.join(', ')}` }),
    id: z.union([
      z.string().regex(CATALOGUE_ID, { error: 'must be a Qobuz id: 1-64 letters, digits, _ or -' }),
      z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).transform(String),
    ], { error: 'must be a Qobuz id (a string or a whole number)' }),
    next: z.boolean({ error: 'must be true or false' }).optional(),
  },
  { error: 'must be an object {"type", "id", "next"}' },
);
const QUEUE_ADD_KEYS = Object.keys(QueueAddSchema.shape);
const REPEAT_MODES = ['off', 'one', 'all'] as const;

// ---- the player's own Qobuz identity (README "Own Qobuz identity", issue #15) ----
/** `{"type", "id", "shuffle"}`, or the text of Home Assistant's "Play Qobuz" entity: a Qobuz link or `album:<id>`. */
const PlayMediaObject = z
  .strictObject({
    type: z.enum(MEDIA_TYPES, { error: `must be one of ${MEDIA_TYPES.join(', ')}` }),
    id: z.union([z.string(), z.number().int().positive()], { error: 'must be a Qobuz id' }).transform(String),
    shuffle: z.boolean({ error: 'must be true or false' }).default(false),
  })
  .refine((m) => isMediaId(m.type, m.id), { error: 'not a Qobuz id of that type', path: ['id'] });
const PLAY_MEDIA_KEYS = ['type', 'id', 'shuffle'] as const;
const PlayMediaText = z
  .string()
  .max(1024, { error: 'must be at most 1024 characters' })
  .transform((text, ctx) => {
    const ref = parseMediaRef(text);
    if (ref) return { ...ref, shuffle: false };
    ctx.addIssue({ code: 'custom', message: 'expected a Qobuz album, playlist or track link, or album:<id>, playlist:<id>, track:<id>' });
    return z.NEVER;
  });
/** One schema per form, so that a refusal names what is wrong with the form given. */
const PlayMediaSchema = z.unknown().transform((value, ctx) => {
  if (typeof value !== 'string' && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    ctx.addIssue({ code: 'custom', message: 'must be {"type": "album"|"playlist"|"track", "id": "…"} or a Qobuz link' });
    return z.NEVER;
  }
  const r = typeof value === 'string' ? PlayMediaText.safeParse(value) : PlayMediaObject.safeParse(value);
  if (r.success) return r.data;
  for (const issue of r.error.issues) {
    const message = issue.code === 'unrecognized_keys' ? unknownKeys(value, issue.keys, PLAY_MEDIA_KEYS) : issue.message;
    ctx.addIssue({ code: 'custom', message, path: issue.path });
  }
  return z.NEVER;
});
/** These verbs act on the session as a whole; mixing them with other keys would leave half a command applied. */
const ALONE = ['play_media', 'transfer', 'record'] as const;

const CommandSchema = z
  .strictObject({
    action: z.enum(ACTIONS, { error: `must be one of ${ACTIONS.join(', ')}` }).optional(),
    seek_ms: z
      .number({ error: 'must be a number of milliseconds' })
      .int({ error: 'must be a whole number of milliseconds' })
      .min(0, { error: 'must be >= 0' })
      .max(MAX_SEEK_MS, { error: `must be <= ${MAX_SEEK_MS}` })
      .optional(),
    volume: z
      .number({ error: 'must be a number 0-100' })
      .min(0, { error: 'must be 0-100' })
      .max(100, { error: 'must be 0-100' })
      .optional(),
    muted: z.boolean({ error: 'must be true or false' }).optional(),
    volume_report: z
      .number({ error: 'must be a number 0-100' })
      .min(0, { error: 'must be 0-100' })
      .max(100, { error: 'must be 0-100' })
      .optional(),
    shuffle: z.boolean({ error: 'must be true or false' }).optional(),
    repeat: z.enum(REPEAT_MODES, { error: `must be one of ${REPEAT_MODES.join(', ')}` }).optional(),
    id: z.string({ error: 'must be a string' }).max(MAX_ID_CHARS, { error: `must be at most ${MAX_ID_CHARS} characters` }).optional(),
    play_item: z
      .number({ error: 'must be a queue item id (a whole number)' })
      .int({ error: 'must be a queue item id (a whole number)' })
      .min(0, { error: 'must be >= 0' })
      .max(2 ** 31 - 1, { error: 'must be a queue item id (int32)' })
      .optional(),
    queue_add: QueueAddSchema.optional(),
    queue_clear: z.literal(true, { error: 'must be true' }).optional(),
    play_media: PlayMediaSchema.optional(),
    transfer: z.literal(true, { error: 'must be true' }).optional(),
    // README "Reporting a problem": the wire recorder for this player, on or off.
    record: z.boolean({ error: 'must be true or false' }).optional(),
  });

const COMMAND_KEYS = Object.keys(CommandSchema.shape);

/** `id` is the command's own, when it gave a usable one: echoed in the answer, good or bad. */
export type CommandParseResult =
  | { ok: true; command: PlayerCommand; id?: string }
  | { ok: false; error: string; id?: string };

/** The `id` of a command, even of one refused for another reason, so its answer can still be matched. */
function idOf(json: object): { id?: string } {
  const id = (json as { id?: unknown }).id;
  return typeof id === 'string' && id.length <= MAX_ID_CHARS ? { id } : {};
}

/**
 * Issue #26: an unknown key is named by its position among the object's keys, never by its text.
 * Echoing it (even redacted: `k4711` came back as `k[redacted]`) would confirm a guessed secret.
 * The known keys are listed instead, so the fix is still plain.
 */
function unknownKeys(object: unknown, keys: readonly string[], known: readonly string[]): string {
  const all = object !== null && typeof object === 'object' ? Object.keys(object) : [];
  const positions = keys.map((k) => all.indexOf(k) + 1).filter((n) => n > 0);
  const at = positions.length > 0 ? positions.map((n) => `#${n}`).join(', ') : 'unnamed';
  return `unknown key${keys.length > 1 ? 's' : ''} (by position: ${at}); known keys: ${known.join(', ')}`;
}

/** The value at a zod issue's path (the keys of a path are always known keys, never input text). */
function at(json: unknown, path: readonly PropertyKey[]): unknown {
  let v = json;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

function describeIssues(json: unknown, error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      if (issue.code === 'unrecognized_keys') {
        const known = path === 'queue_add' ? QUEUE_ADD_KEYS : path === '' ? COMMAND_KEYS : [];
        const keys = unknownKeys(at(json, issue.path), issue.keys, known);
        return path ? `${path}: ${keys}` : keys;
      }
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

/** Parses one command payload; never throws. */
export function parseCommand(payload: Buffer | string): CommandParseResult {
  const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (bytes > MAX_COMMAND_BYTES) return { ok: false, error: `payload too large: ${bytes} bytes (max ${MAX_COMMAND_BYTES})` };
  const text = payload.toString();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: 'payload is not valid JSON' };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { ok: false, error: 'payload must be a JSON object' };
  const id = idOf(json);
  if (Object.keys(json).filter((k) => k !== 'id').length === 0) {
    return { ok: false, error: 'empty command: give at least one of action, seek_ms, volume, muted, volume_report, shuffle, repeat, play_item, queue_add, queue_clear', ...id };
  }
  const parsed = CommandSchema.safeParse(json);
  if (!parsed.success) return { ok: false, error: describeIssues(json, parsed.error), ...id };
  const c = parsed.data;
  const keys = Object.keys(json).filter((k) => k !== 'id');
  const alone = ALONE.find((k) => keys.includes(k));
  if (alone && keys.length > 1) return { ok: false, error: `${alone} goes alone: send the other keys as a command of their own`, ...id };
  const command: { -readonly [K in keyof PlayerCommand]: PlayerCommand[K] } = {};
  if (c.play_media !== undefined) command.playMedia = c.play_media;
  if (c.transfer !== undefined) command.transfer = true;
  if (c.record !== undefined) command.record = c.record;
  if (c.action !== undefined) command.action = c.action;
  if (c.seek_ms !== undefined) command.seekMs = c.seek_ms;
  // HA's slider may send 40.0; the core works in whole percent.
  if (c.volume !== undefined) command.volume = Math.round(c.volume);
  if (c.muted !== undefined) command.muted = c.muted;
  if (c.volume_report !== undefined) command.volumeReport = Math.round(c.volume_report);
  if (c.shuffle !== undefined) command.shuffle = c.shuffle;
  if (c.repeat !== undefined) command.repeat = c.repeat;
  if (c.play_item !== undefined) command.playItem = c.play_item;
  if (c.queue_add !== undefined) command.queueAdd = { kind: c.queue_add.type, id: c.queue_add.id, next: c.queue_add.next ?? false };
  if (c.queue_clear !== undefined) command.queueClear = true;
  return { ok: true, command, ...id };
}
