import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { decodeFrames } from '../protocol/frame-codec.js';
import { frameToJson, type Json } from '../protocol/frame-json.js';
import { recordMatchesType, WireRecordSchema, type WireRecord } from './wire-record.js';

/**
 * `decode --file <recording>` (README "Reporting a problem"): reads a recording line by line
 * (a rotated set too, one file at a time), keeps the records that match the filters, and gives
 * each back decoded. A QConnect record with raw bytes is decoded again from those bytes, so what
 * is printed is what was on the wire, not what the recorder thought of it; without raw bytes
 * (they carried a secret) its recorded, redacted body is printed.
 */

export interface RecordingFilter {
  readonly player?: string;
  /** A message type number or name, envelope name, MPD command or REST path (recordMatchesType). */
  readonly type?: string;
}

/** `ok` false for a line that is no record or bytes that did not decode (`decode` then exits 1). */
export interface DecodedLine {
  readonly ok: boolean;
  readonly json: { [key: string]: Json };
}

export async function* readRecording(file: string, filter: RecordingFilter = {}): AsyncGenerator<DecodedLine> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      yield { ok: false, json: { error: `${file}:${n}: not JSON` } };
      continue;
    }
    const result = WireRecordSchema.safeParse(parsed);
    if (!result.success) {
      yield { ok: false, json: { error: `${file}:${n}: not a recording line (${result.error.issues[0]?.message ?? 'invalid'})` } };
      continue;
    }
    const record = result.data;
    if (filter.player !== undefined && record.player !== filter.player) continue;
    if (filter.type !== undefined && !recordMatchesType(record, filter.type)) continue;
    yield decodeRecord(record);
  }
}

/** One record as `decode --file` prints it: its header and the decoded body. */
export function decodeRecord(record: WireRecord): DecodedLine {
  if (record.kind !== 'qconnect') return { ok: true, json: { ...record } as unknown as { [key: string]: Json } };
  const { raw, body, ...head } = record;
  const header = { ...head } as unknown as { [key: string]: Json };
  if (raw === null) return { ok: true, json: { ...header, decoded: body } };
  // Base64 by the record's format: never guessed (decode-text.ts reads hex first, and short base64 may look like hex).
  try {
    const frames = decodeFrames(Buffer.from(raw, 'base64')).map(frameToJson);
    return { ok: true, json: { ...header, decoded: frames.length === 1 ? (frames[0] as Json) : frames } };
  } catch (err) {
    return { ok: false, json: { ...header, decoded: { error: err instanceof Error ? err.message : String(err) } } };
  }
}
