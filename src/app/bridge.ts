import type { Logger } from 'pino';
import type { Config, PlayerConfig } from '../config/config-schema.js';
import { deviceTypeName, playerUuid } from '../config/config-schema.js';
import { DEFAULTS } from '../config/defaults.js';
import type { ConnectRequest } from '../core/connect-request.js';
import type { PlayableItem, Player } from '../core/player.js';
import type { AccountSessionCommand } from '../core/account-session-view.js';
import type { PlayerCommand } from '../core/player-view.js';
import { PRODUCT_MODEL, PRODUCT_NAME, QUALITY_NAMES, playerMaxQuality } from '../core/product.js';
import { QcbError, errorMessage } from '../core/qcb-error.js';
import { StreamTokens, streamPath, stripStreamTokens } from '../core/stream-tokens.js';
import type { BoundedRing } from '../diagnostics/bounded-ring.js';
import { Diagnostics } from '../diagnostics/diagnostics.js';
import { buildReportBundle } from '../diagnostics/report-bundle.js';
import { HttpServer, type HttpLimits } from '../discovery/http-server.js';
import { MdnsAdvertiser } from '../discovery/mdns-advertiser.js';
import { reservedHosts } from '../discovery/reserved-hosts.js';
import { resolveAdvertiseAddress } from '../discovery/resolve-advertise-address.js';
import { MpdPlayer } from '../mpd/mpd-player.js';
import { EmbeddedBroker } from '../mqtt/embedded-broker.js';
import { MqttAdapter } from '../mqtt/mqtt-adapter.js';
import { SnapcastVolume } from '../snapcast/snapcast-volume.js';
import { withTimeout } from '../util/abortable-sleep.js';
import { defaultRedactor, type Redactor } from '../util/redactor.js';
import { AccountSession } from '../session/account/account-session.js';
import { BridgeMetrics } from './bridge-metrics.js';

import { PlayerRuntime } from './player-runtime.js';
import { VolumeRoutedPlayer } from './volume-routed-player.js';
import type { SessionTuning } from './session-tuning.js';

/**
 * The composition root (docs/conventions.md principle 1): builds every adapter from the config, wires
 * them through the core's ports, and starts and stops them in order. Nothing else constructs
 * adapters; adapters never see each other.
 */

export interface BridgeOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly version: string;
  /** Heartbeat and link tuning for tests and benches. */
  readonly sessionTuning?: SessionTuning;
  /** Secret registry for logs, MQTT payloads and HTTP answers (default: the process-wide one). */
  readonly redactor?: Redactor;
  /** HTTP slow-client limits for tests (defaults: README "HTTP endpoints"). */
  readonly httpLimits?: Partial<HttpLimits>;
  /** The ring the root logger tees its lines into (main.ts), for the bug-report bundle's log. */
  readonly logLines?: BoundedRing<string>;
}

export class Bridge {
  readonly metrics = new BridgeMetrics();
  readonly tokens = new StreamTokens();
  /** Rings of recent wire traffic, the recorder, the bundle's sources (README "Reporting a problem"). */
  readonly diagnostics: Diagnostics;
  readonly #o: BridgeOptions;
  readonly #log: Logger;
  readonly #players = new Map<string, PlayerRuntime>();
  readonly #redactor: Redactor;
  #http: HttpServer | null = null;
  #mdns: MdnsAdvertiser | null = null;
  #broker: EmbeddedBroker | null = null;
  #mqtt: MqttAdapter | null = null;
  /** The account's session as one view (README "The Qobuz session"): only with a user token. */
  #account: AccountSession | null = null;
  #advertised = false;
  #advertiseAddress = '127.0.0.1';

