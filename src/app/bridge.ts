import type { Logger } from 'pino';
import type { Config, PlayerConfig } from '../config/config-schema.js';
import { deviceTypeName, playerUuid } from '../config/config-schema.js';
import { DEFAULTS } from '../config/defaults.js';
import type { ConnectRequest } from '../core/connect-request.js';
import type { PlayableItem, Player } from '../core/player.js';
import type { PlayerCommand } from '../core/player-view.js';
import { PRODUCT_MODEL, PRODUCT_NAME, QUALITY_NAMES, playerMaxQuality } from '../core/product.js';
import { QcbError, errorMessage } from '../core/qcb-error.js';
import { StreamTokens, streamPath, stripStreamTokens } from '../core/stream-tokens.js';
import { HttpServer, type HttpLimits } from '../discovery/http-server.js';
import { MdnsAdvertiser } from '../discovery/mdns-advertiser.js';
import { resolveAdvertiseAddress } from '../discovery/resolve-advertise-address.js';
import { MpdPlayer } from '../mpd/mpd-player.js';
import { EmbeddedBroker } from '../mqtt/embedded-broker.js';
import { MqttAdapter } from '../mqtt/mqtt-adapter.js';
import { SnapcastVolume } from '../snapcast/snapcast-volume.js';
import { withTimeout } from '../util/abortable-sleep.js';
import { defaultRedactor, type Redactor } from '../util/redactor.js';
import { BridgeMetrics } from './bridge-metrics.js';
import { PlayerRuntime } from './player-runtime.js';
import { VolumeRoutedPlayer } from './volume-routed-player.js';
import type { SessionTuning } from './session-tuning.js';

export type { SessionTuning } from './session-tuning.js';

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
}

export class Bridge {
  readonly metrics = new BridgeMetrics();
  readonly tokens = new StreamTokens();
  readonly #o: BridgeOptions;
  readonly #log: Logger;
  readonly #players = new Map<string, PlayerRuntime>();
  readonly #redactor: Redactor;
  #http: HttpServer | null = null;
  #mdns: MdnsAdvertiser | null = null;
  #broker: EmbeddedBroker | null = null;
  #mqtt: MqttAdapter | null = null;
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
  }

  get httpPort(): number {
    return this.#http?.port ?? 0;
  }

  get mqttUrl(): string | null {
    return this.#o.config.mqtt.url ?? this.#broker?.url ?? null;
  }

  player(id: string): PlayerRuntime | undefined {
    return this.#players.get(id);
  }

  async start(): Promise<void> {
    const c = this.#o.config;
    this.#advertiseAddress = resolveAdvertiseAddress(c.http.advertise_address, c.mdns.interfaces);
    this.#log.info({ address: this.#advertiseAddress }, 'advertising address');
    for (const p of c.players) this.#players.set(p.id, this.#buildPlayer(p));
    await this.#startMqtt();
    this.#http = this.#buildHttp();
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
    await step(
      'sessions and players',
      () => Promise.all([...this.#players.values()].map((p) => p.stop())),
      2000,
    );
    await step('mdns', async () => this.#mdns?.stop());
    await step('mqtt', async () => this.#mqtt?.stop());
    await step('broker', async () => this.#broker?.stop(), 500);
    await step('http', async () => this.#http?.stop(), 500);
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
      ...(this.#o.sessionTuning ? { tuning: this.#o.sessionTuning } : {}),
    });
    return runtime;
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
        logger: this.#log.child({ module: 'broker' }),
      });
      await this.#broker.start();
      url = this.#broker.url;
      this.#log.info({ url }, 'embedded MQTT broker running');
    }
    const tls = c.mqtt.tls;
    this.#mqtt = new MqttAdapter({
      link: {
        url,
        username: c.mqtt.username,
        password: c.mqtt.password,
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
      logger: this.#log.child({ module: 'mqtt' }),
      redactor: this.#redactor,
    });
    await this.#mqtt.start();
  }

  #command(playerId: string, cmd: PlayerCommand): Promise<void> {
    const runtime = this.#players.get(playerId);
    if (!runtime) return Promise.reject(new QcbError('ERR_BAD_COMMAND', `unknown player ${playerId}`));
    return runtime.command(cmd);
  }

  #buildHttp(): HttpServer {
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
      resolveStream: (id, token) => this.#players.get(id)?.resolveStream(token) ?? Promise.resolve(null),
      cover: (id) => this.#players.get(id)?.cover() ?? Promise.resolve(null),
      health: () => this.health(),
      metrics: () => this.metrics.render(),
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
