import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The simulated Qobuz REST service (docs/protocol.md §7-§8): `track/get`, `album/get`,
 * `playlist/get`, `track/getFileUrl`, `session/start`, `qws/refreshToken`, `qws/createToken`
 * on 127.0.0.1, port 0. It checks
 * what the real one checks — X-App-Id, request signatures (computed here independently of
 * src/qobuz), request_ts within a window, the Bearer jwt_api it issued or a user token it
 * knows, X-Session-Id of a started session — and answers Qobuz-like JSON errors otherwise.
 * It records every request (secrets removed) and misbehaves on demand.
 */

/** The tiny part of test/support/audio-http-server.ts the stub needs to serve files as the CDN. */
export interface StubCdn {
  add(path: string, file: string): void;
  url(path: string): string;
}

export interface QobuzApiStubOptions {
  readonly appId?: string;
  readonly appSecret?: string;
  /** Where getFileUrl points: a file server (formats give `file`) or a base URL. */
  readonly cdn?: StubCdn | string;
  /** Accepted |request_ts − now| in seconds (default 300). */
  readonly tsWindowSeconds?: number;
  /** getFileUrl requires X-Session-Id from session/start (default true). */
  readonly requireSession?: boolean;
  readonly urlLifetimeSeconds?: number;
  readonly sessionLifetimeSeconds?: number;
  /** Lifetime of the jwt_api minted by qws/refreshToken (default 3600 s). */
  readonly refreshedJwtTtlSeconds?: number;
  /** Answers `qws/createToken` (for a known user token) with this WebSocket token; 404 without it. */
  readonly mintQwsToken?: () => { jwt: string; exp: number; endpoint: string };
  readonly now?: () => number;
}

export interface StubFormat {
  /** A local file, served through the `cdn` file server. */
  readonly file?: string;
  /** Or a URL to point at (an expiry and a signature-looking query are appended). */
  readonly url?: string;
  readonly bitDepth: number;
  readonly samplingRateKhz: number;
}

export interface StubTrack {
  readonly id: number;
  readonly title: string;
  readonly artist: string;
  readonly album: string;
  readonly durationMs: number;
  readonly version?: string;
  /** The album image (default: an unreachable static.example URL). */
  readonly coverUrl?: string;
  readonly albumArtist?: string;
  readonly trackNumber?: number;
  readonly releaseDate?: string;
  readonly formats: Readonly<Record<number, StubFormat>>;
}

/** An album or playlist of tracks added with addTrack (or ids the stub does not know: they are listed anyway). */
export interface StubTrackList {
  readonly id: string;
  readonly title: string;
  readonly trackIds: readonly number[];
}

export interface RecordedRequest {
  readonly method: string;
  /** `<object>/<method>`, e.g. `track/getFileUrl`. */
  readonly path: string;
  /** Query and form parameters (`jwt` redacted). */
  readonly params: Readonly<Record<string, string>>;
  /** Lower-case headers without Authorization and X-User-Auth-Token. */
  readonly headers: Readonly<Record<string, string>>;
  /** Which token kind the request carried, if any. */
  readonly auth: 'jwt_api' | 'user_auth_token' | null;
  status: number;
}

type Refusal = 'restrictions' | 'error';
type Answer = { status: number; body: unknown };

const PREFIX = '/api.json/0.2/';
const FORMAT_RANK = [5, 6, 7, 27];

export class QobuzApiStub {
  readonly appId: string;
  readonly appSecret: string;
  readonly requests: RecordedRequest[] = [];
  #server: Server | null = null;
  #port = 0;
  readonly #tracks = new Map<number, StubTrack>();
  readonly #albums = new Map<string, StubTrackList>();
  readonly #playlists = new Map<string, StubTrackList>();
  readonly #jwts = new Map<string, number>();
  readonly #userTokens = new Set<string>();
  readonly #sessions = new Map<string, number>();
  readonly #refused = new Map<string, Refusal>();
  #failures: { remaining: number; status: number; path: string | undefined; message: string }[] = [];
  #delayMs = 0;
  readonly #pathDelaysMs = new Map<string, number>();
  #hold: { readonly arrive: () => void; readonly released: Promise<void> } | null = null;
  readonly #now: () => number;

  constructor(private readonly options: QobuzApiStubOptions = {}) {
    this.appId = options.appId ?? '950096963';
    this.appSecret = options.appSecret ?? `stub-secret-${randomBytes(8).toString('hex')}`;
    this.#now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The `qobuz.api_base_url` to give the client. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.#port}${PREFIX.slice(0, -1)}`;
  }

