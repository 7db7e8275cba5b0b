import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFlac } from './audio-fixtures.js';
import { AudioHttpServer } from './audio-http-server.js';
import { MdnsBrowser } from './mdns-browser.js';
import { connectProbe, startMosquitto, type MosquittoServer, type MqttProbe } from './mosquitto-server.js';
import { startMpd, type MpdServer } from './mpd-server.js';
import { QconnectService } from './qconnect-service.js';
import { QobuzApiStub } from './qobuz-api-stub.js';

/**
 * Everything around a bridge that runs as its own process from a config file (e2e and crash
 * tests): the Qobuz REST stub and its CDN with generated FLAC tracks, the simulated Qobuz
 * service, real Mosquitto and MPD, a recording MQTT probe, a loopback mDNS browser, and the
 * config file itself — one player with a fresh name and uuid on loopback-only mDNS.
 */
export interface ProcessFixture {
  readonly name: string;
  readonly uuid: string;
  readonly configFile: string;
  readonly trackIds: number[];
  /** The album image the CDN serves for each track (with `covers`), else empty. */
  readonly covers: Buffer[];
  readonly cdn: AudioHttpServer;
  readonly api: QobuzApiStub;
  readonly service: QconnectService;
  readonly mosquitto: MosquittoServer;
  readonly mpd: MpdServer;
  readonly probe: MqttProbe;
  readonly browser: MdnsBrowser;
  close(): Promise<void>;
}

export async function startProcessFixture(options: {
  /** Track lengths in seconds; distinct lengths let MPD's `duration` name the item it plays. */
  readonly durations: readonly number[];
  readonly namePrefix: string;
  /** Topics the probe subscribes to from the start. */
  readonly subscribe: readonly string[];
  /** Give every track an album image of its own on the CDN (`track/get` names it). */
  readonly covers?: boolean;
}): Promise<ProcessFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'qcb-process-'));
  const name = `${options.namePrefix} ${randomUUID().slice(0, 6)}`;
  const uuid = randomUUID();
  const cdn = new AudioHttpServer();
  await cdn.start();
  const api = new QobuzApiStub({ cdn });
  await api.start();
  const trackIds: number[] = [];
  const covers: Buffer[] = [];
  for (const [i, seconds] of options.durations.entries()) {
    const file = await makeFlac({ dir, name: `t${i}.flac`, seconds, frequencyHz: 440 + 100 * i });
    const id = 7000 + i;
    if (options.covers) {
      // A JPEG header and random bytes: large enough that MPD hands it out in several chunks.
      covers.push(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0 + i]), randomBytes(30_000)]));
      writeFileSync(join(dir, `cover-${i}.jpg`), covers[i]!);
      cdn.add(`/img/cover-${i}.jpg`, join(dir, `cover-${i}.jpg`));
    }
    api.addTrack({
      id,
      title: `Song ${i + 1}`,
      artist: 'Test Artist',
      album: 'Test Album',
      durationMs: seconds * 1000,
      formats: { 6: { file, bitDepth: 16, samplingRateKhz: 44.1 } },
      ...(options.covers ? { coverUrl: cdn.url(`/img/cover-${i}.jpg`) } : {}),
    });
    trackIds.push(id);
  }
  const service = new QconnectService();
  await service.start();
  const mosquitto = await startMosquitto();
  const mpd = await startMpd();
  const probe = await connectProbe(mosquitto.url);
  await probe.subscribe(...options.subscribe);
  const browser = await MdnsBrowser.open();
  const configFile = join(dir, 'config.yaml');
  writeFileSync(
    configFile,
    [
      'qobuz:',
      `  app_id: "${api.appId}"`,
      `  app_secret: "${api.appSecret}"`,
      `  api_base_url: ${api.baseUrl}`,
      '  allowed_endpoint_hosts: ["127.0.0.1"]',
      '  max_quality: cd',
      'http: { port: 0, bind: 127.0.0.1, advertise_address: 127.0.0.1 }',
      'mdns: { interfaces: [lo] }',
      `mqtt: { url: "${mosquitto.url}" }`,
      'players:',
      '  - id: living_room',
      `    name: ${name}`,
      `    uuid: ${uuid}`,
      `    mpd: { host: 127.0.0.1, port: ${mpd.port} }`,
    ].join('\n'),
  );
  return {
    name,
    uuid,
    configFile,
    trackIds,
    covers,
    cdn,
    api,
    service,
    mosquitto,
    mpd,
    probe,
    browser,
    async close() {
      await browser.close();
      await probe.end();
      await mpd.stop();
      await mosquitto.stop();
      await service.stop();
      await api.stop();
      await cdn.stop();
    },
  };
}
