import type { Logger } from 'pino';
import { QcbError } from '../core/qcb-error.js';
import type { RestTap } from '../core/wire-tap.js';
import {
  fileUrlAnswer,
  khzToHz,
  loggableUrl,
  qwsTokenAnswer,
  refusalReason,
  toQobuzTrack,
  trackAnswer,
  tracksAnswer,
  urlExpiryMs,
  type QobuzTrack,
  type TracksAnswer,
} from './api-answers.js';
import { ApiSession } from './api-session.js';
import { ApiTransport, BROWSER_USER_AGENT, qobuzMessageSuffix, type ApiResponse } from './api-transport.js';
import { fallbackChain, mimeTypeForFormat } from './quality-levels.js';
import { signRequest } from './request-signer.js';
import type { TokenProvider } from './token-provider.js';
import { TrackMetadataCache } from './track-metadata-cache.js';

export interface QobuzApiOptions {
  /** `qobuz.api_base_url`, e.g. https://www.qobuz.com/api.json/0.2 */
  readonly baseUrl: string;
  readonly appId: string;
  readonly appSecret: string;
  readonly logger: Logger;
  readonly auth: TokenProvider;
  /** Per attempt. */
  readonly timeoutMs?: number;
  /** Extra attempts after a 5xx or network error (never after a 4xx). */
  readonly retries?: number;
  /** First retry delay; doubles per retry. */
  readonly retryDelayMs?: number;
  readonly userAgent?: string;
  /** Send `X-Session-Id` from `session/start` with getFileUrl (default true). */
  readonly useSession?: boolean;
  readonly tokenRefreshAheadMs?: number;
  readonly sessionRenewAheadMs?: number;
  /** Assumed URL lifetime when the URL has no `etsp` (another implementation assumes ~5 min). */
  readonly defaultUrlLifetimeMs?: number;
  /** Share one cache between several QobuzApi instances (one per player). */
  readonly trackCache?: TrackMetadataCache<QobuzTrack>;
  readonly now?: () => number;
  /** Sees every REST exchange (path, status, time), for diagnostics (README "Reporting a problem"). */
  readonly tap?: RestTap;
}

/** A signed stream URL as getFileUrl served it (docs/protocol.md §7). */
export interface StreamUrl {
  readonly trackId: number;
  /** Signed CDN URL: never log it whole (loggableUrl), never hand it to MPD. */
  readonly url: string;
  /** The format served, maybe lower than asked. */
  readonly formatId: number;
  readonly bitDepth: number | null;
  readonly samplingRateHz: number | null;
  readonly channels: number | null;
  readonly mimeType: string;
  readonly durationMs: number | null;
  readonly expiresAtMs: number;
}

/** Page sizes of album/get and playlist/get (the web player asks for 50 playlist tracks at a time). */
const ALBUM_PAGE = 500;
const PLAYLIST_PAGE = 50;

/** Signature errors (and 429 rate limits) are ours, not the track's: no point falling back to another format. */
const OUR_FAULT = /request_sig|request_ts|signature|app_id/i;

/**
 * The Qobuz REST client (docs/protocol.md §7): track metadata (cached) and stream URLs,
 * signed, authenticated with the app's jwt_api or a user token, within a session.
 * No background work: every call is made when asked.
 */
export class QobuzApi {
  readonly #log: Logger;
  readonly #transport: ApiTransport;
  readonly #session: ApiSession;
  readonly #cache: TrackMetadataCache<QobuzTrack>;
  readonly #now: () => number;