  addTrack(track: StubTrack): void {
    this.#tracks.set(track.id, track);
    const cdn = this.options.cdn;
    for (const [formatId, format] of Object.entries(track.formats)) {
      if (format.file && typeof cdn === 'object') cdn.add(cdnPath(track.id, Number(formatId)), format.file);
    }
  }

  /** album/get answers with these tracks (all of them, or a page of them with offset/limit). */
  addAlbum(album: StubTrackList): void {
    this.#albums.set(album.id, album);
  }

  /** playlist/get?extra=tracks answers with these tracks, at most 50 per page as the real one. */
  addPlaylist(playlist: StubTrackList): void {
    this.#playlists.set(playlist.id, playlist);
  }

  /** A jwt_api as the app hands it over; `exp` is absolute epoch seconds, else now + ttlSeconds (default 3600). */
  issueJwtApi(options: { ttlSeconds?: number; exp?: number } = {}): { jwt: string; exp: number } {
    const exp = options.exp ?? Math.floor(this.#now() / 1000) + (options.ttlSeconds ?? 3600);
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const jwt = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ exp, jti: randomUUID() })}.${randomBytes(32).toString('base64url')}`;
    this.#jwts.set(jwt, exp);
    return { jwt, exp };
  }

  /** A user auth token the stub accepts as X-User-Auth-Token. */
  issueUserAuthToken(): string {
    const token = randomBytes(48).toString('base64url');
    this.#userTokens.add(token);
    return token;
  }

  /** Every jwt_api issued so far is expired from now on (refresh still accepts them). */
  expireTokens(): void {
    for (const jwt of this.#jwts.keys()) this.#jwts.set(jwt, 0);
  }

  expireSessions(): void {
    this.#sessions.clear();
  }

  /** The next `count` calls (to `path` only, when given) answer `status` with a Qobuz error body. */
  failNext(count: number, status: number, options: { path?: string; message?: string } = {}): void {
    this.#failures.push({
      remaining: count,
      status,
      path: options.path,
      message: options.message ?? `stub failure ${status}`,
    });
  }

  /** Forgets the failures failNext queued that no call has met yet. */
  clearFailures(): void {
    this.#failures = [];
  }

  /** getFileUrl refuses this format of this track: a `restrictions` answer, or an HTTP 400 status error. */
  refuseFormat(trackId: number, formatId: number, how: Refusal = 'restrictions'): void {
    this.#refused.set(`${trackId}:${formatId}`, how);
  }

  /** Every answer waits this long; with `path`, only answers to that path (`qws/createToken`). */
  setDelay(ms: number, path?: string): void {
    if (path === undefined) this.#delayMs = ms;
    else this.#pathDelaysMs.set(path, ms);
  }

  /**
   * getFileUrl answers wait until `release()`: a stream URL that is still resolving, for as long
   * as a test needs (issue #11 races). `arrived` resolves when the first held request comes in.
   */
  holdFileUrls(): { readonly arrived: Promise<void>; release(): void } {
    let arrive = () => {};
    let release = () => {};
    const arrived = new Promise<void>((r) => (arrive = r));
    const released = new Promise<void>((r) => (release = r));
    this.#hold = { arrive: () => arrive(), released };
    return {
      arrived,
      release: () => {
        this.#hold = null;
        release();
      },
    };
  }

  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stub');
    const params: Record<string, string> = Object.fromEntries(url.searchParams);
    const body = await readBody(req);
    if (req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
      Object.assign(params, Object.fromEntries(new URLSearchParams(body)));
    }
    const path = url.pathname.startsWith(PREFIX) ? url.pathname.slice(PREFIX.length) : url.pathname;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (k !== 'authorization' && k !== 'x-user-auth-token' && typeof v === 'string') headers[k] = v;
    }
    const auth = req.headers.authorization
      ? 'jwt_api'
      : req.headers['x-user-auth-token']
        ? 'user_auth_token'
        : null;
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      params: 'jwt' in params ? { ...params, jwt: '<redacted>' } : params,
      headers,
      auth,
      status: 0,
    };
    this.requests.push(record);
    const delayMs = this.#pathDelaysMs.get(path) ?? this.#delayMs;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    const hold = path === 'track/getFileUrl' ? this.#hold : null;
    if (hold) {
      hold.arrive();
      await hold.released;
    }
    let answer: Answer;
    try {
      answer = this.#route(req, path, params);
    } catch (err) {
      answer = error(500, String(err));
    }
    record.status = answer.status;
    if (res.destroyed) return;
    res.writeHead(answer.status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  }

  #route(req: IncomingMessage, path: string, params: Record<string, string>): Answer {
    const failure = this.#failures.find((f) => f.remaining > 0 && (f.path === undefined || f.path === path));
    if (failure) {
      failure.remaining--;
      return error(failure.status, failure.message);
    }
    if (req.headers['x-app-id'] !== this.appId) return error(400, 'Invalid or missing app_id parameter');
    if (path === 'qws/refreshToken') return this.#refresh(req, params);
    if (!this.#authorized(req)) return error(401, 'User authentication is required.');
    switch (path) {
      case 'session/start':
        return this.#sessionStart(req, params);
      case 'qws/createToken':
        if (
          !this.options.mintQwsToken ||
          params.jwt !== 'jwt_qws' ||
          typeof req.headers['x-user-auth-token'] !== 'string'
        ) {
          return error(400, 'qws/createToken needs a user token and jwt=jwt_qws');
        }
        return { status: 200, body: { jwt_qws: this.options.mintQwsToken() } };
      case 'track/get':
        return this.#trackGet(params);
      case 'album/get':
        return this.#listGet(this.#albums.get(params['album_id'] ?? ''), params, 500);
      case 'playlist/get':
        return this.#listGet(
          this.#playlists.get(params['playlist_id'] ?? ''),
          params,
          50,
          params['extra'] !== 'tracks',
        );
      case 'track/getFileUrl':
        return this.#getFileUrl(req, params);
      default:
        return error(404, `Unknown method ${path}`);
    }
  }

  #authorized(req: IncomingMessage): boolean {
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer !== undefined) {
      const exp = this.#jwts.get(bearer);
      return exp !== undefined && exp * 1000 > this.#now();
    }
    const user = req.headers['x-user-auth-token'];
    return typeof user === 'string' && this.#userTokens.has(user);
  }

  #refresh(req: IncomingMessage, params: Record<string, string>): Answer {
    if (req.method !== 'POST') return error(405, 'Method not allowed');
    const jwt = params['jwt'];
    if (jwt === undefined || !this.#jwts.has(jwt)) return error(401, 'Invalid token');
    return {
      status: 200,
      body: { jwt_api: this.issueJwtApi({ ttlSeconds: this.options.refreshedJwtTtlSeconds ?? 3600 }) },
    };
  }

  /** Signature as §7 describes it, spelled out per method so it does not share code with src/qobuz. */
  #signatureError(params: Record<string, string>, text: string): Answer | null {
    const ts = Number(params['request_ts']);
    if (!Number.isInteger(ts) || Math.abs(ts - this.#now() / 1000) > (this.options.tsWindowSeconds ?? 300)) {
      return error(400, 'Invalid Request Timestamp parameter (request_ts)');
    }
    const expected = createHash('md5')
      .update(`${text}${params['request_ts']}${this.appSecret}`)
      .digest('hex');
    return params['request_sig'] === expected
      ? null
      : error(400, 'Invalid Request Signature parameter (request_sig)');
  }

  #sessionStart(req: IncomingMessage, params: Record<string, string>): Answer {
    if (req.method !== 'POST') return error(405, 'Method not allowed');
    if (params['profile'] !== 'qbz-1') return error(400, 'Invalid profile');
    const bad = this.#signatureError(params, `sessionstartprofile${params['profile']}`);
    if (bad) return bad;
    const sessionId = randomUUID();
    const expiresAt = Math.floor(this.#now() / 1000) + (this.options.sessionLifetimeSeconds ?? 3600);
    this.#sessions.set(sessionId, expiresAt);
    return { status: 200, body: { session_id: sessionId, profile: 'qbz-1', expires_at: expiresAt } };
  }

  #trackGet(params: Record<string, string>): Answer {
    const track = this.#tracks.get(Number(params['track_id']));
    if (!track) return error(404, 'No result matching given argument');
    const best = this.#formatsBestFirst(track)[0];
    const bestFormat = best === undefined ? undefined : track.formats[best];
    return {
      status: 200,
      body: {
        id: track.id,
        title: track.title,
        version: track.version ?? null,
        duration: Math.round(track.durationMs / 1000),
        track_number: track.trackNumber ?? null,
        performer: { id: 1, name: track.artist },
        album: {
          title: track.album,
          release_date_original: track.releaseDate ?? null,
          ...(track.albumArtist ? { artist: { id: 2, name: track.albumArtist } } : {}),
          image: {
            small: `https://static.example/${track.id}_230.jpg`,
            large: track.coverUrl ?? `https://static.example/${track.id}_600.jpg`,
          },
        },
        streamable: best !== undefined,
        hires_streamable: (bestFormat?.bitDepth ?? 16) > 16,
        maximum_sampling_rate: bestFormat?.samplingRateKhz ?? null,
        maximum_bit_depth: bestFormat?.bitDepth ?? null,
      },
    };
  }

  /** A page of an album's or playlist's tracks; without `extra=tracks` a playlist lists none. */
  #listGet(
    list: StubTrackList | undefined,
    params: Record<string, string>,
    maxLimit: number,
    noTracks = false,
  ): Answer {
    if (!list) return error(404, 'No result matching given argument');
    const offset = Math.max(0, Number(params['offset'] ?? 0) || 0);
    const limit = Math.min(maxLimit, Math.max(1, Number(params['limit'] ?? maxLimit) || maxLimit));
    const items = noTracks
      ? []
      : list.trackIds
          .slice(offset, offset + limit)
          .map((id) => {
            const track = this.#tracks.get(id);
            // A known track with no format cannot be streamed, as track/get says too.
            const streamable = track === undefined || this.#formatsBestFirst(track).length > 0;
            return { id, title: track?.title ?? `Track ${id}`, streamable };
          });
    return {
      status: 200,
      body: {
        id: list.id,
        title: list.title,
        name: list.title,
        tracks_count: list.trackIds.length,
        ...(noTracks ? {} : { tracks: { offset, limit, total: list.trackIds.length, items } }),
      },
    };
  }

  #getFileUrl(req: IncomingMessage, params: Record<string, string>): Answer {
    if (this.options.requireSession ?? true) {
      const sessionId = req.headers['x-session-id'];
      const exp = typeof sessionId === 'string' ? this.#sessions.get(sessionId) : undefined;
      if (exp === undefined || exp * 1000 <= this.#now())
        return error(401, 'Invalid or expired session (X-Session-Id)');
    }
    const { format_id: f = '', intent = '', track_id: t = '' } = params;
    const bad = this.#signatureError(params, `trackgetFileUrlformat_id${f}intent${intent}track_id${t}`);
    if (bad) return bad;
    const track = this.#tracks.get(Number(t));
    if (!track) return error(404, 'No result matching given argument');
    const asked = Number(f);
    if (!FORMAT_RANK.includes(asked)) return error(400, 'Invalid format_id parameter');
    const refusal = this.#refused.get(`${track.id}:${asked}`);
    if (refusal === 'error') return error(400, `Format ${asked} unavailable for this track`);
    const served = this.#formatsBestFirst(track).find(
      (id) => FORMAT_RANK.indexOf(id) <= FORMAT_RANK.indexOf(asked),
    );
    const base = { track_id: track.id, duration: Math.round(track.durationMs / 1000), format_id: asked };
    if (refusal === 'restrictions' || served === undefined) {
      return { status: 200, body: { ...base, restrictions: [{ code: 'TrackRestrictedByRightHolders' }] } };
    }
    const format = track.formats[served] as StubFormat;
    return {
      status: 200,
      body: {
        ...base,
        url: this.#signedUrl(track.id, served, format),
        format_id: served,
        mime_type: served === 5 ? 'audio/mpeg' : 'audio/flac',
        sampling_rate: format.samplingRateKhz,
        bit_depth: format.bitDepth,
        n_channels: 2,
        blob: randomBytes(16).toString('hex'),
        ...(served !== asked ? { restrictions: [{ code: 'FormatRestrictedByFormatAvailability' }] } : {}),
      },
    };
  }

  #formatsBestFirst(track: StubTrack): number[] {
    return Object.keys(track.formats)
      .map(Number)
      .filter((id) => FORMAT_RANK.includes(id))
      .sort((a, b) => FORMAT_RANK.indexOf(b) - FORMAT_RANK.indexOf(a));
  }

  /** A CDN URL shaped like Qobuz's (`…/file?…&etsp=<epoch s>&hmac=…`), expiring after urlLifetimeSeconds. */
  #signedUrl(trackId: number, formatId: number, format: StubFormat): string {
    const cdn = this.options.cdn;
    const path = cdnPath(trackId, formatId);
    const base =
      format.url ??
      (typeof cdn === 'object'
        ? cdn.url(path)
        : `${(cdn ?? 'http://127.0.0.1:9').replace(/\/+$/, '')}${path}`);
    const etsp = Math.floor(this.#now() / 1000) + (this.options.urlLifetimeSeconds ?? 3600);
    const query = new URLSearchParams({
      eid: String(trackId),
      fmt: String(formatId),
      app_id: this.appId,
      etsp: String(etsp),
      hmac: randomBytes(20).toString('base64url'),
    });
    return `${base}${base.includes('?') ? '&' : '?'}${query.toString()}`;
  }
}

function cdnPath(trackId: number, formatId: number): string {
  return `/file/${trackId}-${formatId}.${formatId === 5 ? 'mp3' : 'flac'}`;
}

function error(status: number, message: string): Answer {
  return { status, body: { status: 'error', code: status, message } };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
