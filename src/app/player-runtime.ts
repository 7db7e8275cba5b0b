import type { Logger } from 'pino';
import type { Config, PlayerConfig } from '../config/config-schema.js';
import { deviceTypeName, playerUuid } from '../config/config-schema.js';
import type { ConnectRequest } from '../core/connect-request.js';
import type { ItemTags, PlayableItem, Player } from '../core/player.js';
import type { StatePublisher, TrackInfo } from '../core/player-view.js';
import { PRODUCT_MODEL, PRODUCT_NAME, playerMaxQuality } from '../core/product.js';
import { errorMessage } from '../core/qcb-error.js';
import type { QueueListing } from '../core/queue-listing.js';
import type { SessionObserver } from '../core/session-observer.js';
import type { StreamTokens } from '../core/stream-tokens.js';
import type { WireTap } from '../core/wire-tap.js';
import { qconnect } from '../protocol/generated/qconnect.js';
import { uuidBytes } from '../protocol/renderer-messages.js';
import { CoverFetcher, type CoverImage } from '../qobuz/cover-fetcher.js';
import { QobuzApi } from '../qobuz/qobuz-api.js';
import { levelForQuality } from '../qobuz/quality-levels.js';
import { StreamUrlResolver } from '../qobuz/stream-url-resolver.js';
import { JwtApiToken, UserAuthToken } from '../qobuz/token-provider.js';
import { defaultRedactor, type Redactor } from '../util/redactor.js';
import type { BridgeMetrics } from './bridge-metrics.js';
import type { SessionTuning } from './session-tuning.js';
import { PlayerSession } from '../session/player-session.js';
import type { LinkEvent } from '../session/session-link-port.js';
import { sessionLinkFactory } from './session-link-factory.js';

/**
 * Everything one configured player is made of: its speaker (MPD), its Qobuz REST client and
 * stream-URL resolver, and its PlayerSession. Failures stay inside it (docs/conventions.md principle 7).
 */
export interface PlayerRuntimeOptions {
  readonly config: Config;
  readonly player: PlayerConfig;
  readonly mpd: Player;
  readonly tokens: StreamTokens;
  readonly metrics: BridgeMetrics;
  /** The MQTT adapter once it exists (it starts before the players). */
  readonly publisher: () => StatePublisher | null;
  readonly version: string;
  readonly logger: Logger;
  readonly tuning?: SessionTuning;
  /** Where this player's session tokens are registered for redaction (default: the process-wide one). */
  readonly redactor?: Redactor;
  /** The player's wire tap (README "Reporting a problem"): handed to its Qobuz REST client and cloud link. */
  readonly tap?: WireTap;
  /** The account's session view (README "The Qobuz session"): fed by this player's link. */
  readonly sessionObserver?: SessionObserver;
}

export class PlayerRuntime {
  readonly session: PlayerSession;
  readonly #o: PlayerRuntimeOptions;
  readonly #jwtApi = new JwtApiToken();
  readonly #api: QobuzApi | null;
  readonly #resolver: StreamUrlResolver | null;
  readonly #covers: CoverFetcher;
  #mpdUp = false;
  /** The tokens of the session's connect, and of the last connect, still censored (issues #13, #26). */
  #acceptedSecrets: readonly string[] = [];
  #previousSecrets: readonly string[] = [];
  /** The last minted WebSocket token, censored while a link may still use it. */
  #previousMinted: readonly string[] = [];
  /** The last queue listing published, for the bug-report bundle's queue summary. */
  #lastListing: QueueListing | null = null;