  constructor(options: BridgeOptions) {
    if (options.config.players.length === 0)
      throw new QcbError('ERR_CONFIG_INVALID', 'no players configured');
    this.#o = options;
    this.#log = options.logger;
    this.#redactor = options.redactor ?? defaultRedactor;
    // Issue #13: stream tokens never reach a log line, an MQTT payload or an HTTP answer, even
    // in a text no one thought to strip (MPD error texts are stripped where they enter too).
    this.#redactor.setRule('stream-tokens', stripStreamTokens);
    this.metrics.sessionStates = () => [...this.#players.values()].map((p) => p.session.view().qobuzSession);
    const d = options.config.diagnostics;
    this.diagnostics = new Diagnostics({
      players: options.config.players.map((p) => p.id),
      recording: { all: d.record, file: d.record_file, maxBytes: d.record_max_bytes, files: d.record_files },
      redactor: this.#redactor,
      logger: this.#log.child({ module: 'diagnostics' }),
      ...(options.logLines ? { logLines: options.logLines } : {}),
    });
  }

  get httpPort(): number {
    return this.#http?.port ?? 0;
  }

  get mqttUrl(): string | null {
    return this.#o.config.mqtt.url ?? this.#broker?.url ?? null;
  }

  /** One player's runtime: a test seam (the product reaches players only through HTTP and MQTT). */
  player(id: string): PlayerRuntime | undefined {
    return this.#players.get(id);
  }

  async start(): Promise<void> {
    const c = this.#o.config;
    this.#advertiseAddress = resolveAdvertiseAddress(c.http.advertise_address, c.mdns.interfaces);
    this.#log.info({ address: this.#advertiseAddress }, 'advertising address');
    this.#account = c.qobuz.user_auth_token ? this.#buildAccount() : null;
    for (const p of c.players) this.#players.set(p.id, this.#buildPlayer(p));
    // Before any link opens, so that a recording asked for in the config starts with the first frame.
    await this.diagnostics.start();
    await this.#startMqtt();
    this.#account?.start();
    this.#http = this.#buildHttp(await reservedHosts(this.#o.config.players.map((p) => p.mpd.host)));
    const port = await this.#http.start();
    this.#log.info({ port, bind: c.http.bind }, 'HTTP server listening');
    for (const runtime of this.#players.values()) await runtime.start();
    this.#mdns = new MdnsAdvertiser({
      players: c.players.map((p) => ({
        id: p.id,
        name: p.name,
        uuid: playerUuid(p),
        deviceType: deviceTypeName(p),
      })),
      port,
      advertiseAddress: this.#advertiseAddress,
      interfaces: c.mdns.interfaces,
      logger: this.#log.child({ module: 'mdns' }),
    });
    try {
      await this.#mdns.start();
      this.#advertised = true;
    } catch (err) {
      // The bridge stays useful over MQTT and HTTP; /healthz shows it is not advertised.
      this.#log.error({ err: errorMessage(err) }, 'mDNS advertising failed');
    }
  }

