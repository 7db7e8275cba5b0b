import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bridge } from '../../src/app/bridge.js';
import type { Config } from '../../src/config/config-schema.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/util/logger.js';
import { makeFlac } from './audio-fixtures.js';
import { AudioHttpServer } from './audio-http-server.js';
import { connectProbe, startMosquitto, type MosquittoServer, type MqttProbe } from './mosquitto-server.js';
import { startMpd, type MpdServer } from './mpd-server.js';
import { QconnectService, SimRenderer, type SimSession } from './qconnect-service.js';
import { QobuzApiStub } from './qobuz-api-stub.js';

/**
 * The account's whole session (README "The Qobuz session", issue #24): one bridge with two players
 * (each its own real MPD), a user token so both join the account's session in the background, real
 * Mosquitto with a probe on the base topic, the simulated service, the REST stub and its CDN; and
 * other renderers of the same account to add (a phone, a Connect speaker the bridge does not drive).
 */
export const BASE = 'qobuz-connect';

export interface SessionRig {
  readonly bridge: Bridge;
  readonly config: Config;
  readonly service: QconnectService;
  /** The account's session in the simulated service. */
  readonly sim: SimSession;
  readonly api: QobuzApiStub;
  readonly mosquitto: MosquittoServer;
  readonly probe: MqttProbe;
  /** MPD of living_room, then kitchen. */
  readonly mpds: readonly [MpdServer, MpdServer];
  readonly trackIds: number[];
  readonly logs: string[];
  /** Configured name and uuid of each player. */
  readonly players: Record<'living_room' | 'kitchen', { name: string; uuid: string }>;
  /** Another renderer of the account, joined as the official apps join (61); `takeOver` as a real speaker does. */
  join(name: string, o?: { deviceType?: number; takeOver?: boolean }): Promise<SimRenderer>;
  close(): Promise<void>;
}

export async function startSessionRig(o: { cloud?: boolean; trackSeconds?: number } = {}): Promise<SessionRig> {
  const dir = mkdtempSync(join(tmpdir(), 'qcb-session-'));
  const cdn = new AudioHttpServer();
  await cdn.start();
  let service: QconnectService | null = null;
  const api = new QobuzApiStub({
    cdn,
    mintQwsToken: () => {
      if (!service) throw new Error('qws/createToken before the simulated service started');
      const t = service.mintAccountToken();
      return { jwt: t.jwt, exp: t.exp, endpoint: t.endpoint };
    },
  });
  await api.start();
  const trackIds: number[] = [];
  for (const i of [0, 1]) {
    const file = await makeFlac({ dir, name: `t${i}.flac`, seconds: o.trackSeconds ?? 60, frequencyHz: 440 + 110 * i });
    const id = 7000 + i;
    api.addTrack({
      id,
      title: `Session Track ${i + 1}`,
      artist: 'Session Artist',
      album: 'Session Album',
      durationMs: (o.trackSeconds ?? 60) * 1000,
      formats: { 6: { file, bitDepth: 16, samplingRateKhz: 44.1 } },
    });
    trackIds.push(id);
  }
  const svc = new QconnectService();
  await svc.start();
  service = svc;
  const mosquitto = await startMosquitto();
  const mpds = [await startMpd(), await startMpd()] as const;
  // Fresh names and uuids per rig: test files run side by side on the same loopback mDNS.
  const tag = randomUUID().slice(0, 6);
  const players = {
    living_room: { name: `Living Room ${tag}`, uuid: randomUUID() },
    kitchen: { name: `Kitchen ${tag}`, uuid: randomUUID() },
  };
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
        user_auth_token: api.issueUserAuthToken(),
        ...(o.cloud !== undefined ? { cloud: o.cloud } : {}),
      },
      http: { port: 0, bind: '127.0.0.1', advertise_address: '127.0.0.1' },
      mdns: { interfaces: ['lo'] },
      mqtt: { url: mosquitto.url, base_topic: BASE },
      players: (['living_room', 'kitchen'] as const).map((id, i) => ({
        id,
        name: players[id].name,
        uuid: players[id].uuid,
        mpd: { host: mpds[i]!.host, port: mpds[i]!.port },
      })),
    }),
  );
  const config = loadConfig({ file, env: {} });
  const probe = await connectProbe(mosquitto.url);
  await probe.subscribe(`${BASE}/#`);
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', format: 'json', destination: { write: (l: string) => void logs.push(l) } });
  const bridge = new Bridge({
    config,
    logger,
    version: '0.1.0-test',
    sessionTuning: { backoffStepsMs: [50, 100, 200], pingIntervalMs: 1000, deadAfterMs: 3000, mediaStepTimeoutMs: 8000 },
  });
  await bridge.start();
  const renderers: SimRenderer[] = [];
  return {
    bridge,
    config,
    service: svc,
    sim: svc.session(svc.accountSessionId),
    api,
    mosquitto,
    probe,
    mpds,
    trackIds,
    logs,
    players,
    async join(name, j = {}) {
      const token = svc.mintAccountToken();
      const r = await SimRenderer.connect({
        endpoint: token.endpoint,
        jwt: token.jwt,
        sessionId: token.sessionId,
        deviceUuid: randomUUID(),
        name,
        ...(j.deviceType ? { deviceType: j.deviceType } : {}),
        ...(j.takeOver ? { takeOver: true } : {}),
      });
      renderers.push(r);
      return r;
    },
    async close() {
      for (const r of renderers) await r.close().catch(() => undefined);
      await bridge.stop();
      await probe.end();
      for (const m of mpds) await m.stop();
      await mosquitto.stop();
      await svc.stop();
      await api.stop();
      await cdn.stop();
    },
  };
}
