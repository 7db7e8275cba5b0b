import type Router from '@koa/router';
import type { HttpServerOptions } from './http-options.js';

/** README.md "HTTP endpoints": `GET /healthz` (per-player status JSON), `GET /metrics` (Prometheus text). */
export function healthRoutes(router: Router, deps: Pick<HttpServerOptions, 'health' | 'metrics'>): void {
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.type = 'application/json';
    ctx.body = JSON.stringify(deps.health() ?? {});
  });

  router.get('/metrics', async (ctx) => {
    const { contentType, body } = await deps.metrics();
    ctx.type = contentType;
    ctx.body = body;
  });
}
