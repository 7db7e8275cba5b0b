import { z } from 'zod';
import type { Json } from '../protocol/frame-json.js';

/**
 * One line of a recording (README "Reporting a problem", JSON Lines): what one player said or
 * heard on one wire, already redacted. Version 1. Written by WireRecorder, read back by
 * `decode --file` (recording-reader.ts), and kept in memory for the bug-report bundle.
 */

export const RECORD_VERSION = 1;

interface RecordBase {
  readonly v: typeof RECORD_VERSION;
  /** ISO-8601 with milliseconds. */
  readonly at: string;
  readonly player: string;
  readonly dir: 'in' | 'out';
}

/** One WebSocket message of the QConnect link: one frame or several back to back. */
export interface QconnectRecord extends RecordBase {
  readonly kind: 'qconnect';
  /** Envelope names of its frames (`PAYLOAD`, `AUTHENTICATE`, …). */
  readonly envelopes: readonly string[];
  /** Message types of every Payload batch in it, in order (41, 43, …), and their names. */
  readonly types: readonly number[];
  readonly names: readonly string[];
  /** The decoded message as `decode` prints it, redacted; `{"error": …}` when it did not decode. */
  readonly body: Json;
  /** The bytes as base64, or null when they carry a secret (`raw_omitted` says so). */
  readonly raw: string | null;
  readonly raw_omitted?: 'secret';
}

/** One REST call to the Qobuz API: never a query or a body (they carry signatures and tokens). */
export interface RestRecord extends RecordBase {
  readonly kind: 'rest';
  readonly method: string;
  readonly path: string;
  readonly status: number | null;
  readonly ms: number;
  readonly attempt: number;
  readonly error?: string;
}

/** One MPD command: stream tokens and passwords in its arguments are redacted. */
export interface MpdRecord extends RecordBase {
  readonly kind: 'mpd';
  readonly command: string;
  readonly args: readonly string[];
  readonly ok: boolean;
  readonly ms: number;
  readonly error?: string;
}

export type WireRecord = QconnectRecord | RestRecord | MpdRecord;

const json: z.ZodType<Json> = z.lazy(() =>
  z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(json), z.record(z.string(), json)]),
);
const base = {
  v: z.literal(RECORD_VERSION),
  at: z.string(),
  player: z.string(),
  dir: z.enum(['in', 'out']),
};

/** Reading is lenient about extra keys (a newer recorder may add some), strict about the ones we use. */
export const WireRecordSchema: z.ZodType<WireRecord> = z.discriminatedUnion('kind', [
  z.object({
    ...base,
    kind: z.literal('qconnect'),
    envelopes: z.array(z.string()),
    types: z.array(z.number()),
    names: z.array(z.string()),
    body: json,
    raw: z.string().nullable(),
    raw_omitted: z.literal('secret').optional(),
  }),
  z.object({
    ...base,
    kind: z.literal('rest'),
    method: z.string(),
    path: z.string(),
    status: z.number().nullable(),
    ms: z.number(),
    attempt: z.number(),
    error: z.string().optional(),
  }),
  z.object({
    ...base,
    kind: z.literal('mpd'),
    command: z.string(),
    args: z.array(z.string()),
    ok: z.boolean(),
    ms: z.number(),
    error: z.string().optional(),
  }),
]);

/**
 * `decode --file --type`: a message type number (41), a message or envelope name
 * (`SrvrRndrSetState`, `AUTHENTICATE`, case-insensitive), an MPD command (`addid`) or a REST
 * path (`track/getFileUrl`).
 */
export function recordMatchesType(record: WireRecord, type: string): boolean {
  const wanted = type.trim().toLowerCase();
  if (record.kind === 'qconnect') {
    if (/^\d+$/.test(wanted)) return record.types.includes(Number(wanted));
    return [...record.names, ...record.envelopes].some((n) => n.toLowerCase() === wanted);
  }
  if (record.kind === 'mpd') return record.command.toLowerCase() === wanted;
  return record.path.toLowerCase() === wanted;
}
