import { z } from 'zod';
import type { ConnectRequest } from '../core/connect-request.js';
import { HYPHENATED_UUID } from './device-types.js';

/**
 * The connect-to-qconnect body (docs/protocol.md §2). Loose objects at every level:
 * unknown fields are accepted and ignored (a strict device answering 400 to them is a
 * known annoyance); missing or mistyped known fields are refused.
 */
const url = z.string().refine((s) => URL.canParse(s), { message: 'Invalid URL' });
const jwt = z.string().min(1);
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
 * token reaches the answer or a log.
 */
export function parseConnectBody(body: unknown): ConnectBodyResult {
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
  return {
    ok: true,
    request: {
      sessionId: b.session_id.toLowerCase(),
      jwtQconnect: { jwt: b.jwt_qconnect.jwt, exp: b.jwt_qconnect.exp, endpoint: b.jwt_qconnect.endpoint },
      jwtApi: { jwt: b.jwt_api.jwt, exp: b.jwt_api.exp, endpoint: b.jwt_api.endpoint ?? null },
      // docs/protocol.md §2: absent means the user picked us; false joins without taking playback.
      becomeActive: b.become_active ?? true,
    },
  };
}
