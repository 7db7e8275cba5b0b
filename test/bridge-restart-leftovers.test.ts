import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Bridge } from '../src/app/bridge.js';
import { loadConfig } from '../src/config/load-config.js';
import { createLogger } from '../src/util/logger.js';
import { AudioHttpServer } from './support/audio-http-server.js';
import { connectProbe, startMosquitto, type MosquittoServer } from './support/mosquitto-server.js';
import { startMpd, type MpdServer } from './support/mpd-server.js';
import { QconnectService } from './support/qconnect-service.js';
import { QobuzApiStub } from './support/qobuz-api-stub.js';

/**
 * Issue #24, "Leave nothing behind" and "Show only what works", across a real restart on a real
 * Mosquitto: a bridge with two players and a user token runs, stops, and starts again with one
 * player removed and the token removed. Nothing retained of the removed player stays (state,
 * availability, queue, cover, anything else one level below it), nor the session's topics and
 * device; the kept player loses its identity entities; another bridge's topics are untouched.
 */
const B = 'qobuz-connect';
const PREFIX = 'homeassistant';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

interface Peers {
  readonly mosquitto: MosquittoServer;
  readonly mpds: MpdServer[];
  readonly service: QconnectService;
  readonly api: QobuzApiStub;
}

async function peers(): Promise<Peers> {
  const cdn = new AudioHttpServer();
  await cdn.start();
  cleanups.push(() => cdn.stop());
  let service: QconnectService | null = null;
  const api = new QobuzApiStub({
    cdn,
    mintQwsToken: () => {
      const t = service!.mintAccountToken();
      return { jwt: t.jwt, exp: t.exp, endpoint: t.endpoint };
    },
  });
  await api.start();
  cleanups.push(() => api.stop());
  service = new QconnectService();
  await service.start();
  cleanups.push(() => service.stop());
  const mosquitto = await startMosquitto();
  cleanups.push(() => mosquitto.stop());
  const mpds = [await startMpd(), await startMpd()];
  cleanups.push(async () => {
    for (const m of mpds) await m.stop();
  });
  return { mosquitto, mpds, service, api };
}

async function runBridge(p: Peers, o: { players: Array<{ id: string; uuid: string; mpd: MpdServer }>; token: boolean }): Promise<Bridge> {
  const file = join(mkdtempSync(join(tmpdir(), 'qcb-restart-')), 'config.json');
  writeFileSync(
    file,
    JSON.stringify({
      qobuz: {
        app_id: p.api.appId,
        app_secret: p.api.appSecret,
        api_base_url: p.api.baseUrl,
        allowed_endpoint_hosts: ['127.0.0.1'],
        ...(o.token ? { user_auth_token: p.api.issueUserAuthToken() } : {}),
      },
      http: { port: 0, bind: '127.0.0.1', advertise_address: '127.0.0.1' },
      mdns: { interfaces: ['lo'] },
      mqtt: { url: p.mosquitto.url, base_topic: B },
      players: o.players.map((x) => ({ id: x.id, name: `${x.id} ${x.uuid.slice(0, 6)}`, uuid: x.uuid, mpd: { host: x.mpd.host, port: x.mpd.port } })),
    }),
  );
  const bridge = new Bridge({
    config: loadConfig({ file, env: {} }),
    logger: createLogger({ level: 'warn', format: 'json', destination: { write: () => undefined } }),
    version: '0.1.0-test',
  });
  await bridge.start();
  return bridge;
}

/** Everything retained under `filters` now, as a fresh subscriber sees it. */
async function retained(url: string, ...filters: string[]): Promise<Map<string, string>> {
  const probe = await connectProbe(url);
  try {
    await probe.subscribe(...filters);
    await probe.flush();
    return new Map(probe.messages.filter((m) => m.retain).map((m) => [m.topic, m.payload]));
  } finally {
    await probe.end();
  }
}

describe('a restart with a player and the user token removed (issue #24)', () => {
  it('leaves no retained topic of the removed player nor of the session, offers no identity entities, and spares other bridges', async () => {
    const p = await peers();
    const living = { id: 'living_room', uuid: randomUUID(), mpd: p.mpds[0]! };
    const attic = { id: 'attic', uuid: randomUUID(), mpd: p.mpds[1]! };
    const first = await runBridge(p, { players: [living, attic], token: true });
    let firstStopped = false;
    cleanups.push(async () => {
      if (!firstStopped) await first.stop();
    });
    const watch = await connectProbe(p.mosquitto.url);
    cleanups.push(() => watch.end());
    await watch.subscribe(`${B}/#`);
    // Both joined the account's session: the session view lists them.
    await watch.waitFor((m) => m.topic === `${B}/session/state` && (JSON.parse(m.payload) as { devices: unknown[] }).devices.length === 2, { timeoutMs: 20_000 });
    await watch.waitFor((m) => m.topic === `${B}/attic/queue`, { timeoutMs: 10_000 });
    await watch.waitFor((m) => m.topic === `${B}/attic/state`, { timeoutMs: 10_000 });
    await first.stop();
    firstStopped = true;
    // Left behind by the first run, and by hand; and another bridge's, whose base topic sits below ours.
    const seed = await connectProbe(p.mosquitto.url);
    cleanups.push(() => seed.end());
    await seed.publish(`${B}/attic/cover_url`, 'https://static.qobuz.com/x.jpg', { retain: true });
    await seed.publish(`${B}/attic/notes`, 'x', { retain: true });
    await seed.publish(`${B}/upstairs/attic/state`, '{"state":"playing"}', { retain: true });
    await seed.publish(`other-bridge/attic/state`, '{"state":"playing"}', { retain: true });
    let kept = await retained(p.mosquitto.url, `${B}/#`, `${PREFIX}/device/+/config`);
    const before = [...kept.keys()];
    expect(before).toEqual(expect.arrayContaining([`${B}/attic/state`, `${B}/attic/availability`, `${B}/attic/queue`, `${B}/session/state`]));
    expect(before).toContain(`${PREFIX}/device/qcb_session_qobuz_connect/config`);
    expect(JSON.parse(kept.get(`${PREFIX}/device/${living.uuid}/config`)!).cmps).toHaveProperty('play_media');

    const second = await runBridge(p, { players: [living], token: false });
    cleanups.push(() => second.stop());
    kept = await retained(p.mosquitto.url, `${B}/#`, `other-bridge/#`, `${PREFIX}/device/+/config`);
    expect([...kept.keys()].filter((t) => t.startsWith(`${B}/attic/`))).toEqual([]);
    expect([...kept.keys()].filter((t) => t.startsWith(`${B}/session/`))).toEqual([]);
    expect(kept.has(`${PREFIX}/device/${attic.uuid}/config`)).toBe(false);
    expect(kept.has(`${PREFIX}/device/qcb_session_qobuz_connect/config`)).toBe(false);
    expect(kept.get(`${B}/upstairs/attic/state`)).toBe('{"state":"playing"}');
    expect(kept.get(`other-bridge/attic/state`)).toBe('{"state":"playing"}');
    expect(kept.has(`${B}/living_room/availability`)).toBe(true);
    const cmps = JSON.parse(kept.get(`${PREFIX}/device/${living.uuid}/config`)!).cmps as Record<string, Record<string, unknown>>;
    expect([cmps.play_media, cmps.transfer, cmps.session_event]).toEqual([{ p: 'text' }, { p: 'button' }, { p: 'event' }]);
    expect(cmps.volume).toMatchObject({ p: 'number' });
  }, 90_000);
});
