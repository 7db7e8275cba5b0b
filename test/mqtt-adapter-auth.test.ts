import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { MqttAdapter } from '../src/mqtt/mqtt-adapter.js';
import type { MqttConnectionOptions } from '../src/mqtt/mqtt-link.js';
import { connectProbe, startMosquitto, type MosquittoServer } from './support/mosquitto-server.js';

const USER = 'qcb_user';
const PASSWORD = 'pa55-W0rd-never-logged';

let server: MosquittoServer;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  server = await startMosquitto({ username: USER, password: PASSWORD });
});
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A debug-level logger whose every line is kept, to search for the password. */
function capturingLogger() {
  const lines: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

async function startAdapter(link: MqttConnectionOptions, base: string, startTimeoutMs = 5000) {
  const { logger, lines } = capturingLogger();
  const adapter = new MqttAdapter({
    link: { reconnectPeriodMs: 200, ...link },
    baseTopic: base,
    discovery: { enabled: true, prefix: `${base}_ha` },
    bridge: { version: '0.1.0', name: 'Bridge' },
    players: [{ id: 'den', name: 'Den', uuid: 'den-uuid' }],
    onCommand: async () => {},
    logger,
    sweepQuietMs: 50,
    startTimeoutMs,
  });
  cleanups.push(() => adapter.stop());
  await adapter.start();
  return { adapter, lines };
}

describe('MqttAdapter with a password-protected Mosquitto (README.md "Configuration", mqtt.username/password)', () => {
  it('refuses anonymous clients (the broker really checks)', async () => {
    await expect(connectProbe(server.url)).rejects.toThrow(/Not authorized|Bad User Name or Password|not authorized/i);
  });

  it('connects with username and password, publishes, and never logs the password', async () => {
    const { adapter, lines } = await startAdapter({ url: server.url, username: USER, password: PASSWORD }, 'auth_ok');
    expect(adapter.connected).toBe(true);
    const p = await connectProbe(server.url, { username: USER, password: PASSWORD });
    cleanups.push(() => p.end());
    await p.subscribe('auth_ok/bridge/state');
    expect((await p.waitFor(() => true)).payload).toBe('{"state":"online"}');
    await adapter.stop();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(PASSWORD);
  });

  it('accepts credentials inside the URL and logs the URL without them', async () => {
    const url = `mqtt://${USER}:${PASSWORD}@127.0.0.1:${server.port}`;
    const { adapter, lines } = await startAdapter({ url }, 'auth_url');
    expect(adapter.connected).toBe(true);
    const log = lines.join('\n');
    expect(log).toContain(`mqtt://127.0.0.1:${server.port}`);
    expect(log).not.toContain(PASSWORD);
    expect(log).not.toContain(USER + ':');
  });

  it('with a wrong password, start() gives up waiting after startTimeoutMs and logs no password', async () => {
    const wrong = 'wr0ng-secret-value';
    const started = Date.now();
    const { adapter, lines } = await startAdapter({ url: server.url, username: USER, password: wrong }, 'auth_bad', 600);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    expect(adapter.connected).toBe(false);
    // The broker's refusal is logged when its CONNACK comes, which on a loaded machine may be after
    // start() stopped waiting (600 ms): awaited (the client retries every 200 ms), not read once.
    await expect.poll(() => lines.join('\n'), { timeout: 10_000 }).toMatch(/not authorized|bad user name or password/i);
    const log = lines.join('\n');
    expect(log).toMatch(/not reachable yet/);
    expect(log).not.toContain(wrong);
    expect(log).not.toContain(PASSWORD);
  });
});
