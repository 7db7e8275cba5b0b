import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';

/**
 * Issue #26 "LAN surface, second pass", make before break: one POST from any LAN host used to stop
 * the music (the current link closed, the queue cleared and MPD stopped before Qobuz had accepted
 * anything). Here the bridge plays a real MPD from a Qobuz session; then junk connects come from
 * another address (127.0.0.2, the socket's own address is what the route sees): the connect is
 * answered, MPD keeps playing the same queue, the log and /metrics say why the connect was rejected,
 * and no token of the owner's was minted for it. Both without and with `qobuz.user_auth_token`.
 */

interface Answer {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

/** connect-to-qconnect as any LAN host could send it, from `from`. */
function junkConnect(h: BridgeHarness, from: string, body: Record<string, unknown>): Promise<Answer> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: h.bridge.httpPort,
        localAddress: from,
        method: 'POST',
        path: `/devices/${h.playerUuid}/connect-to-qconnect`,
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

function body(h: BridgeHarness, o: { jwt?: string; exp?: number; endpoint?: string } = {}): Record<string, unknown> {
  const exp = o.exp ?? Math.floor(Date.now() / 1000) + 3600;
  return {
    session_id: randomUUID(),
    jwt_qconnect: { jwt: o.jwt ?? `eyJhbGciOiJIUzI1NiJ9.junk${randomUUID()}.sig`, exp, endpoint: o.endpoint ?? h.service.endpoint },
    jwt_api: { jwt: `eyJhbGciOiJIUzI1NiJ9.api${randomUUID()}.sig`, exp, endpoint: h.api.baseUrl },
  };
}

async function metrics(h: BridgeHarness): Promise<string> {
  return (await fetch(`http://127.0.0.1:${h.bridge.httpPort}/metrics`)).text();
}

/** Until `predicate` holds on the bridge's log lines (generous deadline, no sleeps in the assertions). */
async function waitForLog(h: BridgeHarness, predicate: (line: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    for (const line of h.logs) {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (predicate(parsed)) return parsed;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for the log to say ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** MPD is playing our songs and its position moves on. */
async function expectStillPlaying(h: BridgeHarness, songsBefore: string[]): Promise<void> {
  const at = Number((await h.mpd.status()).elapsed);
  await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > at + 0.3, 15_000);
  expect((await h.mpd.songs()).map((s) => s.file?.[0] ?? '')).toEqual(songsBefore);
}

describe.each([
  { label: 'without a user token', userAuthToken: false },
  { label: 'with qobuz.user_auth_token', userAuthToken: true },
])('a junk connect from another host changes nothing ($label; issue #26)', ({ userAuthToken }) => {
  let h: BridgeHarness;
  let songs: string[];
  let sessionId: string;
  let queueLength: number;
  /** A WebSocket endpoint that accepts connections and never answers the upgrade. */
  let silent: Server;
  const held: Socket[] = [];

  beforeAll(async () => {
    h = await startBridgeHarness({
      trackSeconds: [60, 60],
      userAuthToken,
      ...(userAuthToken ? { cloud: false } : {}),
      connectAcceptTimeoutMs: 1500,
    });
    const { sim } = await h.connectApp({ loadQueue: true });
    sim.jump(0, { playing: true });
    await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.2);
    songs = (await h.mpd.songs()).map((s) => s.file?.[0] ?? '');
    expect(songs).toHaveLength(2);
    sessionId = h.bridge.player(h.playerId)!.sessionId;
    queueLength = h.bridge.player(h.playerId)!.session.queue.items.length;
    silent = createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  }, 60_000);
  afterAll(async () => {
    for (const s of held) s.destroy();
    await new Promise<void>((resolve) => silent?.close(() => resolve()));
    await h?.close();
  });

  it('answers a connect with a token the service refuses, keeps MPD playing the same queue, and logs and counts the rejection', async () => {
    const minted = h.minted.length;
    const res = await junkConnect(h, '127.0.0.2', body(h));
    expect(res).toEqual({ status: 200, json: { success: true } });
    const line = await waitForLog(h, (l) => l.msg === 'connect-to-qconnect rejected: nothing changed', 'the connect was rejected');
    expect(line).toMatchObject({ reason: 'service_closed', level: 40 });
    expect(String(line.detail)).toMatch(/1008|Invalid token/);
    await expectStillPlaying(h, songs);
    const runtime = h.bridge.player(h.playerId)!;
    expect(runtime.sessionId).toBe(sessionId);
    expect(runtime.session.queue.items.length).toBe(queueLength);
    expect(runtime.session.view().qobuzSession).toBe('active');
    expect(await metrics(h)).toMatch(/qcb_connects_total\{player="living_room",result="rejected",reason="service_closed"\} 1/);
    // Never a token of the owner's for a connect the service did not accept.
    expect(h.minted.length).toBe(minted);
  });

  it('drops a connect the service never answers after its deadline, and nothing changes', async () => {
    const endpoint = `ws://127.0.0.1:${(silent.address() as { port: number }).port}/ws`;
    const res = await junkConnect(h, '127.0.0.2', body(h, { endpoint }));
    expect(res.status).toBe(200);
    await waitForLog(h, (l) => l.msg === 'connect-to-qconnect rejected: nothing changed' && l.reason === 'timeout', 'the connect timed out');
    await expectStillPlaying(h, songs);
    expect(h.bridge.player(h.playerId)!.sessionId).toBe(sessionId);
    expect(await metrics(h)).toMatch(/qcb_connects_total\{player="living_room",result="rejected",reason="timeout"\} 1/);
  });

  it('refuses an expired app token at the route with 400, never renewing it with the owner\'s token', async () => {
    const minted = h.minted.length;
    const expired = h.service.issueToken({ expiresInSeconds: 3600 });
    const res = await junkConnect(h, '127.0.0.2', body(h, { jwt: expired.jwt, exp: Math.floor(Date.now() / 1000) - 60 }));
    expect(res).toEqual({ status: 400, json: { success: false, error: 'jwt_qconnect.exp: the token has expired' } });
    expect(await metrics(h)).toMatch(/qcb_connects_total\{player="living_room",result="refused",reason="expired_token"\} 1/);
    await expectStillPlaying(h, songs);
    expect(h.minted.length).toBe(minted);
    expect(h.service.session(expired.sessionId).renderers()).toHaveLength(0);
  });

  it('answers 429 once that host has sent a few connects this minute, and the app is still heard', async () => {
    // Three came from 127.0.0.2 above; the limit is six a minute per address and player.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await junkConnect(h, '127.0.0.2', { junk: true })).status);
    expect(statuses).toEqual([400, 400, 400, 429]);
    expect(await metrics(h)).toMatch(/qcb_connects_total\{player="living_room",result="refused",reason="rate_limited"\} 1/);
    await expectStillPlaying(h, songs);
    // The real app (from 127.0.0.1) picks the speaker into a new session: that one replaces the old.
    const { sim, rendererId } = await h.connectApp({ loadQueue: true });
    await sim.waitFor(() => h.bridge.player(h.playerId)!.sessionId === sim.sessionId, { what: 'the new session ours' });
    expect(sim.activeRendererId).toBe(rendererId);
    expect(await metrics(h)).toMatch(/qcb_connects_total\{player="living_room",result="accepted",reason="joined"\} 2/);
  });
});