  constructor(options: PlayerRuntimeOptions) {
    this.#o = options;
    const { config: c, player: p, logger } = options;
    this.#api =
      c.qobuz.app_id && c.qobuz.app_secret
        ? new QobuzApi({
            baseUrl: c.qobuz.api_base_url,
            appId: c.qobuz.app_id,
            appSecret: c.qobuz.app_secret,
            auth: c.qobuz.user_auth_token ? new UserAuthToken(c.qobuz.user_auth_token) : this.#jwtApi,
            logger: logger.child({ module: 'qobuz' }),
            ...(options.tap ? { tap: options.tap } : {}),
          })
        : null;
    if (!this.#api)
      logger.warn('qobuz.app_id / app_secret not set: the player is advertised but cannot stream');
    this.#resolver = this.#api ? new StreamUrlResolver({ api: this.#api, logger }) : null;
    this.#covers = new CoverFetcher({ logger: logger.child({ module: 'covers' }) });
    const uuid = playerUuid(p);
    const publisher: StatePublisher = {
      publishState: (id, view) => options.publisher()?.publishState(id, view),
      publishEvent: (id, event) => {
        // The link closed for good: its stream tokens die with it (README "HTTP endpoints"). Hooked here, where
        // the session's events leave it, so the session files need not know about tokens.
        if (event.type === 'session_closed') options.tokens.clear(p.id);
        options.publisher()?.publishEvent(id, event);
      },
      publishQueue: (id, listing) => {
        this.#lastListing = listing;
        options.publisher()?.publishQueue?.(id, listing);
      },
      publishVolumeRequest: (id, request) => options.publisher()?.publishVolumeRequest?.(id, request),
      publishAvailability: (id, online) => {
        this.#mpdUp = online;
        if (!online) options.metrics.mpdErrors.inc({ player: p.id, kind: 'unreachable' });
        options.publisher()?.publishAvailability(id, online);
      },
    };
    const onLinkEvent = (event: LinkEvent, count: number): void => {
      if (event === 'reconnect') options.metrics.reconnects.inc({ player: p.id }, count);
      else if (event === 'token_renewed_ahead' || event === 'token_renewed_at_reconnect') {
        options.metrics.tokenRenewals.inc(
          { player: p.id, when: event === 'token_renewed_ahead' ? 'ahead' : 'reconnect' },
          count,
        );
      } else
        options.metrics.frames.inc({ player: p.id, direction: event === 'frames_in' ? 'in' : 'out' }, count);
    };
    this.session = new PlayerSession({
      playerId: p.id,
      device: {
        uuid: uuidBytes(uuid),
        friendlyName: p.name,
        brand: PRODUCT_NAME,
        model: PRODUCT_MODEL,
        serialNumber: uuid,
        type: qconnect.DeviceType[deviceTypeName(p)],
        minAudioQuality: 1,
        maxAudioQuality: levelForQuality(playerMaxQuality(c.qobuz.max_quality, p.max_quality)),
        // README "Volume modes": with a fixed volume the app hides its slider (docs/protocol.md §5.9).
        volumeRemoteControl: p.volume.mode !== 'fixed',
        softwareVersion: options.version,
      },
      joinMode: c.qobuz.join,
      ...(p.volume.mode === 'external' ? { volumeExternal: { reportTimeoutMs: p.volume.report_timeout_ms } } : {}),
      maxAudioQuality: levelForQuality(playerMaxQuality(c.qobuz.max_quality, p.max_quality)),
      player: options.mpd,
      publisher,
      trackInfo: this.#api ? (id) => this.#trackInfo(id) : null,
      ...(this.#api ? { trackIdsOf: (kind, id) => this.#api!.trackIdsOf(kind, id) } : {}),
      ...(options.tuning?.queueListing ? { queueListing: options.tuning.queueListing } : {}),
      onQueueItems: (items) => options.tokens.retain(p.id, new Set(items.map((i) => i.queueItemId))),
      logger,
      // README "Own Qobuz identity": with a user token the link mints its own WebSocket tokens, so a
      // session outlives the app's one-hour token (docs/protocol.md §8), the player joins the
      // account in the background (qobuz.cloud), and play_media / transfer work without the app.
      ...(c.qobuz.user_auth_token && this.#api
        ? { renewToken: () => this.#mintToken(), cloud: c.qobuz.cloud }
        : {}),
      ...(options.tuning?.mediaStepTimeoutMs
        ? { mediaStepTimeoutMs: options.tuning.mediaStepTimeoutMs }
        : {}),
      ...(options.tuning?.mediaPlayTimeoutMs
        ? { mediaPlayTimeoutMs: options.tuning.mediaPlayTimeoutMs }
        : {}),
      ...(options.tuning?.cloudRetryStepsMs ? { cloudRetryStepsMs: options.tuning.cloudRetryStepsMs } : {}),
      ...(options.tuning?.heartbeatMs ? { heartbeatMs: options.tuning.heartbeatMs } : {}),
      ...(options.tuning?.connectAcceptTimeoutMs
        ? { connectAcceptTimeoutMs: options.tuning.connectAcceptTimeoutMs }
        : {}),
      onConnectAccepted: (request, sessionChanged) => this.#accepted(request, sessionChanged),
      onConnectRejected: (_request, reason) =>
        options.metrics.connects.inc({ player: p.id, result: 'rejected', reason }),
      ...(options.sessionObserver ? { sessionObserver: options.sessionObserver } : {}),
      linkFactory: sessionLinkFactory({ onLinkEvent, tuning: {
        ...(options.tuning?.backoffStepsMs ? { backoffStepsMs: options.tuning.backoffStepsMs } : {}),
        ...(options.tuning?.pingIntervalMs ? { pingIntervalMs: options.tuning.pingIntervalMs } : {}),
        ...(options.tuning?.deadAfterMs ? { deadAfterMs: options.tuning.deadAfterMs } : {}),
        ...(options.tuning?.tokenRenewAheadMs ? { renewAheadMs: options.tuning.tokenRenewAheadMs } : {}),
        ...(options.tap ? { tap: options.tap } : {}),
      } }),
      onLinkEvent,
      onMessageHandled: (type, ms) => {
        options.metrics.commands.inc({ player: p.id, type: String(type) });
        options.metrics.commandLatency.observe({ type: String(type) }, ms / 1000);
      },
    });
    options.mpd.events.on('itemFailed', (item) => {
      options.metrics.mpdErrors.inc({ player: p.id, kind: 'item_failed' });
      // A signed URL the CDN refused (expired, 403/410) must not be served again from the cache.
      this.#resolver?.invalidate(item.trackId);
    });
  }

  get sessionId(): string {
    return this.session.sessionId;
  }

  async start(): Promise<void> {
    this.session.start();
    await this.#o.mpd.start();
  }

  async stop(): Promise<void> {
    await this.session.stop();
    await this.#o.mpd.stop();
  }

  /**
   * Resolves once the session's loop and the speaker have nothing left to do: every input
   * handled and every speaker command applied, including those one caused in the other.
   */
  async idle(): Promise<void> {
    for (;;) {
      const session = await this.session.idle();
      const speaker = await this.#o.mpd.idle();
      if (!session && !speaker) return;
    }
  }

  /**
   * The app's connect (README "Security", issue #26: make before break): the session builds its link
   * beside the current one; nothing of the current session changes until the service accepted it.
   */
  connect(request: ConnectRequest): Promise<void> {
    // Tokens from the app are secrets from the moment they arrive (issue #7: central redaction).
    // Per player and replaced on each connect, never accumulated (issue #13): the session's tokens,
    // this connect's and the previous connect's, whose link may still be winding down.
    const secrets = [request.jwtQconnect.jwt, request.jwtApi.jwt];
    (this.#o.redactor ?? defaultRedactor).setSecrets(`player:${this.#o.player.id}`, [
      ...new Set([...this.#acceptedSecrets, ...secrets, ...this.#previousSecrets]),
    ]);
    this.#previousSecrets = secrets;
    return this.session.connect(request);
  }

  /**
   * The service accepted a connect (in the session's loop, before the previous session ends): its REST
   * token serves from now on, and a new session takes the replaced one's stream tokens along (README
   * "HTTP endpoints"), before the new one can load a queue. The same session keeps MPD's queued URLs.
   */
  #accepted(request: ConnectRequest, sessionChanged: boolean): void {
    this.#acceptedSecrets = [request.jwtQconnect.jwt, request.jwtApi.jwt];
    this.#jwtApi.set({ jwt: request.jwtApi.jwt, exp: request.jwtApi.exp });
    if (sessionChanged) this.#o.tokens.clear(this.#o.player.id);
    this.#o.metrics.connects.inc({ player: this.#o.player.id, result: 'accepted', reason: 'joined' });
  }

  /** The stream route: a token of this player's current queue → a freshly signed URL (README.md "HTTP endpoints"). */
  async resolveStream(token: string): Promise<string | null> {
    const item = this.#o.tokens.lookup(this.#o.player.id, token);
    if (!item || !this.#resolver) return null;
    const url = await this.#resolver.resolve(item.trackId, this.session.effectiveMaxQuality);
    return url.url;
  }

  health(): Record<string, unknown> {
    const view = this.session.view();
    return { session: view.qobuzSession, state: view.state, mpd_reachable: this.#mpdUp };
  }

  /** The player as the bug-report bundle shows it (README "Reporting a problem"): view, session, queue in short. */
  bundleInfo(): { id: string; view: unknown; session: unknown; queue: unknown } {
    const view = this.session.view();
    const l = this.#lastListing;
    return {
      id: this.#o.player.id,
      view,
      session: { state: view.qobuzSession, session_id: this.session.sessionId || null, mpd_reachable: this.#mpdUp },
      queue: l
        ? {
            version: l.version,
            length: l.length,
            index: l.index,
            shuffle: l.shuffle,
            window: l.window,
            autoplay: l.autoplay.length,
            next: l.next,
          }
        : null,
    };
  }

  /** The album image of the item the speaker is on, for MPD clients (issue #16); null when none. */
  async cover(): Promise<CoverImage | null> {
    const item = this.#o.mpd.snapshot().current;
    if (!item || !this.#api) return null;
    const url = (await this.#api.getTrack(item.trackId)).info.coverUrl;
    return url ? this.#covers.get(url) : null;
  }

  /** MPD's tags for an item (issue #16), from the cached `track/get`; null when Qobuz cannot say. */
  async tagsFor(item: PlayableItem): Promise<ItemTags | null> {
    try {
      const track = await this.#api?.getTrack(item.trackId);
      if (!track) return null;
      const { info } = track;
      return {
        title: info.title,
        ...(info.artist ? { artist: info.artist } : {}),
        ...(info.album ? { album: info.album } : {}),
        ...(track.albumArtist ? { albumArtist: track.albumArtist } : {}),
        ...(track.trackNumber !== null ? { trackNumber: track.trackNumber } : {}),
        ...(track.releaseDate ? { date: track.releaseDate } : {}),
      };
    } catch (err) {
      this.#o.logger.debug({ err: errorMessage(err), trackId: item.trackId }, 'no tags for MPD');
      return null;
    }
  }

  /** qws/createToken; the token is a secret from the moment it arrives (issue #7), this one and the one before. */
  async #mintToken(): Promise<{ jwt: string; expiresAtMs: number; endpoint: string }> {
    const token = await this.#api!.createQwsToken();
    (this.#o.redactor ?? defaultRedactor).setSecrets(`player:${this.#o.player.id}:minted`, [
      token.jwt,
      ...this.#previousMinted,
    ]);
    this.#previousMinted = [token.jwt];
    return token;
  }

  /** Track metadata from the cached `track/get`; null when Qobuz cannot say (the account's session view). */
  trackInfo(trackId: number): Promise<TrackInfo | null> {
    return this.#trackInfo(trackId);
  }

  async #trackInfo(trackId: number): Promise<TrackInfo | null> {
    try {
      return (await this.#api?.getTrack(trackId))?.info ?? null;
    } catch (err) {
      this.#o.logger.warn({ err: errorMessage(err), trackId }, 'track metadata unavailable');
      return null;
    }
  }
}
