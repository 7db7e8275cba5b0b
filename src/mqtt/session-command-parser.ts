/**
 * Parses `B/session/set` payloads (README "The Qobuz session", issue #24) into the core's
 * AccountSessionCommand: `{"play_on": "<device label, name or renderer id>"}` or `{"pause": true}`
 * (`false` resumes), each with an optional `id` echoed in the answer. Outside input: validated
 * with zod; every problem becomes one readable error for `B/session/set/result`.
 */
import { z } from 'zod';
import type { AccountSessionCommand } from '../core/account-session-view.js';
import { MAX_COMMAND_BYTES, MAX_ID_CHARS } from './command-parser.js';

const SessionCommandSchema = z.strictObject({
  play_on: z
    .union(
      [
        z.string().trim().min(1, { error: 'must name a device' }).max(255, { error: 'must be at most 255 characters' }),
        z.number().int().min(0).max(2 ** 31 - 1).transform(String),
      ],
      { error: 'must be a device name or renderer id' },
    )
    .optional(),
  pause: z.boolean({ error: 'must be true (pause) or false (resume)' }).optional(),
  id: z.string({ error: 'must be a string' }).max(MAX_ID_CHARS, { error: `must be at most ${MAX_ID_CHARS} characters` }).optional(),
});

export type SessionCommandParseResult =
  | { ok: true; command: AccountSessionCommand; id?: string }
  | { ok: false; error: string; id?: string };

/** Parses one command payload; never throws. */
export function parseSessionCommand(payload: Buffer | string): SessionCommandParseResult {
  const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (bytes > MAX_COMMAND_BYTES) return { ok: false, error: `payload too large: ${bytes} bytes (max ${MAX_COMMAND_BYTES})` };
  let json: unknown;
  try {
    json = JSON.parse(payload.toString());
  } catch {
    return { ok: false, error: 'payload is not valid JSON' };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { ok: false, error: 'payload must be a JSON object' };
  const rawId = (json as { id?: unknown }).id;
  const id = typeof rawId === 'string' && rawId.length <= MAX_ID_CHARS ? { id: rawId } : {};
  const parsed = SessionCommandSchema.safeParse(json);
  if (!parsed.success) {
    const error = parsed.error.issues
      .map((i) =>
        i.code === 'unrecognized_keys'
          ? `unknown key${i.keys.length > 1 ? 's' : ''}: ${i.keys.join(', ')} (give play_on or pause)`
          : `${i.path.map(String).join('.') || 'command'}: ${i.message}`,
      )
      .join('; ');
    return { ok: false, error, ...id };
  }
  const c = parsed.data;
  if (c.play_on !== undefined && c.pause !== undefined) return { ok: false, error: 'give play_on or pause, not both', ...id };
  if (c.play_on !== undefined) return { ok: true, command: { playOn: c.play_on }, ...id };
  if (c.pause !== undefined) return { ok: true, command: { pause: c.pause }, ...id };
  return { ok: false, error: 'empty command: give play_on or pause', ...id };
}
