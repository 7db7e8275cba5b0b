import type { Logger } from 'pino';
import { QcbError, errorMessage } from '../core/qcb-error.js';
import { safeTap, type RestTap } from '../core/wire-tap.js';
import { sleep } from '../util/abortable-sleep.js';

/** A Chrome on Linux: a cache in front of the API answers 403 to unknown clients (docs/protocol.md §7). */
export const BROWSER_USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

export interface ApiTransportOptions {
  readonly baseUrl: string;
  readonly appId: string;
  readonly logger: Logger;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly userAgent: string;
  /** Sees each exchange's method, path, status and time (README "Reporting a problem"); never a query or body. */
  readonly tap?: RestTap;
}

export interface ApiRequest {
  readonly method: 'GET' | 'POST';
  /** `<object>/<method>`, e.g. `track/getFileUrl`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  /** Sent as application/x-www-form-urlencoded. */
  readonly form?: Readonly<Record<string, string>>;
  /** Auth and session headers; their values never reach a log line. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ApiResponse {
  readonly status: number;
  /** Parsed JSON, or null when the body was not JSON. */
  readonly body: unknown;
}

/** Is this worth another attempt? Only 5xx and network failures (never 4xx: the answer will not change). */
class RetryableError extends Error {}

/**
 * One HTTP exchange with the Qobuz REST API: the headers every call needs (§7: X-App-Id,
 * Referer/Origin play.qobuz.com, a browser User-Agent), a timeout per attempt, and retries
 * with growing delays on 5xx and network errors only. Answers below 500 are returned as
 * they are, for the caller to interpret. Logs the path and status only: queries carry
 * signatures, headers carry tokens.
 */
export class ApiTransport {
  readonly #log: Logger;

  constructor(private readonly options: ApiTransportOptions) {
    this.#log = options.logger;
  }

  async call(request: ApiRequest): Promise<ApiResponse> {
    const attempts = this.options.retries + 1;
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await sleep(this.options.retryDelayMs * 2 ** (attempt - 2));
      try {
        return await this.#attempt(request, attempt);
      } catch (err) {
        if (!(err instanceof RetryableError)) throw err;
        lastError = err;
        this.#log.warn(
          { path: request.path, attempt, attempts, reason: err.message },
          'qobuz api call failed',
        );
      }
    }
    throw new QcbError(
      'ERR_QOBUZ_API',
      `qobuz ${request.path} failed after ${attempts} attempts: ${errorMessage(lastError)}`,
      { cause: lastError },
    );
  }

  async #attempt(request: ApiRequest, attempt: number): Promise<ApiResponse> {
    const url = new URL(`${this.options.baseUrl.replace(/\/+$/, '')}/${request.path}`);
    for (const [k, v] of Object.entries(request.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = {
      'X-App-Id': this.options.appId,
      Referer: 'https://play.qobuz.com/',
      Origin: 'https://play.qobuz.com',
      'User-Agent': this.options.userAgent,
      Accept: 'application/json',
      ...request.headers,
    };
    let body: string | undefined;
    if (request.form) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(request.form).toString();
    }
    const started = Date.now();
    let response: Response;
    try {
      response = await fetch(url, {
        method: request.method,
        headers,
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
        redirect: 'error',
      });
    } catch (err) {
      const reason =
        err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
          ? `timed out after ${this.options.timeoutMs} ms`
          : `network error: ${networkReason(err)}`;
      this.#tap(request, null, started, attempt, reason);
      throw new RetryableError(reason);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      this.#tap(request, response.status, started, attempt, 'body read failed');
      throw new RetryableError(`body read failed: ${networkReason(err)}`);
    }
    this.#tap(request, response.status, started, attempt);
    this.#log.debug(
      {
        method: request.method,
        path: request.path,
        status: response.status,
        attempt,
        ms: Date.now() - started,
      },
      'qobuz api answered',
    );
    if (response.status >= 500)
      throw new RetryableError(`HTTP ${response.status}${qobuzMessageSuffix(parseJson(text))}`);
    return { status: response.status, body: parseJson(text) };
  }

  #tap(request: ApiRequest, status: number | null, started: number, attempt: number, error?: string): void {
    const tap = this.options.tap;
    if (!tap) return;
    const ms = Date.now() - started;
    safeTap(() =>
      tap.rest({ method: request.method, path: request.path, status, ms, attempt, ...(error ? { error } : {}) }),
    );
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** The cause's code/message without the URL (undici puts no query in them, but stay safe). */
function networkReason(err: unknown): string {
  const cause = err instanceof Error ? (err.cause ?? err) : err;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : '';
  return code || errorMessage(cause).replace(/\?\S*/g, '?…');
}

/** `: <message>` of a Qobuz error body (`{"status":"error","code":…,"message":…}`), bounded. */
export function qobuzMessageSuffix(body: unknown): string {
  if (typeof body !== 'object' || body === null || !('message' in body)) return '';
  const message = String(body.message).slice(0, 200);
  return message ? `: ${message}` : '';
}
