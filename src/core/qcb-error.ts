/**
 * Errors with stable codes (docs/conventions.md principle 8, after zwave-js ZWaveError):
 * callers switch on `code`, never on message text.
 */
export type QcbErrorCode =
  | 'ERR_CONFIG_INVALID'
  | 'ERR_PROTOCOL'
  | 'ERR_MPD_UNREACHABLE'
  | 'ERR_MPD_COMMAND'
  | 'ERR_MPD_TIMEOUT'
  | 'ERR_QOBUZ_API'
  | 'ERR_QOBUZ_AUTH'
  | 'ERR_QOBUZ_UNAVAILABLE'
  | 'ERR_SESSION_CLOSED'
  | 'ERR_NO_SESSION'
  | 'ERR_NOT_ACTIVE'
  | 'ERR_BAD_COMMAND'
  | 'ERR_TIMEOUT'
  | 'ERR_ABORTED'
  | 'ERR_MDNS'
  | 'ERR_HTTP_LISTEN'
  | 'ERR_COVER_UNAVAILABLE'
  | 'ERR_NOT_FOUND'
  | 'ERR_NOT_STREAMABLE'
  | 'ERR_NO_USER_TOKEN'
  | 'ERR_QOBUZ_REFUSED'
  | 'ERR_RECORDER'
  | 'ERR_SUPERSEDED'
  | 'ERR_VOLUME_FIXED'
  | 'ERR_SNAPCAST_UNREACHABLE'
  | 'ERR_SNAPCAST';

export class QcbError extends Error {
  readonly code: QcbErrorCode;

  constructor(code: QcbErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QcbError';
    this.code = code;
  }
}

export function isQcbError(err: unknown, code?: QcbErrorCode): err is QcbError {
  return err instanceof QcbError && (code === undefined || err.code === code);
}

/** A readable one-line message for any thrown value. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
