import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil, sampleMpd } from '../support/fault-helpers.js';
import { spawnBridge, type BridgeProcess } from '../support/fault-process.js';
import { connectProbe } from '../support/mosquitto-server.js';
import { startProcessFixture, type ProcessFixture } from '../support/process-fixture.js';

/**
 * Issue #8 "Faults": the bridge process is killed with SIGKILL mid-play (no goodbyes, no
 * MQTT offline of its own: the broker sends the last will) and started again from the same
 * config file. It comes back under the same mDNS name, with the same HA entities once each,
 * online, leaves MPD alone until the app reconnects, and gets its renderer id back.
 */
const DURATIONS = [30, 35];
const B = 'qobuz-connect';

let f: ProcessFixture;
let NAME: string;
let UUID: string;
let trackIds: number[];
let service: ProcessFixture['service'];
let mosquitto: ProcessFixture['mosquitto'];
let mpd: ProcessFixture['mpd'];
let probe: ProcessFixture['probe'];
let browser: ProcessFixture['browser'];
let api: ProcessFixture['api'];
let configFile: string;
const bridges: BridgeProcess[] = [];

beforeAll(async () => {
  f = await startProcessFixture({ durations: DURATIONS, namePrefix: 'Crash Speaker', subscribe: [`${B}/#`, 'homeassistant/#'] });
  ({ name: NAME, uuid: UUID, trackIds, service, mosquitto, mpd, probe, browser, api, configFile } = f);
}, 60_000);

afterAll(async () => {
  for (const b of bridges) await b.kill();
  await f?.close();
});

function start(): BridgeProcess {
  const b = spawnBridge(configFile);
  bridges.push(b);
  return b;
}

/** Waits until our instance is announced with `port`; returns every instance label carrying our name. */
async function advertisedOn(port: number): Promise<string[]> {
  await browser.waitFor(
    `our service on port ${port}`,
    () => browser.services().find((s) => s.txt.Name === NAME && s.port === port),
    15_000,
    async () => {
      await browser.browse();
      for (const s of browser.services()) if (s.instance.startsWith(NAME)) await browser.resolve(s.fqdn);
    },
  );
  return browser.services().filter((s) => s.instance.startsWith(NAME)).map((s) => s.instance);
}

/** What the broker holds retained (a fresh subscriber's retained messages). */
async function retained(): Promise<Map<string, string>> {
  const p = await connectProbe(mosquitto.url);
  try {
    await p.subscribe(`${B}/#`, 'homeassistant/#');
    await p.flush();
    return new Map(p.messages.filter((m) => m.retain).map((m) => [m.topic, m.payload]));
  } finally {
    await p.end();
  }
}

/** unique_id of every HA entity in the retained discovery configs, in order (duplicates kept). */
function entityIds(picture: Map<string, string>): string[] {
  return [...picture]
    .filter(([topic, payload]) => topic.startsWith('homeassistant/device/') && payload !== '')
    .flatMap(([, payload]) => Object.values((JSON.parse(payload) as { cmps: Record<string, { unique_id: string }> }).cmps).map((c) => c.unique_id))
    .sort();
}

async function connectApp(port: number, sessionId?: string): Promise<{ sessionId: string }> {
  const token = service.issueToken(sessionId ? { sessionId } : {});
  const jwtApi = api.issueJwtApi();
  const res = await fetch(`http://127.0.0.1:${port}/devices/${UUID}/connect-to-qconnect`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ session_id: token.sessionId, jwt_qconnect: { jwt: token.jwt, exp: token.exp, endpoint: token.endpoint }, jwt_api: { ...jwtApi, endpoint: api.baseUrl } }),
  });
  expect(await res.json()).toEqual({ success: true });
  return { sessionId: token.sessionId };
}

describe('the bridge process killed with SIGKILL and started again (issue #8, faults)', () => {
  it('comes back under the same name and entities, online, leaves MPD alone, and the app reconnects to the same renderer', async () => {
    // A running bridge, playing for the app.
    const first = start();
    const port1 = await first.httpPort();
    expect(await advertisedOn(port1)).toEqual([NAME]);
    const { sessionId } = await connectApp(port1);
    const sim = service.session(sessionId);
    const rid = await sim.waitForRenderer(UUID);
    await sim.waitFor(() => sim.activeRendererId === rid, { what: 'our renderer active' });
    sim.loadQueue(trackIds);
    sim.jump(0, { playing: true });
    await mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.3, 10_000);
    const entitiesBefore = entityIds(await retained());
    expect(entitiesBefore.length).toBeGreaterThan(5);
    const queueBefore = await mpd.command('playlistinfo');

    // Crash.
    const m = probe.messages.length;
    const sampler = sampleMpd(mpd);
    await first.kill();
    const killedAt = Date.now();
    await probe.waitFor((x) => x.topic === `${B}/bridge/state` && JSON.parse(x.payload).state === 'offline', { from: m });
    await sim.waitFor(() => sim.renderers().find((r) => r.rendererId === rid)?.connected === false, { what: 'the service saw the socket go' });

    // Restart from the same config file.
    const second = start();
    const port2 = await second.httpPort();
    const up = await pollUntil('bridge online and the player available, retained', async () => {
      const got = await retained();
      return got.get(`${B}/bridge/state`) === JSON.stringify({ state: 'online' }) && got.get(`${B}/living_room/availability`) === 'online' ? got : undefined;
    }, { timeoutMs: 15_000, intervalMs: 200 });
    const onlineMs = Date.now() - killedAt;
    expect(entityIds(up)).toEqual(entitiesBefore); // every entity once, the same ones
    expect(new Set(entitiesBefore).size).toBe(entitiesBefore.length);
    expect(await advertisedOn(port2)).toEqual([NAME]); // re-advertised, no "(2)" rename
    const advertisedMs = Date.now() - killedAt;

    // MPD was left alone: same queue, same song, never stopped.
    const samples = await sampler.stop();
    expect(samples.filter((s) => s.state !== 'play')).toEqual([]);
    expect(new Set(samples.map((s) => s.songId)).size).toBe(1);
    expect(await mpd.command('playlistinfo')).toBe(queueBefore);

    // The app connects again: same renderer id, no second renderer, and it drives MPD again.
    const n = sim.sent(rid).length;
    await connectApp(port2, sessionId);
    await sim.waitFor(() => sim.renderers().find((r) => r.rendererId === rid)?.connected, { what: 'our renderer back', timeoutMs: 15_000 });
    expect(sim.renderers()).toHaveLength(1);
    expect(sim.renderers()[0]?.joins).toBe(2);
    // The service kept us as its active renderer; the bridge has taken playback back once it reports (§5.4).
    await sim.waitForMessage(rid, 63, { after: n, timeoutMs: 15_000 });
    await sim.waitForMessage(rid, 23, { after: n, timeoutMs: 15_000 });
    expect(sim.activeRendererId).toBe(rid);
    sim.jump(1, { playing: true });
    await mpd.waitForStatus((s) => s.state === 'play' && Math.round(Number(s.duration)) === DURATIONS[1] && Number(s.elapsed) > 0.2, 10_000);
    expect(await mpd.command('currentsong')).toContain(`http://127.0.0.1:${port2}/stream/living_room/`);
    expect(second.child.exitCode).toBeNull();
    expect(service.errors).toEqual([]);
    console.info(`[faults] SIGKILL + restart: online again ${onlineMs} ms after the kill, re-advertised at ${advertisedMs} ms`);
  }, 90_000);
});
