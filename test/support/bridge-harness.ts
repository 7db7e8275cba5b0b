import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bridge } from '../../src/app/bridge.js';
import type { BoundedRing } from '../../src/diagnostics/bounded-ring.js';
import type { HttpLimits } from '../../src/discovery/http-server.js';
import type { Config } from '../../src/config/config-schema.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/util/logger.js';
import { makeFlac } from './audio-fixtures.js';
import { AudioHttpServer } from './audio-http-server.js';
import { startMosquitto, type MosquittoServer } from './mosquitto-server.js';
import { startMpd, type MpdServer, type StartMpdOptions } from './mpd-server.js';
import { QconnectService, type IssuedToken, type ServiceBehaviours, type SimSession } from './qconnect-service.js';
import { QobuzApiStub, type StubTrack } from './qobuz-api-stub.js';

/**
 * The whole bridge in this process, built from a config file like the CLI builds it, with real
 * MPD and real Mosquitto, the simulated Qobuz service (WebSocket), the Qobuz REST stub and its
 * CDN serving generated FLAC files. Used by the bridge-level scenarios of issues #5 and #6.
 */
export interface BridgeHarness {
  readonly bridge: Bridge;
  readonly config: Config;
  readonly mpd: MpdServer;
  readonly mosquitto: MosquittoServer | null;
  readonly service: QconnectService;
  readonly api: QobuzApiStub;
  readonly cdn: AudioHttpServer;
  readonly trackIds: number[];
  readonly logs: string[];
  readonly playerId: string;
  readonly playerUuid: string;
  /** WebSocket tokens qws/createToken minted for the user token, in order (README "Own Qobuz identity"). */
  readonly minted: IssuedToken[];
  /**
   * Plays the Qobuz app: POSTs connect-to-qconnect and waits for our renderer to join and (unless
   * `becomeActive: false`) to be the active one; `loadQueue` then loads every generated track.
   */
  connectApp(opts?: {
    becomeActive?: boolean;
    loadQueue?: boolean;
    /** Pick us again in this session (default: a new session). */
    sessionId?: string;
  }): Promise<{ sim: SimSession; rendererId: number; jwt: string; jwtApi: string }>;
  close(): Promise<void>;
}

export interface BridgeHarnessOptions {
  /** Length of each generated track, seconds (one Qobuz track each). */
  readonly trackSeconds?: number[];
  /** More `track/get` metadata for track `i` (cover, album artist, number, date). */
  readonly trackExtras?: (i: number, cdn: AudioHttpServer) => Partial<Omit<StubTrack, 'id' | 'formats'>>;
  readonly mqtt?: 'mosquitto' | 'embedded';
  /** Every track as a FLAC of this format (default 16-bit / 44.1 kHz, served as format 6; 24-bit as format 7). */
  readonly trackFormat?: { readonly sampleRate: number; readonly bitDepth: 16 | 24 };
  /** `qobuz.max_quality` (default `cd`). */
  readonly qobuzMaxQuality?: 'mp3' | 'cd' | 'hires_96' | 'hires_192';
  /** How the harness's MPD is started (an output format, other outputs). */
  readonly mpdOptions?: StartMpdOptions;
  /** Point `players[].mpd.config_file` at the harness MPD's config (issue #23). */
  readonly mpdConfigFile?: boolean;
  readonly volume?: {
    min: number;
    max: number;
    mode?: 'mpd' | 'fixed' | 'external' | 'snapcast';
    report_timeout_ms?: number;
    snapcast?: { host: string; port: number; group?: string | null; stream?: string | null };
  };
  /** `players[].max_quality` (issue #23); the bridge's `qobuz.max_quality` here is `cd`. */
  readonly playerMaxQuality?: 'mp3' | 'cd' | 'hires_96' | 'hires_192';
  readonly heartbeatMs?: number;
  /** Link keepalive (defaults here: ping every 1 s, dead after 3 s, so faults show quickly). */
  readonly pingIntervalMs?: number;
  readonly deadAfterMs?: number;
  /** Runs once MPD and Mosquitto are up, before the bridge starts (set MPD's volume, subscribe a probe). */
  readonly beforeBridge?: (ctx: { mpd: MpdServer; mosquitto: MosquittoServer | null }) => Promise<void>;
  /** Point the player at a port where no MPD listens (the real MPD still runs, for `close`). */
  readonly mpdUnreachable?: boolean;
  /** `mqtt.base_topic`; with it the player's uuid is left to the bridge to derive (unique per base topic). */
  readonly baseTopic?: string;
  /**
   * README "Own Qobuz identity": a `qobuz.user_auth_token` the REST stub knows (true) or this text.
   * The stub's qws/createToken mints tokens of the simulated service for the session of the last
   * connectApp, else for the account's session (`service.accountSessionId`), each lasting
   * `mintLifetimeSeconds(n)` for the n-th mint, else `tokenSeconds`.
   */
  readonly userAuthToken?: boolean | string;
  /** `qobuz.cloud` (default: the bridge's, on with a user token). */
  readonly cloud?: boolean;
  readonly mintLifetimeSeconds?: (n: number) => number;
  /** Lifetime of every WebSocket token (the app's and minted ones), seconds (default 3600). */
  readonly tokenSeconds?: number;
  /** How long before expiry the bridge mints the next token. */
  readonly tokenRenewAheadMs?: number;
  /** The simulated service drops a link the moment its token expires (as a strict service may). */
  readonly dropLinksAtTokenExpiry?: boolean;
  /** The simulated service's switches for what the real one was never seen doing (qconnect-behaviours.ts). */
  readonly behaviours?: Partial<ServiceBehaviours>;
  /** Session tuning for play_media / transfer and the cloud join's retries. */
  readonly mediaStepTimeoutMs?: number;
  readonly mediaPlayTimeoutMs?: number;
  readonly cloudRetryStepsMs?: readonly number[];
  /** The link's reconnect backoff (default 50, 100, 200 ms, so faults show quickly). */
  readonly backoffStepsMs?: readonly number[];
  /** `mqtt.username` / `mqtt.password` (the embedded broker honours them). */
  readonly mqttCredentials?: { readonly username: string; readonly password: string };
  /** The config's `diagnostics` section (README "Reporting a problem"). */
  readonly diagnostics?: Record<string, unknown>;
  /** A ring the logger tees its lines into, handed to the bridge as main.ts does (issue #21). */
  readonly logLines?: BoundedRing<string>;
  /** HTTP limits (README "Security"): connect rate, per-host connection caps, timeouts. */
  readonly httpLimits?: Partial<HttpLimits>;
  /** How long an app's connect may take to be joined (make before break, issue #26). */
  readonly connectAcceptTimeoutMs?: number;
}

