import { Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeHarness, type BridgeHarness } from '../support/bridge-harness.js';
import { malformedRequests, send, type Answer, type BadRequest } from '../support/fuzz-http.js';
import { describeGrowth, sampleMemory } from '../support/fuzz-memory.js';
import { FuzzRandom } from '../support/fuzz-random.js';
import { expectUnchanged, takeSnapshot } from '../support/fuzz-snapshot.js';
import type { SimSession } from '../support/qconnect-service.js';

/**
 * Issue #8 "Bad input": 1 000 malformed HTTP requests against the bridge while it plays. Each
 * gets the status docs/protocol.md §2 documents and a JSON `{"success": false, "error": …}`, nothing
 * connects anywhere, nothing about the player changes, memory stays flat.
 */
let h: BridgeHarness;
let sim: SimSession;
let rid: number;
let agent: Agent;
const B = 'qobuz-connect/living_room';

beforeAll(async () => {
  // Each malformed request is checked for its own answer; the connect rate limit (issue #26) would answer 429 first.
  h = await startBridgeHarness({ trackSeconds: [90, 90], httpLimits: { connectsPerMinute: 1_000_000 } });
  ({ sim, rendererId: rid } = await h.connectApp({ loadQueue: true }));
  sim.jump(0, { playing: true });
  await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.2);
  agent = new Agent({ keepAlive: true, maxSockets: 8 });
}, 60_000);
afterAll(async () => {
  agent?.destroy();
  await h?.close();
});

/** Runs every request, eight at a time, and returns them with their answers. */
async function run(requests: Iterable<BadRequest>): Promise<Array<{ req: BadRequest; answer: Answer }>> {
  // Drawn lazily and kept without their bodies: the test must not hold megabytes the bridge is measured by.
  const it = requests[Symbol.iterator]();
  const results: Array<{ req: BadRequest; answer: Answer }> = [];
  const worker = async () => {
    for (let next = it.next(); !next.done; next = it.next()) {
      const { body: _body, ...req } = next.value;
      results.push({ req, answer: await send(h.bridge.httpPort, agent, next.value) });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return results;
}

function problems(results: Array<{ req: BadRequest; answer: Answer }>): string[] {
  const out: string[] = [];
  for (const { req, answer } of results) {
    const where = `${req.category} ${req.method} ${req.path.slice(0, 120)}`;
    if (answer.status !== req.expectStatus) out.push(`${where}: status ${answer.status}, expected ${req.expectStatus}: ${answer.text.slice(0, 200)}`);
    if (!String(answer.headers['content-type']).includes('application/json')) out.push(`${where}: content-type ${String(answer.headers['content-type'])}`);
    let json: unknown;
    try {
      json = JSON.parse(answer.text);
    } catch {
      out.push(`${where}: body is not JSON: ${answer.text.slice(0, 200)}`);
      continue;
    }
    const j = json as { success?: unknown; error?: unknown };
    if (j.success !== false || typeof j.error !== 'string' || j.error.length === 0) out.push(`${where}: body ${answer.text.slice(0, 200)}`);
    if (answer.text.includes('eyJfuzz')) out.push(`${where}: the answer echoes a token`);
    if (req.expectStatus === 405 && !answer.headers.allow) out.push(`${where}: 405 without an Allow header`);
  }
  return out;
}

describe('malformed HTTP requests (issue #8)', () => {
  it('answers 1 000 malformed requests with the documented status and JSON error, connecting nowhere and changing nothing', async () => {
    const target = { uuid: h.playerUuid, playerId: h.playerId };
    const src = { h, sim, rendererId: rid, topic: B };
    // Warm-up: first use of every route and of the error paths, so the measured phase shows growth.
    expect(problems(await run(malformedRequests(new FuzzRandom(0x4770), 300, target)))).toEqual([]);
    h.logs.length = 0;
    const memBefore = await sampleMemory();
    const before = await takeSnapshot(src);

    const results = await run(malformedRequests(new FuzzRandom(0x4771), 1000, target));

    const memAfter = await sampleMemory();
    const after = await takeSnapshot(src);
    const byStatus: Record<string, number> = {};
    const byCategory: Record<string, number> = {};
    for (const { req, answer } of results) {
      byStatus[answer.status] = (byStatus[answer.status] ?? 0) + 1;
      byCategory[req.category] = (byCategory[req.category] ?? 0) + 1;
    }
    console.log(`http fuzz: ${JSON.stringify({ byStatus, byCategory })}`);
    console.log(describeGrowth('http fuzz (1 000 requests)', memBefore, memAfter));

    expect(results).toHaveLength(1000);
    expect(problems(results)).toEqual([]);
    expect(Object.keys(byCategory)).toHaveLength(10);
    for (const status of ['400', '403', '404', '405', '413']) expect(byStatus[status]).toBeGreaterThan(0);
    // Connected nowhere: no new WebSocket, the advertised session unchanged (in the snapshot), nothing accepted.
    expectUnchanged(before, after);
    const logged = h.logs.map((l) => JSON.parse(l) as { msg?: string });
    expect(logged.filter((l) => l.msg === 'connect-to-qconnect accepted')).toEqual([]);
    expect(logged.filter((l) => l.msg === 'http handler failed')).toEqual([]);
    expect(logged.filter((l) => l.msg === 'connect-to-qconnect refused')).toHaveLength(byStatus['403'] ?? 0);
    expect(h.logs.join('\n')).not.toContain('eyJfuzz');
    expect(memAfter.rssBytes).toBeLessThan(memBefore.rssBytes * 1.1);

    // And the server still serves the app: display info for the real device.
    const info = await fetch(`http://127.0.0.1:${h.bridge.httpPort}/devices/${h.playerUuid}/get-display-info`);
    expect(info.status).toBe(200);
    expect(await info.json()).toMatchObject({ friendly_name: expect.stringContaining('Living Room'), serial_number: h.playerUuid });
  }, 60_000);
});
