import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ConnectRequest } from '../src/core/connect-request.js';
import { HttpServer } from '../src/discovery/http-server.js';
import { MdnsAdvertiser, type AdvertisedPlayer } from '../src/discovery/mdns-advertiser.js';
import { MdnsBrowser, TYPE, type DiscoveredService } from '../test/support/mdns-browser.js';

// Issue #3, docs/protocol.md §1–§2: advertised on loopback ONLY (interface `lo`,
// address 127.0.0.1), found by an independent raw mDNS browser, endpoints called
// through the advertised TXT `path`.

const SERVICE_TYPE = '_qobuz-connect._tcp.local';
const run = randomUUID().slice(0, 6); // other test processes may advertise at the same time
const silent = pino({ level: 'silent' });

function playersNamed(names: string[]): (AdvertisedPlayer & { maxAudioQuality: 'HIRES_L2' })[] {
  return names.map((name, i) => ({
    id: `p${i}-${run}`,
    name,
    uuid: randomUUID(),
    deviceType: i === 1 ? 'STREAMER' : 'SPEAKER',
    maxAudioQuality: 'HIRES_L2',
  }));
}

function advertiser(players: AdvertisedPlayer[], port: number, logger = silent): MdnsAdvertiser {
  return new MdnsAdvertiser({ players, port, advertiseAddress: '127.0.0.1', interfaces: ['lo'], logger, reannounceIntervalMs: 600 });
}

/** Waits until every player is seen with SRV, TXT and A (re-querying while waiting). */
async function discover(b: MdnsBrowser, players: AdvertisedPlayer[]): Promise<DiscoveredService[]> {
  const find = (): DiscoveredService[] | null => {
    const found = players.map((p) => b.services().find((s) => s.txt.device_uuid === p.uuid && s.ttl > 0 && s.port && s.addresses.length));
    return found.every((s) => s !== undefined) ? (found as DiscoveredService[]) : null;
  };
  return b.waitFor('the advertised players', find, 10_000, async () => {
    await b.browse();
    for (const s of b.services()) if (s.port === null || s.addresses.length === 0) await b.resolve(s.fqdn);
  });
}

let browser: MdnsBrowser;
let http: HttpServer;
let mdns: MdnsAdvertiser;
const sessions = new Map<string, string>();
const onConnect = vi.fn(async (playerId: string, req: ConnectRequest) => void sessions.set(playerId, req.sessionId));
const players = playersNamed([`Kitchen ${run}`, `Living.Room ${run}`, `Büro ${run}`]);

beforeAll(async () => {
  browser = await MdnsBrowser.open(); // runs `ip link set lo multicast on`, fails loudly if it cannot
  http = new HttpServer({
    port: 0,
    bind: '127.0.0.1',
    players,
    appId: '950096963',
    model: 'MPD',
    allowedEndpointHosts: ['*.qobuz.com'],
    currentSessionId: (id) => sessions.get(id) ?? '',
    onConnect,
    resolveStream: async () => null,
    health: () => ({}),
    metrics: async () => ({ contentType: 'text/plain', body: '' }),
    logger: silent,
  });
  await http.start();
  mdns = advertiser(players, http.port);
  await mdns.start();
});

afterAll(async () => {
  await mdns?.stop();
  await http?.stop();
  await browser?.close();
});

describe('mDNS advertising on loopback', () => {
  it('advertises three players, each with the five TXT keys, 127.0.0.1 and the HTTP port', async () => {
    const found = await discover(browser, players);
    players.forEach((p, i) => {
      const s = found[i];
      expect(s?.txt).toEqual({ path: `/devices/${p.uuid}`, type: p.deviceType, Name: p.name, device_uuid: p.uuid, sdk_version: '0.9.6' });
      expect(s?.addresses).toEqual(['127.0.0.1']);
      expect(s?.port).toBe(http.port);
    });
    // Dots would split the DNS label: replaced with '-', the real name stays in TXT Name.
    expect(found.map((s) => s.instance)).toEqual([`Kitchen ${run}`, `Living-Room ${run}`, `Büro ${run}`]);
  });

  it('serves the three endpoints of every player under its advertised path', async () => {
    const found = await discover(browser, players);
    for (const [i, p] of players.entries()) {
      const s = found[i] as DiscoveredService;
      const base = `http://${s.addresses[0]}:${s.port}${s.txt.path}`;
      const display = await (await fetch(`${base}/get-display-info`)).json();
      expect(display).toEqual({
        type: p.deviceType,
        friendly_name: p.name,
        model_display_name: 'MPD',
        brand_display_name: 'qobuz-connect-bridge',
        serial_number: p.uuid,
        max_audio_quality: 'HIRES_L2',
      });
      const sessionId = randomUUID();
      const body = {
        session_id: sessionId,
        jwt_qconnect: { jwt: 'a.b.c', exp: 1_900_000_000, endpoint: 'wss://qws-eu-prod.qobuz.com/ws' },
        jwt_api: { jwt: 'd.e.f', exp: 1_900_000_000, endpoint: 'https://www.qobuz.com/api.json/0.2' },
      };
      const post = await fetch(`${base}/connect-to-qconnect`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(await post.json()).toEqual({ success: true });
      expect(onConnect).toHaveBeenLastCalledWith(p.id, expect.objectContaining({ sessionId, becomeActive: true }));
      const info = await (await fetch(`${base}/get-connect-info`)).json();
      expect(info).toEqual({ current_session_id: sessionId, app_id: '950096963' });
    }
  });

  it('re-announces every service in a packet of its own, its PTR first (the app reads only the first PTR)', async () => {
    await discover(browser, players);
    const mark = browser.packets.length;
    const fqdns = new Set(players.map((p, i) => `${i === 1 ? p.name.replace('.', '-') : p.name}.${SERVICE_TYPE}`));
    const alone = (fqdn: string): boolean =>
      browser.packets.slice(mark).some((pkt) => {
        const ptrs = pkt.records.filter((r) => r.type === TYPE.PTR && r.name.toLowerCase() === SERVICE_TYPE && r.ttl > 0);
        return ptrs[0]?.data.target === fqdn && ptrs.filter((r) => fqdns.has(r.data.target ?? '')).length === 1;
      });
    await browser.waitFor('one re-announcement per service', () => [...fqdns].every(alone), 15_000);
  });
});

describe('mDNS shutdown and conflicts', () => {
  it('sends goodbyes with TTL 0 for every service on stop()', async () => {
    const own = playersNamed([`Bye A ${run}`, `Bye B ${run}`, `Bye C ${run}`]);
    const a = advertiser(own, http.port);
    await a.start();
    await discover(browser, own);
    await a.stop();
    await browser.waitForGoodbyes(own.map((p) => p.name));
  });

  it('takes the name ciao gives it when another host already owns the instance name, and logs it', async () => {
    const name = `Taken ${run}`;
    browser.claim(`${name}.${SERVICE_TYPE}`);
    const lines: string[] = [];
    const own = playersNamed([name]);
    const a = advertiser(own, http.port, pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }));
    try {
      await a.start();
      expect(a.instanceNames().get(own[0]?.id ?? '')).toBe(`${name} (2)`);
      const [s] = await discover(browser, own);
      expect(s?.instance).toBe(`${name} (2)`);
      expect(s?.txt.Name).toBe(name);
      expect(lines.join('\n')).toContain(`"to":"${name} (2)"`);
    } finally {
      await a.stop();
    }
  });
});
