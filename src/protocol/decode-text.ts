import { decodeFrames } from './frame-codec.js';
import { frameToJson, type Json } from './frame-json.js';
import { ProtocolError } from './protocol-error.js';

/**
 * One argument of `decode` (README.md "Command line"): a frame as hex (spaces allowed) or base64 (standard
 * or URL-safe). Hex wins when the text is valid as both, as the reference decoder does.
 * Several frames packed in one WebSocket message come back as an array.
 */
export function decodeFrameText(text: string): { ok: true; json: Json } | { ok: false; json: { error: string } } {
  try {
    const bytes = textToBytes(text);
    const frames = decodeFrames(bytes).map(frameToJson);
    return { ok: true, json: frames.length === 1 ? (frames[0] as Json) : frames };
  } catch (err) {
    const message = err instanceof ProtocolError ? err.message : `unexpected: ${String(err)}`;
    return { ok: false, json: { error: message } };
  }
}

function textToBytes(text: string): Uint8Array {
  const compact = text.replace(/\s+/g, '');
  if (compact.length === 0) throw new ProtocolError('ERR_FRAME_EMPTY', 'empty argument');
  if (/^(?:[0-9a-fA-F]{2})+$/.test(compact)) return Buffer.from(compact, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) {
    const normal = compact.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Buffer.from(normal, 'base64');
    if (bytes.length > 0) return bytes;
  }
  throw new ProtocolError('ERR_BODY_INVALID', 'argument is neither hex nor base64');
}
