import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeFlac } from '../test/support/audio-fixtures.js';
import { AudioHttpServer } from '../test/support/audio-http-server.js';
import { freePort } from '../test/support/free-port.js';
import { startMosquitto, type MosquittoServer } from '../test/support/mosquitto-server.js';
import { startMpd, type MpdServer } from '../test/support/mpd-server.js';
import { QconnectService, type SimSession } from '../test/support/qconnect-service.js';
import { QobuzApiStub } from '../test/support/qobuz-api-stub.js';
import { FuzzRandom } from '../test/support/fuzz-random.js';
import { BridgeChild } from './support-chaos-bridge.js';
import { MqttWatch } from './support-chaos-mqtt.js';

const run = promisify(execFile);

/**
 * bench/chaos's world: N players (each its own real MPD) in one bridge process started from
 * the CLI, one real Mosquitto, the simulated Qobuz service and REST stub (with a user token,
 * so the bridge mints its own WebSocket tokens and stays in its sessions), and a CDN serving
 * real FLAC files. Each player is picked by "the app" in a session of its own and plays a
 * looping queue of tracks of distinct lengths: MPD's `duration` names the track it plays.
 */
export interface ChaosPlayer {
  readonly index: number;
  readonly id: string;
  readonly uuid: string;
  readonly mpd: MpdServer;
  /** The app's session the player was picked in. */
  sim: SimSession;
  rendererId: number;
  /** What the commands sent so far ask of it. */
  intent: 'play' | 'pause';
  /** Silence is forced (a fault or a command that stops the audio for a while) until then (ms epoch). */
  silenceGraceUntil: number;
  /** MPD is down (killed, not restarted yet). */
  mpdDown: boolean;
  /**
   * MPD is back from a restart, but the bridge has not restored its window on it yet (the player
   * is not online on MQTT again): what an `mpc` command does meanwhile, the restore overwrites.
   */
  unrestored: boolean;
}

export interface ChaosRigOptions {
  readonly players: number;
  readonly trackSeconds: readonly number[];
  /** Lifetime of every WebSocket token (the app's and the minted ones), seconds; the service drops links at expiry. */
  readonly tokenSeconds: number;
  readonly seed: number;
  /** Append the bridge's whole log (JSON lines, info and up) to this file. */
  readonly logFile?: string;
}

export const BASE_TOPIC = 'qobuz-connect';
/** A track id the REST stub does not know: track/get and track/getFileUrl answer 404. */
export const MISSING_TRACK = 9_000_001;

export class ChaosRig {
  readonly players: ChaosPlayer[] = [];
  readonly trackIds: number[] = [];
  /** Rounded track length (s) -> track id. */
  readonly trackBySeconds = new Map<number, number>();
  /** The title the REST stub gives each track (the bridge tags MPD's songs with it) -> track id. */
  readonly trackByTitle = new Map<string, number>();
  brokerDown = false;
  /** Tokens minted by qws/createToken for the bridge. */
  minted = 0;

  private constructor(
    readonly dir: string,
    readonly cdn: AudioHttpServer,
    readonly api: QobuzApiStub,
    readonly service: QconnectService,
    readonly mosquitto: MosquittoServer,
    readonly bridge: BridgeChild,
    readonly mqtt: MqttWatch,
    readonly httpPort: number,
    readonly options: ChaosRigOptions,
  ) {}

