import { z } from 'zod';
import type { ConnectRequest } from '../core/connect-request.js';
import { HYPHENATED_UUID } from './device-types.js';

/**
 * The connect-to-qconnect body (docs/protocol.md §2). Loose objects at every level:
 * unknown fields are accepted and ignored (a strict device answering 400 to them is a
 * known annoyance); missing or mistyped known fields are refused.
 */
const url = z.string().refine((s) => URL.canParse(s), { message: 'Invalid URL' });
/** README "HTTP endpoints": each JWT at most 8 KiB (the app's are well under 1 KiB); longer is 400. */
const MAX_JWT_BYTES = 8 * 1024;
/** README "HTTP endpoints": `exp` is capped at now + 24 h (the app's tokens live one hour). */
const MAX_EXP_AHEAD_SECONDS = 24 * 3600;
const jwt = z
  .string()
  .min(1)
  .refine((s) => Buffer.byteLength(s, 'utf8') <= MAX_JWT_BYTES, { message: `longer than ${MAX_JWT_BYTES} bytes` });
// Epoch seconds (§2).
const exp = z.number().finite().positive();

const ConnectBody = z.looseObject({
  session_id: z.string().regex(HYPHENATED_UUID, { message: 'Invalid session uuid (hyphenated 8-4-4-4-12 expected)' }),
  jwt_qconnect: z.looseObject({ jwt, exp, endpoint: url }),
  jwt_api: z.looseObject({ jwt, exp, endpoint: url.nullish() }),
  become_active: z.boolean().optional(),
});

export type ConnectBodyResult = { ok: true; request: ConnectRequest } | { ok: false; error: string };

/**
 * Validates a parsed JSON body. The error names every bad field by path
 * (`jwt_qconnect.endpoint: Required`); zod messages never echo the input, so no
 * token reaches the answer or a log. Expiries beyond now + 24 h become now + 24 h:
 * anyone on the LAN can POST here, and a far `exp` would keep a token "valid" forever.
 */
export function parseConnectBody(body: unknown, nowMs: number = Date.now()): ConnectBodyResult {
  const parsed = ConnectBody.safeParse(body, {
    error: (issue) => (issue.input === undefined ? 'Required' : undefined),
  });
  if (!parsed.success) {
    const error = parsed.error.issues
      .map((i) => (i.path.length > 0 ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
      .join('; ');
    return { ok: false, error };
  }
  const b = parsed.data;
  const latestExp = Math.floor(nowMs / 1000) + MAX_EXP_AHEAD_SECONDS;
  const capped = (e: number) => Math.min(e, latestExp);
  return {
    ok: true,
    request: {
      sessionId: b.session_id.toLowerCase(),
      jwtQconnect: { jwt: b.jwt_qconnect.jwt, exp: capped(b.jwt_qconnect.exp), endpoint: b.jwt_qconnect.endpoint },
      jwtApi: { jwt: b.jwt_api.jwt, exp: capped(b.jwt_api.exp), endpoint: b.jwt_api.endpoint ?? null },
      // docs/protocol.md §2, README "HTTP endpoints": absent means the user picked us; false joins without taking playback.
      becomeActive: b.become_active ?? true,
    },
  };
}

/**
 * README "Security" (issue #26): a connect whose token has already expired is refused (400), never
 * joined: with `qobuz.user_auth_token` its link would otherwise renew it with the owner's token.
 * Returns the refusal, or null.
 */
export function expiredToken(request: ConnectRequest, nowMs: number = Date.now()): string | null {
  const now = nowMs / 1000;
  if (request.jwtQconnect.exp <= now) return 'jwt_qconnect.exp: the token has expired';
  if (request.jwtApi.exp <= now) return 'jwt_api.exp: the token has expired';
  return null;
}
