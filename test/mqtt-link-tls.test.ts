import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { MqttLink, type MqttTlsFiles } from '../src/mqtt/mqtt-link.js';
import { startMosquitto, type MosquittoServer } from './support/mosquitto-server.js';

const silent = pino({ level: 'silent' });
let dir: string;
let server: MosquittoServer;
const links: MqttLink[] = [];

/** A throw-away CA, a server cert for 127.0.0.1 and a client cert, made with the openssl CLI (EC keys: fast). */
function makeCertificates(): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=qcb-test-ca');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const who of ['server', 'client']) {
    ssl('req', ...key, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=qcb-test-${who}`);
    ssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.crt`, '-days', '2', '-extfile', 'san.ext');
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qcb-tls-'));
  makeCertificates();
  server = await startMosquitto({
    tls: { caFile: join(dir, 'ca.crt'), certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key'), requireCertificate: true },
  });
});
afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const l of links.splice(0)) await l.stop();
});

/** 'connected', or the reason of the first failed attempt. */
async function connectWith(tls: MqttTlsFiles): Promise<string> {
  const link = new MqttLink({ url: server.url, tls, baseTopic: 'tls', bridgeInfo: { version: 't' }, logger: silent, reconnectPeriodMs: 200 });
  links.push(link);
  const outcome = new Promise<string>((resolve) => {
    link.once('connected', () => resolve('connected'));
    link.once('connectFailed', (reason) => resolve(reason));
  });
  await link.start();
  return outcome;
}

describe('MqttLink over TLS (README.md "Configuration": mqtt TLS files)', () => {
  it('connects with the CA, a client certificate and its key, all read from files', async () => {
    expect(server.url).toMatch(/^mqtts:\/\//);
    expect(await connectWith({ ca: join(dir, 'ca.crt'), cert: join(dir, 'client.crt'), key: join(dir, 'client.key') })).toBe('connected');
  });

  it('refuses a broker whose certificate it cannot verify, unless rejectUnauthorized is false', async () => {
    const client = { cert: join(dir, 'client.crt'), key: join(dir, 'client.key') };
    expect(await connectWith(client)).toMatch(/certificate/i);
    expect(await connectWith({ ...client, rejectUnauthorized: false })).toBe('connected');
  });

  it('is refused by a broker that requires a client certificate when it has none', async () => {
    expect(await connectWith({ ca: join(dir, 'ca.crt') })).toMatch(/certificate required/);
  });

  it('fails start() when a TLS file cannot be read', async () => {
    const link = new MqttLink({ url: server.url, tls: { ca: join(dir, 'missing.crt') }, baseTopic: 'tls', bridgeInfo: {}, logger: silent });
    await expect(link.start()).rejects.toThrow(/ENOENT/);
  });
});