/** ciao answers on lo only once loopback is multicast-capable (root here; see test/support/mdns-browser.ts). */
function loopbackMulticast(): void {
  try {
    execFileSync('ip', ['link', 'set', 'lo', 'multicast', 'on'], { stdio: 'ignore' });
  } catch {
    // the discovery tests fail loudly on this; the bridge only logs it
  }
}

export async function startBridgeHarness(options: BridgeHarnessOptions = {}): Promise<BridgeHarness> {
  loopbackMulticast();
  const dir = mkdtempSync(join(tmpdir(), 'qcb-bridge-'));
  const cdn = new AudioHttpServer();
  await cdn.start();
  const minted: IssuedToken[] = [];
  let lastSessionId: string | null = null;
  let serviceRef: QconnectService | null = null;
  const api = new QobuzApiStub({
    cdn,
    mintQwsToken: () => {
      if (!serviceRef) throw new Error('qws/createToken before the simulated service started');
      const t = serviceRef.issueToken({
        sessionId: lastSessionId ?? serviceRef.accountSessionId,
        expiresInSeconds: options.mintLifetimeSeconds?.(minted.length) ?? options.tokenSeconds ?? 3600,
      });
      minted.push(t);
      return { jwt: t.jwt, exp: t.exp, endpoint: t.endpoint };
    },
  });
  await api.start();
  const userAuthToken =
    options.userAuthToken === true ? api.issueUserAuthToken() : options.userAuthToken ? options.userAuthToken : null;
  const trackIds: number[] = [];
  const seconds = options.trackSeconds ?? [4, 4, 4];
  for (const [i, s] of seconds.entries()) {
    const id = 5000 + i;
    const tf = options.trackFormat ?? { sampleRate: 44_100, bitDepth: 16 };
    const file = await makeFlac({
      dir,
      name: `track-${i}.flac`,
      seconds: s,
      frequencyHz: 330 + 110 * i,
      sampleRate: tf.sampleRate,
      bitDepth: tf.bitDepth,
    });
    const served = { file, bitDepth: tf.bitDepth, samplingRateKhz: tf.sampleRate / 1000 };
    api.addTrack({
      id,
      title: `Track ${i + 1}`,
      artist: 'Test Artist',
      album: 'Test Album',
      durationMs: Math.round(s * 1000),
      formats: tf.bitDepth === 24 ? { 7: served } : { 6: served },
      ...options.trackExtras?.(i, cdn),
    });
    trackIds.push(id);
  }
  const service = new QconnectService({
    dropLinksAtTokenExpiry: options.dropLinksAtTokenExpiry ?? false,
    ...(options.behaviours ? { behaviours: options.behaviours } : {}),
  });
  await service.start();
  serviceRef = service;
  const mosquitto = options.mqtt === 'embedded' ? null : await startMosquitto();
  const mpd = await startMpd(options.mpdOptions);
  const file = join(dir, 'config.json');
  writeFileSync(
    file,
    JSON.stringify({
      qobuz: {
        app_id: api.appId,
        app_secret: api.appSecret,
        api_base_url: api.baseUrl,
        allowed_endpoint_hosts: ['127.0.0.1'],
        max_quality: options.qobuzMaxQuality ?? 'cd',
        ...(userAuthToken ? { user_auth_token: userAuthToken } : {}),
        ...(options.cloud !== undefined ? { cloud: options.cloud } : {}),
      },
      http: { port: 0, bind: '127.0.0.1', advertise_address: '127.0.0.1' },
      mdns: { interfaces: ['lo'] },
      mqtt: {
        ...(mosquitto
          ? { url: mosquitto.url }
          : { embedded_port: await (await import('./free-port.js')).freePort() }),
        ...(options.baseTopic ? { base_topic: options.baseTopic } : {}),
        ...(options.mqttCredentials ?? {}),
      },
      ...(options.diagnostics ? { diagnostics: options.diagnostics } : {}),
      // A fresh uuid and name per harness: test files run side by side on the same loopback mDNS.
      players: [
        {
          id: 'living_room',
          name: `Living Room ${randomUUID().slice(0, 8)}`,
          uuid: options.baseTopic ? null : randomUUID(),
          mpd: {
            host: mpd.host,
            port: options.mpdUnreachable ? await (await import('./free-port.js')).freePort() : mpd.port,
            ...(options.mpdConfigFile ? { config_file: join(mpd.dir, 'mpd.conf') } : {}),
          },
          volume: options.volume ?? { min: 0, max: 100 },
          ...(options.playerMaxQuality ? { max_quality: options.playerMaxQuality } : {}),
        },
      ],
    }),
  );
  const config = loadConfig({ file, env: {} });
  const logs: string[] = [];
  const logger = createLogger({
    level: 'debug',
    format: 'json',
    destination: { write: (line: string) => void logs.push(line) },
    ...(options.logLines ? { tee: (line: string) => options.logLines?.push(line, line.length) } : {}),
  });
  await options.beforeBridge?.({ mpd, mosquitto });
  const bridge = new Bridge({
    config,
    logger,
    version: '0.1.0-test',
    ...(options.logLines ? { logLines: options.logLines } : {}),
    sessionTuning: {
      backoffStepsMs: options.backoffStepsMs ?? [50, 100, 200],
      pingIntervalMs: options.pingIntervalMs ?? 1000,
      deadAfterMs: options.deadAfterMs ?? 3000,
      ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
      ...(options.tokenRenewAheadMs ? { tokenRenewAheadMs: options.tokenRenewAheadMs } : {}),
      ...(options.mediaStepTimeoutMs ? { mediaStepTimeoutMs: options.mediaStepTimeoutMs } : {}),
      ...(options.mediaPlayTimeoutMs ? { mediaPlayTimeoutMs: options.mediaPlayTimeoutMs } : {}),
      ...(options.cloudRetryStepsMs ? { cloudRetryStepsMs: options.cloudRetryStepsMs } : {}),
      ...(options.connectAcceptTimeoutMs ? { connectAcceptTimeoutMs: options.connectAcceptTimeoutMs } : {}),
    },
    ...(options.httpLimits ? { httpLimits: options.httpLimits } : {}),
  });
  await bridge.start();
  const player = config.players[0]!;
  return {
    bridge,
    config,
    mpd,
    mosquitto,
    service,
    api,
    cdn,
    trackIds,
    logs,
    playerId: player.id,
    playerUuid: player.uuid ?? '',
    minted,
    async connectApp(o = {}) {
      const token = service.issueToken({
        ...(o.sessionId ? { sessionId: o.sessionId } : {}),
        ...(options.tokenSeconds ? { expiresInSeconds: options.tokenSeconds } : {}),
      });
      lastSessionId = token.sessionId;
      const jwtApi = api.issueJwtApi();
      const res = await fetch(
        `http://127.0.0.1:${bridge.httpPort}/devices/${player.uuid}/connect-to-qconnect`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            session_id: token.sessionId,
            jwt_qconnect: { jwt: token.jwt, exp: token.exp, endpoint: token.endpoint },
            jwt_api: { jwt: jwtApi.jwt, exp: jwtApi.exp, endpoint: api.baseUrl },
            become_active: o.becomeActive ?? true,
          }),
        },
      );
      if (res.status !== 200)
        throw new Error(`connect-to-qconnect answered ${res.status}: ${await res.text()}`);
      const sim = service.session(token.sessionId);
      const rendererId = await sim.waitForRenderer(player.uuid ?? '');
      if (o.becomeActive ?? true)
        await sim.waitFor(() => sim.activeRendererId === rendererId, { what: 'our renderer active' });
      if (o.loadQueue) sim.loadQueue(trackIds);
      return { sim, rendererId, jwt: token.jwt, jwtApi: jwtApi.jwt };
    },
    async close() {
      await bridge.stop();
      await mpd.stop();
      await mosquitto?.stop();
      await service.stop();
      await api.stop();
      await cdn.stop();
    },
  };
}
