import type Router from '@koa/router';
import type { Logger } from 'pino';
import { errorMessage } from '../core/qcb-error.js';
import { parseStreamFile } from '../core/stream-tokens.js';
import type { HttpServerOptions } from './http-options.js';
import { HttpError } from './read-json-body.js';

const NO_COVER = 'no album image';
/** Raster types only (issue #26): an SVG, or HTML posing as an image, is no cover. */
const COVER_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp']);

/** The image's media type without parameters, when it is one we serve; else null. */
function coverType(contentType: string): string | null {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return COVER_TYPES.has(type) ? type : null;
}

/**
 * README.md "HTTP endpoints", docs/protocol.md §2: `GET /stream/{player_id}/{queue_item_token}`
 * → 302 to a freshly signed stream URL. MPD hits it at every start and every seek. Only
 * tokens of that player's current queue resolve; everything else is 404. Neither token nor
 * URL is logged.
 */
export function streamRoute(
  router: Router,
  deps: {
    readonly playerIds: ReadonlySet<string>;
    readonly resolveStream: HttpServerOptions['resolveStream'];
    readonly cover?: HttpServerOptions['cover'];
    readonly log: Logger;
  },
): void {
  // docs/protocol.md §9.4: MPD's `albumart`/`readpicture` for our song open `cover.png`, `cover.jpg`
  // (…) beside its URL, at every request. Registered before the token route, which refuses these names.
  router.get(['/stream/:player/cover.jpg', '/stream/:player/cover.png'], async (ctx) => {
    // README "Security" (issue #26): never let a client guess another type than the one we vouch for.
    ctx.set('X-Content-Type-Options', 'nosniff');
    const playerId = ctx.params.player ?? '';
    // One answer for "no such player" and "no cover": player ids cannot be enumerated here (issue #26).
    if (!deps.playerIds.has(playerId)) throw new HttpError(404, NO_COVER);
    ctx.state.player = playerId;
    let image: { readonly bytes: Buffer; readonly contentType: string } | null = null;
    try {
      image = (await deps.cover?.(playerId)) ?? null;
    } catch (err) {
      deps.log.debug({ player: playerId, err: errorMessage(err) }, 'no album image');
    }
    const type = image ? coverType(image.contentType) : null;
    if (image === null || type === null) throw new HttpError(404, NO_COVER);
    // What plays changes: a client must ask again rather than keep an old cover.
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = type;
    ctx.body = image.bytes;
  });
  router.get('/stream/:player/:token', async (ctx) => {
    const playerId = ctx.params.player ?? '';
    // Queue item tokens with the suffix MPD picks its decoder by (docs/protocol.md §9.2); `..`, `%` → 404.
    const token = parseStreamFile(ctx.params.token ?? '');
    if (!deps.playerIds.has(playerId) || token === null) throw new HttpError(404, 'unknown stream');
    ctx.state.player = playerId;
    let url: string | null;
    try {
      url = await deps.resolveStream(playerId, token);
    } catch (err) {
      deps.log.warn({ player: playerId, err: errorMessage(err) }, 'stream URL could not be resolved');
      throw new HttpError(502, 'stream URL could not be resolved');
    }
    if (url === null) throw new HttpError(404, 'unknown stream');
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(url); // 302 by default
  });
}
