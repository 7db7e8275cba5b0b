import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeHarness, type BridgeHarness } from '../support/bridge-harness.js';
import { describeGrowth, sampleMemory } from '../support/fuzz-memory.js';
import { malformedCommands, type BadCommand } from '../support/fuzz-mqtt.js';
import { FuzzRandom } from '../support/fuzz-random.js';
import { expectUnchanged, takeSnapshot } from '../support/fuzz-snapshot.js';
import { connectProbe, type MqttProbe } from '../support/mosquitto-server.js';
import type { SimSession } from '../support/qconnect-service.js';

/**
 * Issue #8 "Bad input": 1 000 malformed commands on `B/living_room/set` while the player plays.
 * Each is answered exactly once on `B/living_room/set/result` with `{"ok": false, "error": …}`
 * saying what is wrong; MPD, the Qobuz side and the retained state are untouched; memory flat.
 */
let h: BridgeHarness;
let sim: SimSession;
let rid: number;
let sender: MqttProbe;
let results: MqttProbe;
const B = 'qobuz-connect/living_room';

beforeAll(async () => {
  h = await startBridgeHarness({ trackSeconds: [90, 90] });
  ({ sim, rendererId: rid } = await h.connectApp({ loadQueue: true }));
  sim.jump(0, { playing: true });
  await h.mpd.waitForStatus((s) => s.state === 'play' && Number(s.elapsed) > 0.2);
  // Two clients: the sender subscribes to nothing, so no megabyte payload comes back to the test.
  sender = await connectProbe(h.mosquitto!.url);
  results = await connectProbe(h.mosquitto!.url);
  await results.subscribe(`${B}/set/result`);
}, 60_000);
afterAll(async () => {
  await sender?.end();
  await results?.end();
  await h?.close();
});

let sentinels = 0;

/**
 * Publishes every command, then a sentinel whose answer names it; answers to one client's
 * publishes come back in order, so once the sentinel's is in, every earlier answer is too.
 */
async function flood(commands: Iterable<BadCommand>): Promise<Array<{ cmd: Omit<BadCommand, 'payload'>; answer: string }>> {
  results.messages.length = 0;
  const sent: Array<Omit<BadCommand, 'payload'>> = [];
  for (const c of commands) {
    await sender.publish(`${B}/set`, c.payload);
    sent.push({ category: c.category, error: c.error });
  }
  // Its `id` names it: an unknown key's text is never echoed (issue #26).
  const marker = `sentinel_${++sentinels}`;
  await sender.publish(`${B}/set`, JSON.stringify({ id: marker, sentinel: 1 }));
  await results.waitFor((m) => m.payload.includes(marker), { timeoutMs: 20_000 });
  await results.flush();
  const answers = results.messages.filter((m) => m.topic === `${B}/set/result`).map((m) => m.payload);
  expect(answers).toHaveLength(sent.length + 1); // exactly one answer per command
  expect(JSON.parse(answers.at(-1) ?? '{}')).toEqual({
    ok: false,
    error: expect.stringMatching(/^unknown key \(by position: #2\); known keys: /),
    code: 'ERR_BAD_COMMAND',
    id: marker,
  });
  return sent.map((cmd, i) => ({ cmd, answer: answers[i] ?? '' }));
}

function problems(pairs: Array<{ cmd: Omit<BadCommand, 'payload'>; answer: string }>): string[] {
  const out: string[] = [];
  for (const [i, { cmd, answer }] of pairs.entries()) {
    const a = JSON.parse(answer) as { ok?: unknown; error?: unknown; code?: unknown };
    const keys = Object.keys(a).sort().join(',');
    // README "MQTT topics": a refused command answers {ok: false, error, code} (issue #12).
    const shaped = keys === 'code,error,ok' && a.code === 'ERR_BAD_COMMAND';
    if (a.ok !== false || typeof a.error !== 'string' || !shaped || !cmd.error.test(a.error)) {
      out.push(`#${i} ${cmd.category}: ${answer.slice(0, 200)} (expected ${String(cmd.error)})`);
    }
  }
  return out;
}

describe('malformed MQTT commands (issue #8)', () => {
  it('answers each of 1 000 malformed commands once with ok false and its error, changing nothing', async () => {
    const src = { h, sim, rendererId: rid, topic: B };
    // Warm-up of the same size: ~90 one-MiB payloads take the allocator to its plateau, so the
    // measured phase shows growth, not the first time the process held that many big buffers.
    expect(problems(await flood(malformedCommands(new FuzzRandom(0x3770), 1000)))).toEqual([]);
    const memBefore = await sampleMemory();
    const before = await takeSnapshot(src);

    const pairs = await flood(malformedCommands(new FuzzRandom(0x3771), 1000));

    const memAfter = await sampleMemory();
    const after = await takeSnapshot(src);
    const byCategory: Record<string, number> = {};
    for (const { cmd } of pairs) byCategory[cmd.category] = (byCategory[cmd.category] ?? 0) + 1;
    console.log(`mqtt fuzz: ${JSON.stringify({ answered: pairs.length, byCategory })}`);
    console.log(describeGrowth('mqtt fuzz (1 000 commands)', memBefore, memAfter));

    expect(pairs).toHaveLength(1000);
    expect(problems(pairs)).toEqual([]);
    expect(Object.keys(byCategory)).toHaveLength(11);
    expectUnchanged(before, after);
    // `__proto__` keys stayed data: nothing leaked onto Object.prototype.
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(h.logs.filter((l) => l.includes('"msg":"MQTT command failed"'))).toEqual([]);
    expect(memAfter.rssBytes).toBeLessThan(memBefore.rssBytes * 1.1);

    // The command topic still works: a good command is obeyed and answered ok.
    results.messages.length = 0;
    await sender.publish(`${B}/set`, JSON.stringify({ action: 'pause' }));
    const ok = await results.waitFor((m) => m.topic === `${B}/set/result`);
    expect(JSON.parse(ok.payload)).toEqual({ ok: true });
    await h.mpd.waitForStatus((s) => s.state === 'pause');
  }, 60_000);
});