  static async start(o: ChaosRigOptions): Promise<ChaosRig> {
    const dir = mkdtempSync(join(tmpdir(), 'qcb-chaos-'));
    const cdn = new AudioHttpServer();
    await cdn.start();
    const lifetimes = new FuzzRandom(o.seed ^ 0x5eed);
    let service: QconnectService | null = null;
    let rigRef: ChaosRig | null = null;
    const api = new QobuzApiStub({
      cdn,
      // What qws/createToken mints: an account token; the service lets it rejoin the session its join names.
      mintQwsToken: () => {
        if (!service) throw new Error('qws/createToken before the simulated service started');
        if (rigRef) rigRef.minted += 1;
        const t = service.mintAccountToken({
          expiresInSeconds: Math.round(o.tokenSeconds * (1 + lifetimes.next() * 0.5)),
        });
        return { jwt: t.jwt, exp: t.exp, endpoint: t.endpoint };
      },
    });
    await api.start();
    const userAuthToken = api.issueUserAuthToken();
    const trackIds: number[] = [];
    for (const [i, s] of o.trackSeconds.entries()) {
      const id = 5000 + i;
      const file = await makeFlac({ dir, name: `track-${i}.flac`, seconds: s, frequencyHz: 330 + 55 * i });
      api.addTrack({
        id,
        title: `Track ${i + 1}`,
        artist: 'Chaos Artist',
        album: 'Chaos Album',
        durationMs: Math.round(s * 1000),
        formats: { 6: { file, bitDepth: 16, samplingRateKhz: 44.1 } },
      });
      trackIds.push(id);
    }
    service = new QconnectService({ dropLinksAtTokenExpiry: true, accountTokensJoinNamedSession: true });
    await service.start();
    const mosquitto = await startMosquitto();
    const mpds = await Promise.all(Array.from({ length: o.players }, () => startMpd()));
    const httpPort = await freePort();
    const uuids = mpds.map(() => randomUUID());
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        qobuz: {
          app_id: api.appId,
          app_secret: api.appSecret,
          api_base_url: api.baseUrl,
          allowed_endpoint_hosts: ['127.0.0.1'],
          max_quality: 'cd',
          user_auth_token: userAuthToken,
        },
        http: { port: httpPort, bind: '127.0.0.1', advertise_address: '127.0.0.1' },
        mdns: { interfaces: ['lo'] },
        mqtt: { url: mosquitto.url, base_topic: BASE_TOPIC },
        players: mpds.map((mpd, i) => ({
          id: `room_${i + 1}`,
          name: `Chaos Room ${i + 1} ${randomUUID().slice(0, 6)}`,
          uuid: uuids[i],
          mpd: { host: mpd.host, port: mpd.port },
          volume: { min: 0, max: 100 },
        })),
      }),
    );
    const mqtt = await MqttWatch.connect(mosquitto.url, BASE_TOPIC);
    const bridge = new BridgeChild(file, o.logFile);
    const rig = new ChaosRig(dir, cdn, api, service, mosquitto, bridge, mqtt, httpPort, o);
    rig.trackIds.push(...trackIds);
    for (const [i, s] of o.trackSeconds.entries()) {
      rig.trackBySeconds.set(Math.round(s), trackIds[i] ?? 0);
      rig.trackByTitle.set(`Track ${i + 1}`, trackIds[i] ?? 0);
    }
    rigRef = rig;
    await rig.#waitHealthy();
    for (const [i, mpd] of mpds.entries()) {
      rig.players.push({
        index: i,
        id: `room_${i + 1}`,
        uuid: uuids[i] ?? '',
        mpd,
        sim: service.session(randomUUID()),
        rendererId: -1,
        intent: 'play',
        silenceGraceUntil: 0,
        mpdDown: false,
        unrestored: false,
      });
    }
    return rig;
  }

  /** The app picks player `p` in a new session of its own, loads the looping queue (rotated per player) and plays it. */
  async pick(p: ChaosPlayer): Promise<void> {
    const token = this.service.issueToken({ expiresInSeconds: this.options.tokenSeconds });
    const jwtApi = this.api.issueJwtApi();
    const res = await fetch(`http://127.0.0.1:${this.httpPort}/devices/${p.uuid}/connect-to-qconnect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        session_id: token.sessionId,
        jwt_qconnect: { jwt: token.jwt, exp: token.exp, endpoint: token.endpoint },
        jwt_api: { jwt: jwtApi.jwt, exp: jwtApi.exp, endpoint: this.api.baseUrl },
        become_active: true,
      }),
    });
    if (res.status !== 200) throw new Error(`connect-to-qconnect answered ${res.status}: ${await res.text()}`);
    p.sim = this.service.session(token.sessionId);
    p.rendererId = await p.sim.waitForRenderer(p.uuid, { timeoutMs: 20_000 });
    await p.sim.waitFor(() => p.sim.activeRendererId === p.rendererId, {
      what: `${p.id} active`,
      timeoutMs: 20_000,
    });
    const n = this.trackIds.length;
    p.sim.loadQueue(Array.from({ length: n }, (_, i) => this.trackIds[(i + p.index) % n] ?? 0));
    p.sim.setLoop('REPEAT_ALL');
    p.sim.jump(0, { playing: true });
    p.intent = 'play';
    await p.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.2, 20_000);
  }

  /** The renderer is connected to the service and the active one of its session (the app can reach it). */
  reachable(p: ChaosPlayer): boolean {
    const r = p.sim.renderers().find((x) => x.rendererId === p.rendererId);
    return r?.connected === true && r.active;
  }

  /** `mpc` (a real MPD client) on the player's MPD. */
  async mpc(p: ChaosPlayer, args: string[]): Promise<void> {
    await run('mpc', ['-q', '-h', p.mpd.host, '-p', String(p.mpd.port), ...args], { timeout: 5000 });
  }

  async stop(): Promise<void> {
    const exit = await this.bridge.stop();
    await this.mqtt.end();
    for (const p of this.players) await p.mpd.stop().catch(() => undefined);
    await this.mosquitto.stop();
    await this.service.stop();
    await this.api.stop();
    await this.cdn.stop();
    rmSync(this.dir, { recursive: true, force: true });
    if (exit.code !== 0) throw new Error(`the bridge exited with ${exit.code ?? exit.signal} at SIGTERM`);
  }

  async #waitHealthy(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!this.bridge.running)
        throw new Error(`the bridge exited at start:\n${this.bridge.tail().slice(-20).join('\n')}`);
      const ok = await fetch(`http://127.0.0.1:${this.httpPort}/healthz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`the bridge did not answer /healthz within 30 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
