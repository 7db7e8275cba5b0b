import { QcbError } from '../core/qcb-error.js';

/** Stable reasons a QConnect frame could not be decoded or encoded. */
export type ProtocolErrorCode =
  | 'ERR_FRAME_EMPTY'
  | 'ERR_FRAME_TRUNCATED'
  | 'ERR_FRAME_TOO_LARGE'
  | 'ERR_VARINT_INVALID'
  | 'ERR_BODY_INVALID'
  | 'ERR_ENCODE_INVALID';

/**
 * The only error the codec throws (issue #2): `protocolCode` says why, `code` stays the
 * bridge-wide ERR_PROTOCOL so callers that only care about "bad frame" need one check.
 */
export class ProtocolError extends QcbError {
  readonly protocolCode: ProtocolErrorCode;

  constructor(protocolCode: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super('ERR_PROTOCOL', `${protocolCode}: ${message}`, options);
    this.name = 'ProtocolError';
    this.protocolCode = protocolCode;
  }
}
