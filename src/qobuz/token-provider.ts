import { QcbError } from '../core/qcb-error.js';

/**
 * Which token authenticates our Qobuz REST calls (docs/protocol.md §7 "Token"):
 * by default the app's handed-over `jwt_api`, sent as `Authorization: Bearer <jwt>` and
 * renewed with `qws/refreshToken`; a configured `user_auth_token` instead when given,
 * sent as `X-User-Auth-Token`. Refusals name the kind, never the token.
 */
export type TokenKind = 'jwt_api' | 'user_auth_token';

export interface TokenProvider {
  readonly kind: TokenKind;
  /** The token to send now and its expiry in epoch seconds (null: no known expiry). */
  current(): { readonly token: string; readonly expSeconds: number | null };
  /** Stores a renewed token (only jwt_api is renewable). */
  renewed(token: string, expSeconds: number): void;
}

/** The headers that carry a token of this kind. */
export function authHeaders(kind: TokenKind, token: string): Record<string, string> {
  return kind === 'jwt_api' ? { Authorization: `Bearer ${token}` } : { 'X-User-Auth-Token': token };
}

/** How a refusal names the token that was tried (the token itself never appears). */
export function describeTokenKind(kind: TokenKind): string {
  return kind === 'jwt_api' ? 'Bearer jwt_api' : 'X-User-Auth-Token (user_auth_token)';
}

/**
 * The app's `jwt_api` from connect-to-qconnect (docs/protocol.md §2). The session
 * calls `set()` at every hand-over; QobuzApi calls `renewed()` after a refresh.
 */
export class JwtApiToken implements TokenProvider {
  readonly kind = 'jwt_api' as const;
  #jwt: string | null;
  #exp: number;

  constructor(initial?: { readonly jwt: string; readonly exp: number }) {
    this.#jwt = initial?.jwt ?? null;
    this.#exp = initial?.exp ?? 0;
  }

  set(token: { readonly jwt: string; readonly exp: number }): void {
    this.#jwt = token.jwt;
    this.#exp = token.exp;
  }

  current(): { token: string; expSeconds: number } {
    if (this.#jwt === null) {
      throw new QcbError(
        'ERR_QOBUZ_AUTH',
        'no jwt_api yet: the Qobuz app has not handed one over (connect-to-qconnect)',
      );
    }
    return { token: this.#jwt, expSeconds: this.#exp };
  }

  renewed(token: string, expSeconds: number): void {
    this.#jwt = token;
    this.#exp = expSeconds;
  }
}

/** A configured `qobuz.user_auth_token` (README.md "Configuration reference"): static, never refreshed. */
export class UserAuthToken implements TokenProvider {
  readonly kind = 'user_auth_token' as const;

  constructor(private readonly token: string) {
    if (token.length === 0) throw new QcbError('ERR_CONFIG_INVALID', 'user_auth_token is empty');
  }

  current(): { token: string; expSeconds: null } {
    return { token: this.token, expSeconds: null };
  }

  renewed(): void {
    // A user token has no refresh flow; nothing to store.
  }
}
