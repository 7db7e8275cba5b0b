import type { Logger } from 'pino';
import { z } from 'zod';
import { QcbError } from '../core/qcb-error.js';
import type { ApiResponse, ApiTransport } from './api-transport.js';
import { qobuzMessageSuffix } from './api-transport.js';
import { signRequest } from './request-signer.js';
import { authHeaders, describeTokenKind, type TokenProvider } from './token-provider.js';

export interface ApiSessionOptions {
  readonly transport: ApiTransport;
  readonly auth: TokenProvider;
  readonly appSecret: string;
  readonly logger: Logger;
  readonly now: () => number;
  /** Renew jwt_api this long before its `exp`. */
  readonly tokenRefreshAheadMs: number;
  /** Start a new session this long before `expires_at`. */
  readonly sessionRenewAheadMs: number;
}

const refreshAnswer = z.object({ jwt_api: z.object({ jwt: z.string().min(1), exp: z.number() }) });
const sessionAnswer = z.object({ session_id: z.string().min(1), expires_at: z.number() });

/**
 * The credentials every call carries: the token (renewing jwt_api with `qws/refreshToken`
 * before its exp) and the `X-Session-Id` of `session/start` (renewed before `expires_at`),
 * docs/protocol.md §7. Concurrent callers share one refresh and one session start.
 */
export class ApiSession {
  #sessionId: string | null = null;
  #sessionExpiresAtMs = 0;
  #refreshing: Promise<void> | null = null;
  #starting: Promise<void> | null = null;

  constructor(private readonly options: ApiSessionOptions) {}

  /** The auth header for the next call, renewing the token first when it is about to expire. */
  async authHeaders(): Promise<Record<string, string>> {
    await this.#freshToken();
    const { kind } = this.options.auth;
    return authHeaders(kind, this.options.auth.current().token);
  }

  /** Auth plus X-Session-Id, starting or renewing the session first when needed. */
  async sessionHeaders(): Promise<Record<string, string>> {
    const auth = await this.authHeaders();
    if (
      this.#sessionId === null ||
      this.#sessionExpiresAtMs - this.options.now() <= this.options.sessionRenewAheadMs
    ) {
      this.#starting ??= this.#startSession().finally(() => (this.#starting = null));
      await this.#starting;
    }
    return { ...auth, 'X-Session-Id': this.#sessionId ?? '' };
  }

  /** A call was refused: forget the session so the next call starts a new one. */
  dropSession(): void {
    this.#sessionId = null;
    this.#sessionExpiresAtMs = 0;
  }

  /** The error for a 401/403: names the token kind that was tried, never the token. */
  authError(path: string, response: ApiResponse): QcbError {
    const kind = describeTokenKind(this.options.auth.kind);
    return new QcbError(
      'ERR_QOBUZ_AUTH',
      `qobuz ${path} refused with HTTP ${response.status} using ${kind}${qobuzMessageSuffix(response.body)}`,
    );
  }

  async #freshToken(): Promise<void> {
    const { auth } = this.options;
    if (auth.kind !== 'jwt_api') return;
    const { expSeconds } = auth.current();
    if (expSeconds === null || expSeconds * 1000 - this.options.now() > this.options.tokenRefreshAheadMs)
      return;
    this.#refreshing ??= this.#refreshToken().finally(() => (this.#refreshing = null));
    await this.#refreshing;
  }

  async #refreshToken(): Promise<void> {
    const { auth, transport, logger } = this.options;
    const path = 'qws/refreshToken';
    const response = await transport.call({ method: 'POST', path, form: { jwt: auth.current().token } });
    if (response.status === 401 || response.status === 403) throw this.authError(path, response);
    const parsed = refreshAnswer.safeParse(response.body);
    if (response.status !== 200 || !parsed.success) {
      throw new QcbError('ERR_QOBUZ_AUTH', `qobuz ${path} gave no new jwt_api (HTTP ${response.status})`);
    }
    auth.renewed(parsed.data.jwt_api.jwt, parsed.data.jwt_api.exp);
    logger.info({ expSeconds: parsed.data.jwt_api.exp }, 'qobuz jwt_api renewed');
  }

  async #startSession(): Promise<void> {
    const { transport, appSecret, logger, now } = this.options;
    const path = 'session/start';
    const ts = Math.floor(now() / 1000);
    const profile = 'qbz-1';
    const sig = signRequest('session', 'start', { profile }, ts, appSecret);
    const response = await transport.call({
      method: 'POST',
      path,
      form: { profile, request_ts: String(ts), request_sig: sig },
      headers: await this.authHeaders(),
    });
    if (response.status === 401 || response.status === 403) throw this.authError(path, response);
    const parsed = sessionAnswer.safeParse(response.body);
    if (response.status !== 200 || !parsed.success) {
      throw new QcbError(
        'ERR_QOBUZ_API',
        `qobuz ${path} failed with HTTP ${response.status}${qobuzMessageSuffix(response.body)}`,
      );
    }
    this.#sessionId = parsed.data.session_id;
    this.#sessionExpiresAtMs = parsed.data.expires_at * 1000;
    logger.debug({ expiresAt: parsed.data.expires_at }, 'qobuz api session started');
  }
}
