import { createServer, type Server } from 'node:http';
import { PRODUCT_NAME } from '../core/product.js';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';
import { QcbError, errorMessage } from '../core/qcb-error.js';
import { ConnectRateLimit } from './connect-rate-limit.js';
import { ConnectionLimits } from './connection-limits.js';
import { deviceRoutes } from './device-routes.js';
import { diagnosticsRoute } from './diagnostics-route.js';
import { HYPHENATED_UUID } from './device-types.js';
import { healthRoutes } from './health-routes.js';
import { defaultRedactor } from '../util/redactor.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits, type HttpServerOptions } from './http-options.js';
import { HttpError } from './read-json-body.js';
import { requestGuard } from './request-guard.js';
import { hostLabelFor } from './service-identity.js';
import { streamRoute } from './stream-route.js';

export type { HttpLimits, HttpServerOptions } from './http-options.js';

const DEFAULT_BRAND = PRODUCT_NAME;
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/**
 * The one HTTP server for all players (README.md "HTTP endpoints"): the device routes the Qobuz app
 * calls (docs/protocol.md §2), the stream redirect MPD follows, /healthz, /metrics.
 * Every failure answers `{"success": false, "error": …}`; request bodies are never logged.
 */
export class HttpServer {
  readonly #opts: HttpServerOptions;
  readonly #log: Logger;
  readonly #limits: HttpLimits;
  readonly #redact: (text: string) => string;
  #server: Server | null = null;
  #boundPort = 0;

  constructor(options: HttpServerOptions) {
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
      throw new QcbError('ERR_CONFIG_INVALID', `http: invalid port ${options.port}`);
    }
    const ids = new Set<string>();
    for (const p of options.players) {
      if (!HYPHENATED_UUID.test(p.uuid)) throw new QcbError('ERR_CONFIG_INVALID', `player ${p.id}: uuid must be hyphenated`);
      if (ids.has(p.id)) throw new QcbError('ERR_CONFIG_INVALID', `player ${p.id}: duplicate id`);
      ids.add(p.id);
    }
    this.#opts = options;
    this.#log = options.logger.child({ module: 'http' });
    this.#limits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
    this.#redact = options.redact ?? ((text) => defaultRedactor.scrubString(text));
  }

  /** The bound port (after start(); the chosen one when the option was 0). */
  get port(): number {
    return this.#boundPort;
  }

  /** Listens on `bind:port`; resolves with the bound port. */
  async start(): Promise<number> {
    if (this.#server) throw new QcbError('ERR_HTTP_LISTEN', 'http server already started');
    const l = this.#limits;
    // README "HTTP endpoints": a slow or stalled client must not hold a request open (issue #13). Node checks
    // these timeouts every `connectionsCheckingInterval`, so that is short too.
    const server = createServer(
      {
        headersTimeout: l.headersTimeoutMs,
        requestTimeout: l.requestTimeoutMs,
        connectionsCheckingInterval: l.checkIntervalMs,
        keepAliveTimeout: l.keepAliveTimeoutMs,
      },
      this.#buildApp().callback(),
    );
    // README "Security" (issue #26): per-host caps, and a global one that never shuts out the reserved
    // hosts (this host, the MPD hosts). A flood would flood the log too, hence debug.
    new ConnectionLimits({
      maxConnections: l.maxConnections,
      perHost: l.maxConnectionsPerHost,
      perReservedHost: l.maxConnectionsPerReservedHost,
      reserved: new Set(this.#opts.reservedHosts ?? []),
      onDrop: (address, limit) => this.#log.debug({ address, limit }, 'connection over the cap closed'),
    }).attach(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(
          new QcbError(
            'ERR_HTTP_LISTEN',
            `cannot listen on ${this.#opts.bind}:${this.#opts.port}: ${err.message}`,
            { cause: err },
          ),
        ),
      );
      server.listen(this.#opts.port, this.#opts.bind, () => resolve());
    });
    this.#server = server;
    this.#boundPort = (server.address() as AddressInfo).port;
    this.#log.info({ bind: this.#opts.bind, port: this.#boundPort }, 'http server listening');
    return this.#boundPort;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  #buildApp(): Koa {
    const o = this.#opts;
    const app = new Koa();
    const router = new Router();
    deviceRoutes(router, {
      appId: o.appId,
      model: o.model,
      brand: o.brand ?? DEFAULT_BRAND,
      players: o.players,
      allowedEndpointHosts: o.allowedEndpointHosts,
      currentSessionId: (id) => o.currentSessionId(id),
      onConnect: (id, request) => o.onConnect(id, request),
      ...(o.onConnectRefused ? { onConnectRefused: o.onConnectRefused } : {}),
      rateLimit: new ConnectRateLimit({ perWindow: this.#limits.connectsPerMinute, windowMs: 60_000 }),
      maxBodyBytes: o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      log: this.#log,
    });
    streamRoute(router, {
      playerIds: new Set(o.players.map((p) => p.id)),
      resolveStream: (id, token) => o.resolveStream(id, token),
      ...(o.cover ? { cover: o.cover } : {}),
      log: this.#log,
    });
    healthRoutes(router, { health: () => o.health(), metrics: () => o.metrics() });
    const diagnostics = o.diagnostics?.bind(o);
    if (diagnostics) diagnosticsRoute(router, { bundle: diagnostics, token: o.diagnosticsToken ?? null });
    app.use(async (ctx, next) => this.#handleErrorsAndLog(ctx, next));
    // Every route, before it runs: Host (421) and Origin (403) checks (README "HTTP endpoints").
    app.use(
      requestGuard({
        ...(o.advertiseAddress ? { advertiseAddress: o.advertiseAddress } : {}),
        hostNames: o.players.map((p) => `${hostLabelFor(p.uuid)}.local`),
      }),
    );
    app.use(router.routes());
    // 405 with an Allow header for a known path under the wrong method (docs/protocol.md §2).
    app.use(router.allowedMethods());
    app.on('error', (err: unknown) => this.#log.debug({ err: errorMessage(err) }, 'http response error'));
    return app;
  }

  async #handleErrorsAndLog(ctx: Koa.Context, next: Koa.Next): Promise<void> {
    const startedMs = performance.now();
    try {
      await next();
      if ((ctx.status === 404 || ctx.status === 405) && ctx.body == null) {
        const status = ctx.status;
        ctx.body = { success: false, error: status === 404 ? 'not found' : 'method not allowed' };
        ctx.status = status;
      }
    } catch (err) {
      if (err instanceof HttpError) {
        ctx.status = err.status;
        // Answers pass through the redactor like log lines (issue #13).
        ctx.body = { success: false, error: this.#redact(err.message) };
        // The rest of an oversized or refused body is not worth reading: close after answering.
        if (err.status === 413 || !ctx.req.complete) ctx.set('Connection', 'close');
      } else {
        this.#log.error({ err: errorMessage(err) }, 'http handler failed');
        ctx.status = 500;
        ctx.body = { success: false, error: 'internal error' };
      }
    } finally {
      // The route pattern, never the raw path: stream paths carry tokens (docs/conventions.md principle 9).
      const route = (ctx as { _matchedRoute?: unknown })._matchedRoute;
      this.#log.debug(
        {
          method: ctx.method,
          route: typeof route === 'string' ? route : 'unmatched',
          player: typeof ctx.state.player === 'string' ? ctx.state.player : undefined,
          status: ctx.status,
          ms: Math.round(performance.now() - startedMs),
        },
        'http request',
      );
    }
  }
}