  /** SIGINT/SIGTERM: Qobuz told we stopped, MPD left paused, mDNS goodbyes, MQTT offline — each bounded in time. */
  async stop(): Promise<void> {
    const step = async (what: string, fn: () => Promise<unknown>, ms = 1500) => {
      try {
        await withTimeout(fn(), ms, () => new QcbError('ERR_TIMEOUT', `${what} took longer than ${ms} ms`));
      } catch (err) {
        this.#log.warn({ err: errorMessage(err), what }, 'shutdown step failed');
      }
    };
    await this.#account?.stop();
    await step(
      'sessions and players',
      () => Promise.all([...this.#players.values()].map((p) => p.stop())),
      2000,
    );
    await step('mdns', async () => this.#mdns?.stop());
    await step('mqtt', async () => this.#mqtt?.stop());
    await step('broker', async () => this.#broker?.stop(), 500);
    await step('http', async () => this.#http?.stop(), 500);
    await step('diagnostics', () => this.diagnostics.stop(), 1000);
  }

  /** The bug-report bundle (README "Reporting a problem"), as GET /diagnostics serves it. */
  report(): Promise<Record<string, unknown>> {
    return buildReportBundle({
      version: this.#o.version,
      config: this.#o.config,
      redactor: this.#redactor,
      diagnostics: this.diagnostics,
      players: () => [...this.#players.values()].map((p) => p.bundleInfo()),
      metrics: async () => (await this.metrics.render()).body,
    });
  }

  health(): unknown {
    return {
      status: 'ok',
      mqtt: { connected: this.#mqtt?.connected ?? false },
      players: Object.fromEntries(
        [...this.#players].map(([id, runtime]) => [
          id,
          { advertised: this.#advertised, ...runtime.health() },
        ]),
      ),
    };
  }

  #buildPlayer(p: PlayerConfig): PlayerRuntime {
    const c = this.#o.config;
    const log = this.#log.child({ module: 'player', player: p.id });
    const tap = this.diagnostics.tapFor(p.id);
    const urlFor = (item: PlayableItem) =>
      `http://${this.#advertiseAddress}:${this.httpPort}${streamPath(p.id, this.tokens.tokenFor(p.id, item))}`;
    // The runtime owns the Qobuz REST client the tags come from; it exists before any song is queued.
    const mpd = new MpdPlayer({
      host: p.mpd.host,
      port: p.mpd.port,
      ...(p.mpd.password ? { password: p.mpd.password } : {}),
      configFile: p.mpd.config_file,
      volume: p.volume,
      urlFor,
      tagsFor: (item) => runtime.tagsFor(item),
      // Our songs are our stream route's (docs/protocol.md §9.4); another client's are never removed.
      isOurs: (uri) => isStreamUrlOf(uri, p.id),
      logger: log.child({ module: 'mpd' }),
      tap,
    });
    const runtime: PlayerRuntime = new PlayerRuntime({
      config: c,
      player: p,
      mpd: withVolumeControl(mpd, p, log),
      tokens: this.tokens,
      metrics: this.metrics,
      publisher: () => this.#mqtt,
      version: this.#o.version,
      logger: log,
      redactor: this.#redactor,
      tap,
      ...(this.#o.sessionTuning ? { tuning: this.#o.sessionTuning } : {}),
      ...(this.#account ? { sessionObserver: this.#account } : {}),
    });
    return runtime;
  }

  /** One owner of the account's session view, fed by every player's link (docs/architecture.md "The account's session"). */
  #buildAccount(): AccountSession {
    const c = this.#o.config;
    const first = () => this.#players.values().next().value;
    const timeout = this.#o.sessionTuning?.mediaStepTimeoutMs;
    return new AccountSession({
      players: c.players.map((p) => ({ id: p.id, uuid: playerUuid(p) })),
      publisher: () => this.#mqtt,
      trackInfo: c.qobuz.app_id && c.qobuz.app_secret ? (id) => first()?.trackInfo(id) ?? Promise.resolve(null) : null,
      logger: this.#log.child({ module: 'account' }),
      ...(timeout ? { stepTimeoutMs: timeout } : {}),
    });
  }

  async #startMqtt(): Promise<void> {
    const c = this.#o.config;
    let url = c.mqtt.url;
    if (!url) {
      this.#broker = new EmbeddedBroker({
        port: c.mqtt.embedded_port,
        bind: c.mqtt.embedded_bind,
        username: c.mqtt.username,
        password: c.mqtt.password,
        baseTopic: c.mqtt.base_topic,
        discoveryPrefix: c.mqtt.discovery_prefix,
        logger: this.#log.child({ module: 'broker' }),
      });
      await this.#broker.start();
      url = this.#broker.url;
      this.#log.info({ url }, 'embedded MQTT broker running');
    }
    const tls = c.mqtt.tls;
    // The embedded broker knows the bridge by credentials of its own (README "Security", issue #26).
    const own = this.#broker?.bridgeCredentials;
    if (own) this.#redactor.setSecrets('mqtt:embedded-bridge', [own.password]);
    this.#mqtt = new MqttAdapter({
      link: {
        url,
        username: own ? own.username : c.mqtt.username,
        password: own ? own.password : c.mqtt.password,
        ...(this.#broker ? { protocolVersion: EmbeddedBroker.protocolVersion } : {}),
        ...(tls
          ? {
              tls: {
                ...(tls.ca ? { ca: tls.ca } : {}),
                ...(tls.cert ? { cert: tls.cert } : {}),
                ...(tls.key ? { key: tls.key } : {}),
                rejectUnauthorized: tls.reject_unauthorized,
              },
            }
          : {}),
      },
      baseTopic: c.mqtt.base_topic,
      discovery: { enabled: c.mqtt.discovery, prefix: c.mqtt.discovery_prefix },
      // Several bridges on one broker each have their own base topic; naming the device after it keeps
      // Home Assistant's entity ids apart (README "Home Assistant entities"). The default keeps the old name.
      bridge:
        c.mqtt.base_topic === DEFAULTS.mqtt.base_topic
          ? { version: this.#o.version, name: 'Qobuz Connect Bridge' }
          : {
              version: this.#o.version,
              name: `Qobuz Connect Bridge (${c.mqtt.base_topic})`,
              uniqueIdScope: c.mqtt.base_topic.toLowerCase().replace(/[^a-z0-9_]/g, '_'),
            },
      players: c.players.map((p) => ({
        id: p.id,
        name: p.name,
        uuid: playerUuid(p),
        model: PRODUCT_MODEL,
        deviceType: p.device_type,
        volumeMode: p.volume.mode,
      })),
      onCommand: (playerId: string, cmd: PlayerCommand) => this.#command(playerId, cmd),
      ...(this.#account ? { session: (cmd: AccountSessionCommand) => this.#account!.command(cmd) } : {}),
      logger: this.#log.child({ module: 'mqtt' }),
      redactor: this.#redactor,
    });
    await this.#mqtt.start();
  }

  #command(playerId: string, cmd: PlayerCommand): Promise<void> {
    const runtime = this.#players.get(playerId);
    if (!runtime) return Promise.reject(new QcbError('ERR_BAD_COMMAND', `unknown player ${playerId}`));
    // The recorder is the bridge's, not the session's: `record` goes alone (command-parser.ts).
    if (cmd.record !== undefined) return this.diagnostics.setRecording(playerId, cmd.record);
    return runtime.session.command(cmd);
  }

  #buildHttp(reserved: readonly string[]): HttpServer {
    const c = this.#o.config;
    return new HttpServer({
      port: c.http.port,
      bind: c.http.bind,
      players: c.players.map((p) => ({
        id: p.id,
        name: p.name,
        uuid: playerUuid(p),
        deviceType: deviceTypeName(p),
        maxAudioQuality: QUALITY_NAMES[playerMaxQuality(c.qobuz.max_quality, p.max_quality)],
      })),
      appId: c.qobuz.app_id ?? '',
      brand: PRODUCT_NAME,
      model: PRODUCT_MODEL,
      allowedEndpointHosts: c.qobuz.allowed_endpoint_hosts,
      currentSessionId: (id) => this.#players.get(id)?.sessionId ?? '',
      onConnect: (id: string, request: ConnectRequest) => this.#connect(id, request),
      onConnectRefused: (player, reason) => this.metrics.connects.inc({ player, result: 'refused', reason }),
      reservedHosts: reserved,
      resolveStream: (id, token) => this.#players.get(id)?.resolveStream(token) ?? Promise.resolve(null),
      cover: (id) => this.#players.get(id)?.cover() ?? Promise.resolve(null),
      health: () => this.health(),
      metrics: () => this.metrics.render(),
      diagnostics: () => this.report(),
      diagnosticsToken: c.diagnostics.token,
      logger: this.#log.child({ module: 'http' }),
      advertiseAddress: this.#advertiseAddress,
      redact: (text) => this.#redactor.scrubString(text),
      ...(this.#o.httpLimits ? { limits: this.#o.httpLimits } : {}),
    });
  }

  async #connect(playerId: string, request: ConnectRequest): Promise<void> {
    const runtime = this.#players.get(playerId);
    if (!runtime) throw new QcbError('ERR_BAD_COMMAND', `unknown player ${playerId}`);
    await runtime.connect(request);
  }
}

function isStreamUrlOf(uri: string, playerId: string): boolean {
  try {
    return new URL(uri).pathname.startsWith(`/stream/${playerId}/`);
  } catch {
    return false;
  }
}

/** `players[].volume.mode: snapcast` (README "Multi-room with Snapcast"): volume and mute go to the Snapcast group, playback stays MPD's. */
function withVolumeControl(mpd: Player, p: PlayerConfig, log: Logger): Player {
  const snap = p.volume.snapcast;
  if (p.volume.mode !== 'snapcast' || !snap) return mpd;
  const volume = new SnapcastVolume({
    host: snap.host,
    port: snap.port,
    group: snap.group,
    stream: snap.stream,
    logger: log.child({ module: 'snapcast' }),
  });
  return new VolumeRoutedPlayer(mpd, volume, log);
}
