/**
 * A Qobuz Connect WebSocket token (docs/protocol.md §5.1, §8): what a player's link connects with.
 * Plain data in core so that the session (src/session/) can hold one without knowing the cloud
 * adapter that uses it (docs/conventions.md "Layers").
 */
export interface LinkToken {
  readonly jwt: string;
  /** Epoch ms. */
  readonly expiresAtMs: number;
  readonly endpoint: string;
}

/** The `closed` reason when the token ran out (§5.12): the session is over until the app hands a new one. */
export const TOKEN_EXPIRED = 'token expired';
