import { ProtocolError } from './protocol-error.js';

/**
 * The envelope's own varints (type and length, docs/protocol.md §3). Lengths are
 * bounded well below 2^32, so 5 bytes suffice; anything longer is refused.
 */
export function readVarint32(buf: Uint8Array, offset: number): { value: number; next: number } {
  let value = 0;
  for (let i = 0; i < 5; i++) {
    const at = offset + i;
    if (at >= buf.length) throw new ProtocolError('ERR_FRAME_TRUNCATED', `varint cut at byte ${at}`);
    const byte = buf[at] as number;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return { value, next: at + 1 };
  }
  throw new ProtocolError('ERR_VARINT_INVALID', `varint at byte ${offset} longer than 5 bytes`);
}

export function varintBytes(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new ProtocolError('ERR_ENCODE_INVALID', `varint out of range: ${value}`);
  }
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}
