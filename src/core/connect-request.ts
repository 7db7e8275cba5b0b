/**
 * What the Qobuz app hands a device when the user picks it (POST connect-to-qconnect,
 * docs/protocol.md §2), after validation by the HTTP adapter.
 */
export interface ConnectRequest {
  /** Hyphenated session uuid. */
  readonly sessionId: string;
  /** WebSocket token: jwt, expiry in epoch seconds, endpoint (wss://…). */
  readonly jwtQconnect: { readonly jwt: string; readonly exp: number; readonly endpoint: string };
  /** REST token (Bearer for the Qobuz API), expiry in epoch seconds. */
  readonly jwtApi: { readonly jwt: string; readonly exp: number; readonly endpoint: string | null };
  /** False: join without taking playback. Absent means true (the user picked us). */
  readonly becomeActive: boolean;
}

/** Hands a validated connect request to the player's session (the app layer implements it). */
export type ConnectHandler = (playerId: string, request: ConnectRequest) => Promise<void>;

/**
 * Whether two session ids name the same Qobuz session. Session ids are uuids, whose case carries
 * nothing (the app and the service may spell one differently): every comparison goes through here.
 */
export function sameSessionId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