  constructor(private readonly options: QobuzApiOptions) {
    for (const key of ['baseUrl', 'appId', 'appSecret'] as const) {
      if (!options[key]) throw new QcbError('ERR_CONFIG_INVALID', `QobuzApi: ${key} is required`);
    }
    if (!URL.canParse(options.baseUrl))
      throw new QcbError('ERR_CONFIG_INVALID', 'QobuzApi: baseUrl is not a URL');
    this.#log = options.logger.child({ module: 'qobuz-api' });
    this.#now = options.now ?? Date.now;
    this.#transport = new ApiTransport({
      baseUrl: options.baseUrl,
      appId: options.appId,
      logger: this.#log,
      timeoutMs: options.timeoutMs ?? 10_000,
      retries: options.retries ?? 2,
      retryDelayMs: options.retryDelayMs ?? 250,
      userAgent: options.userAgent ?? BROWSER_USER_AGENT,
      ...(options.tap ? { tap: options.tap } : {}),
    });
    this.#session = new ApiSession({
      transport: this.#transport,
      auth: options.auth,
      appSecret: options.appSecret,
      logger: this.#log,
      now: this.#now,
      tokenRefreshAheadMs: options.tokenRefreshAheadMs ?? 5 * 60_000,
      sessionRenewAheadMs: options.sessionRenewAheadMs ?? 60_000,
    });
    this.#cache = options.trackCache ?? new TrackMetadataCache<QobuzTrack>({ now: this.#now });
  }

  /**
   * `qws/createToken` (docs/protocol.md §8): a WebSocket token minted with the configured user token,
   * so the player's link outlives the app's one-hour token. ERR_QOBUZ_AUTH when refused.
   */
  async createQwsToken(): Promise<{ jwt: string; expiresAtMs: number; endpoint: string }> {
    const path = 'qws/createToken';
    const response = await this.#transport.call({
      method: 'POST',
      path,
      form: { jwt: 'jwt_qws' },
      headers: await this.#session.authHeaders(),
    });
    if (response.status === 401 || response.status === 403) throw this.#session.authError(path, response);
    const parsed = qwsTokenAnswer.safeParse(response.body);
    if (response.status !== 200 || !parsed.success) {
      throw new QcbError('ERR_QOBUZ_AUTH', `qobuz ${path} gave no WebSocket token (HTTP ${response.status})`);
    }
    const t = parsed.data.jwt_qws;
    this.#log.info({ expSeconds: t.exp }, 'qobuz websocket token minted');
    return { jwt: t.jwt, expiresAtMs: t.exp * 1000, endpoint: t.endpoint };
  }

  /**
   * The track ids of a Qobuz album, playlist or single track, in order, for a controller's queue
   * load or add (docs/protocol.md §8). Playlists are read page by page (up to `maxTracks`).
   * ERR_NOT_FOUND when Qobuz does not know the id or it holds no tracks; tracks Qobuz marks as
   * not streamable are left out, and ERR_NOT_STREAMABLE when that leaves none.
   */
  async trackIdsOf(
    kind: 'album' | 'playlist' | 'track',
    id: string,
    maxTracks = 2000,
  ): Promise<{ title: string | null; trackIds: number[] }> {
    if (kind === 'track') {
      const trackId = Number(id);
      if (!Number.isSafeInteger(trackId) || trackId <= 0)
        throw new QcbError('ERR_NOT_FOUND', `"${id}" is not a Qobuz track id`);
      const track = await this.getTrack(trackId).catch((err: unknown) => {
        throw new QcbError('ERR_NOT_FOUND', `Qobuz has no track ${trackId}`, { cause: err });
      });
      if (!track.streamable) throw new QcbError('ERR_NOT_STREAMABLE', `the Qobuz track ${trackId} cannot be streamed`);
      return { title: track.info.title, trackIds: [trackId] };
    }
    const trackIds: number[] = [];
    let unstreamable = 0;
    let title: string | null = null;
    const pageSize = kind === 'playlist' ? PLAYLIST_PAGE : ALBUM_PAGE;
    for (let offset = 0; trackIds.length < maxTracks;) {
      const page = await this.#tracksPage(kind, id, offset, pageSize);
      title = page.title ?? page.name ?? title;
      const items = page.tracks?.items ?? [];
      const playable = items.filter((t) => t.streamable !== false);
      unstreamable += items.length - playable.length;
      trackIds.push(...playable.map((t) => t.id));
      const total = page.tracks?.total ?? page.tracks_count ?? offset + items.length;
      offset += items.length;
      if (items.length === 0 || offset >= total) break;
    }
    if (trackIds.length === 0 && unstreamable > 0) {
      throw new QcbError('ERR_NOT_STREAMABLE', `none of the ${unstreamable} tracks of the Qobuz ${kind} ${id} can be streamed`);
    }
    if (trackIds.length === 0) throw new QcbError('ERR_NOT_FOUND', `the Qobuz ${kind} ${id} has no tracks`);
    return { title, trackIds: trackIds.slice(0, maxTracks) };
  }

  async #tracksPage(
    kind: 'album' | 'playlist',
    id: string,
    offset: number,
    limit: number,
  ): Promise<TracksAnswer> {
    const path = `${kind}/get`;
    const query: Record<string, string> =
      kind === 'album'
        ? { album_id: id, offset: String(offset), limit: String(limit) }
        : { playlist_id: id, extra: 'tracks', offset: String(offset), limit: String(limit) };
    const response = await this.#transport.call({
      method: 'GET',
      path,
      query,
      headers: await this.#session.authHeaders(),
    });
    if (response.status === 401 || response.status === 403) throw this.#session.authError(path, response);
    if (response.status === 404 || response.status === 400) {
      throw new QcbError('ERR_NOT_FOUND', `Qobuz has no ${kind} ${id}${qobuzMessageSuffix(response.body)}`);
    }
    const parsed = tracksAnswer.safeParse(response.body);
    if (response.status !== 200 || !parsed.success) {
      throw new QcbError(
        'ERR_QOBUZ_API',
        `qobuz ${path} failed with HTTP ${response.status}${qobuzMessageSuffix(response.body)}`,
      );
    }
    return parsed.data;
  }

  /** `track/get`, cached per track id. */
  getTrack(trackId: number): Promise<QobuzTrack> {
    return this.#cache.get(trackId, () => this.#fetchTrack(trackId));
  }

  /**
   * `track/getFileUrl` for the best format `maxLevel` (QConnect level 1-4) allows, falling
   * back 27 → 7 → 6 → 5 while a format is refused. ERR_QOBUZ_UNAVAILABLE when none is served.
   */
  async getFileUrl(trackId: number, maxLevel: number): Promise<StreamUrl> {
    const refusals: string[] = [];
    for (const formatId of fallbackChain(maxLevel)) {
      const response = await this.#fileUrlCall(trackId, formatId);
      const parsed = fileUrlAnswer.safeParse(response.body);
      const ourFault = response.status === 400 && OUR_FAULT.test(qobuzMessageSuffix(response.body));
      if (ourFault || response.status === 429) {
        throw new QcbError(
          'ERR_QOBUZ_API',
          `qobuz track/getFileUrl rejected our request: HTTP ${response.status}${qobuzMessageSuffix(response.body)}`,
        );
      }
      const reason =
        response.status >= 400
          ? `HTTP ${response.status}${qobuzMessageSuffix(response.body)}`
          : !parsed.success
            ? null
            : refusalReason(parsed.data);
      if (response.status === 200 && parsed.success && reason === null && parsed.data.url) {
        return this.#toStreamUrl(trackId, formatId, parsed.data.url, parsed.data);
      }
      if (reason === null) {
        throw new QcbError(
          'ERR_QOBUZ_API',
          `qobuz track/getFileUrl gave an unexpected answer (HTTP ${response.status})`,
        );
      }
      refusals.push(`${formatId}: ${reason}`);
      this.#log.info({ trackId, formatId, reason }, 'qobuz refused format, falling back');
    }
    throw new QcbError(
      'ERR_QOBUZ_UNAVAILABLE',
      `track ${trackId} cannot be streamed (${refusals.join('; ')})`,
    );
  }

  async #fetchTrack(trackId: number): Promise<QobuzTrack> {
    const path = 'track/get';
    const response = await this.#transport.call({
      method: 'GET',
      path,
      query: { track_id: String(trackId) },
      headers: await this.#session.authHeaders(),
    });
    if (response.status === 401 || response.status === 403) throw this.#session.authError(path, response);
    if (response.status === 404) {
      throw new QcbError(
        'ERR_QOBUZ_UNAVAILABLE',
        `track ${trackId} not found${qobuzMessageSuffix(response.body)}`,
      );
    }
    const parsed = trackAnswer.safeParse(response.body);
    if (response.status !== 200 || !parsed.success) {
      throw new QcbError(
        'ERR_QOBUZ_API',
        `qobuz ${path} failed with HTTP ${response.status}${qobuzMessageSuffix(response.body)}`,
      );
    }
    return toQobuzTrack(parsed.data);
  }

  /** One signed getFileUrl call; a 401 with a session retries once with a new session (it may have ended early). */
  async #fileUrlCall(trackId: number, formatId: number): Promise<ApiResponse> {
    const path = 'track/getFileUrl';
    const useSession = this.options.useSession ?? true;
    for (let attempt = 1; ; attempt++) {
      const ts = Math.floor(this.#now() / 1000);
      const signed = { format_id: String(formatId), intent: 'stream', track_id: String(trackId) };
      const sig = signRequest('track', 'getFileUrl', signed, ts, this.options.appSecret);
      const headers = useSession ? await this.#session.sessionHeaders() : await this.#session.authHeaders();
      const response = await this.#transport.call({
        method: 'GET',
        path,
        query: { ...signed, request_ts: String(ts), request_sig: sig },
        headers,
      });
      if (response.status !== 401 && response.status !== 403) return response;
      if (useSession && attempt === 1 && response.status === 401) {
        this.#session.dropSession();
        continue;
      }
      throw this.#session.authError(path, response);
    }
  }

  #toStreamUrl(
    trackId: number,
    askedFormat: number,
    url: string,
    answer: ReturnType<typeof fileUrlAnswer.parse>,
  ): StreamUrl {
    const formatId = answer.format_id ?? askedFormat;
    const now = this.#now();
    const result: StreamUrl = {
      trackId,
      url,
      formatId,
      bitDepth: answer.bit_depth ?? null,
      samplingRateHz: khzToHz(answer.sampling_rate),
      channels: answer.n_channels ?? null,
      mimeType: answer.mime_type ?? mimeTypeForFormat(formatId),
      durationMs: answer.duration == null ? null : Math.round(answer.duration * 1000),
      expiresAtMs: urlExpiryMs(url, now, this.options.defaultUrlLifetimeMs ?? 5 * 60_000),
    };
    this.#log.debug(
      {
        trackId,
        askedFormat,
        formatId,
        cdn: loggableUrl(url),
        expiresInS: Math.round((result.expiresAtMs - now) / 1000),
      },
      'qobuz stream url resolved',
    );
    return result;
  }
}
