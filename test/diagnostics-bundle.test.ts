import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeFileCommand } from '../src/app/diagnostics-commands.js';
import { newLogRing } from '../src/diagnostics/diagnostics.js';
import { joinEnvelope } from '../src/protocol/frame-codec.js';
import { qconnect } from '../src/protocol/generated/qconnect.js';
import { varintBytes } from '../src/protocol/varint.js';
import { startBridgeHarness, type BridgeHarness } from './support/bridge-harness.js';
import { connectProbe, type MqttProbe } from './support/mosquitto-server.js';
import { freePort } from './support/free-port.js';
import { writeSoloBridgeConfig } from './support/solo-bridge-config.js';
import { leaks } from './support/secret-scan.js';

/**
 * Issue #21 part 2, "every failure is visible" (README "Reporting a problem"): a session recorded
 * against the simulated service decodes back with `decode --file`, and neither the bug-report
 * bundle (GET /diagnostics, `report`) nor the recording holds a configured secret, a JWT, a
 * stream token or a signed URL, in any encoding.
 */

const B = 'qobuz-connect/living_room';
const EMAIL = 'listener.one@example.org';

/** The parts of a bundle and of decoded records the assertions read. */
interface DecodedFrame {
  readonly authenticate?: { readonly jwt?: string };
  readonly payload?: {
    readonly _unknown?: Readonly<Record<string, string>>;
    readonly payload?: { readonly messages?: ReadonlyArray<{ readonly SrvrRndrSetState?: { readonly playing_state?: string } }> };
  };
}
interface Rec {
  readonly kind: string;
  readonly dir: string;
  readonly envelopes: string[];
  readonly types: number[];
  readonly raw?: string | null;
  readonly raw_omitted?: string;
  readonly body?: DecodedFrame;
  readonly decoded?: DecodedFrame | DecodedFrame[];
  readonly command?: string;
  readonly args?: string[];
  readonly path?: string;
}
interface Bundle {
  readonly version: string;
  readonly node: string;
  readonly os: { readonly platform: string };
  readonly config: { readonly qobuz: { readonly app_secret: string | null; readonly app_id: string }; readonly mqtt: { readonly password: string | null } };
  readonly bridge: { readonly running: boolean };
  readonly players?: Record<
    string,
    {
      readonly view: { readonly state: string };
      readonly session: { readonly state: string };
      readonly queue: { readonly length: number };
      readonly frames: Rec[];
      readonly calls: Rec[];
      readonly mpd_statuses: unknown[];
    }
  >;
  readonly log: unknown[];
  readonly metrics: string;
}

interface Rig {
  readonly h: BridgeHarness;
  readonly probe: MqttProbe;
  readonly dir: string;
  readonly recording: string;
  readonly secrets: { mqttPassword: string; diagnosticsToken: string };
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.probe.end();
    await r.h.close();
  }
});

async function startRig(): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'qcb-diag-'));
  const recording = join(dir, 'wire.jsonl');
  const secrets = {
    mqttPassword: `mqtt-${randomBytes(18).toString('base64url')}`,
    diagnosticsToken: `diag-${randomBytes(18).toString('base64url')}`,
  };
  const h = await startBridgeHarness({
    userAuthToken: true,
    mqtt: 'embedded',
    mqttCredentials: { username: 'ha', password: secrets.mqttPassword },
    diagnostics: { record: true, record_file: recording, token: secrets.diagnosticsToken },
    logLines: newLogRing(),
    trackSeconds: [20, 20],
  });
  const probe = await connectProbe(h.bridge.mqttUrl ?? '', { username: 'ha', password: secrets.mqttPassword, protocolVersion: 4 });
  await probe.subscribe(`${B}/#`);
  const rig = { h, probe, dir, recording, secrets };
  rigs.push(rig);
  return rig;
}

function command(r: Rig, payload: unknown): Promise<Record<string, unknown>> {
  return r.probe.command(B, payload, { timeoutMs: 15_000 });
}

/** A Payload frame whose body carries `secret` in a field the schema does not know (field 99). */
function payloadWithUnknownField(secret: string): Uint8Array {
  const body = qconnect.Payload.encode({ msg_id: 77, proto: 1, payload: { messages: [] } }).finish();
  const value = Buffer.from(secret);
  const extra = Buffer.from([...varintBytes((99 << 3) | 2), ...varintBytes(value.length)]);
  return joinEnvelope(6, Buffer.concat([body, extra, value]));
}

function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { env: { ...process.env, LOG_LEVEL: 'error' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('wire recorder and bug-report bundle (issue #21 part 2, README "Reporting a problem")', () => {
  it('records a session that decodes back, and no bundle or recording holds a secret, JWT, stream token or signed URL in any encoding', async () => {
    const r = await startRig();
    const { h } = r;
    const app = await h.connectApp({ loadQueue: true });
    app.sim.jump(0, { playing: true });
    await h.mpd.waitForStatus((s) => s.state === 'play', 20_000);

    // Stream tokens are in MPD's queue; a signed URL is what the stream route redirects to.
    const uris = (await h.mpd.songs()).flatMap((s) => s.file ?? []);
    const streamTokens = uris.map((u) => /\/stream\/living_room\/([A-Za-z0-9_-]+)\./.exec(u)?.[1] ?? '').filter(Boolean);
    expect(streamTokens.length).toBeGreaterThan(0);
    const redirect = await fetch(`http://127.0.0.1:${h.bridge.httpPort}/stream/living_room/${streamTokens[0]}.flac`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const signedUrl = redirect.headers.get('location') ?? '';
    const hmac = new URL(signedUrl).searchParams.get('hmac') ?? '';
    expect(hmac.length).toBeGreaterThan(10);

    // Secrets in frames from the service: a JWT and an e-mail in an error text, a JWT in an unknown field.
    app.sim.sendError(app.rendererId, 'SOME_ERROR', `token ${app.jwt} of ${EMAIL} refused`);
    app.sim.sendRaw(app.rendererId, payloadWithUnknownField(app.jwtApi));
    await h.mpd.command('status');
    // MQTT: recording off and on again, answered like every command.
    expect(await command(r, { record: false, id: 'r1' })).toMatchObject({ ok: true });
    expect(h.bridge.diagnostics.isRecording('living_room')).toBe(false);
    expect(await command(r, { record: true })).toMatchObject({ ok: true });
    expect(h.bridge.diagnostics.isRecording('living_room')).toBe(true);
    expect(await command(r, { record: 'yes' })).toMatchObject({ ok: false });
    app.sim.pause();
    await h.mpd.waitForStatus((s) => s.state === 'pause', 20_000);
    await h.bridge.diagnostics.flush();

    const secrets = {
      app_secret: [h.api.appSecret],
      user_auth_token: [h.config.qobuz.user_auth_token ?? ''],
      mqtt_password: [r.secrets.mqttPassword],
      diagnostics_token: [r.secrets.diagnosticsToken],
      app_jwt: [app.jwt, app.jwt.split('.')[2] ?? ''],
      api_jwt: [app.jwtApi, app.jwtApi.split('.')[2] ?? ''],
      minted_jwts: h.minted.flatMap((m) => [m.jwt, m.jwt.split('.')[2] ?? '']),
      stream_tokens: streamTokens,
      signed_url: [signedUrl, hmac],
      email: [EMAIL],
    };
    expect(h.minted.length).toBeGreaterThan(0);

    // The bundle from this host.
    const res = await fetch(`http://127.0.0.1:${h.bridge.httpPort}/diagnostics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const bundle = JSON.parse(text) as Bundle;
    expect(bundle.version).toBe('0.1.0-test');
    expect(bundle.node).toBe(process.version);
    expect(bundle.os.platform).toBe(process.platform);
    expect(bundle.config.qobuz.app_secret).toBe('[redacted]');
    expect(bundle.config.qobuz.app_id).toBe(h.api.appId);
    expect(bundle.config.mqtt.password).toBe('[redacted]');
    const player = bundle.players?.['living_room'];
    if (!player) throw new Error('no player in the bundle');
    expect(player.view.state).toBe('paused');
    expect(player.session.state).toBe('active');
    expect(player.queue.length).toBe(2);
    const frames = player.frames;
    expect(frames.length).toBeGreaterThan(10);
    const auth = frames.find((f) => f.envelopes.includes('AUTHENTICATE'));
    expect(auth).toMatchObject({ dir: 'out', raw: null, raw_omitted: 'secret', body: { authenticate: { jwt: '[redacted]' } } });
    expect(frames.some((f) => f.dir === 'in' && f.types.includes(43) && typeof f.raw === 'string')).toBe(true);
    expect(frames.some((f) => f.body?.payload?._unknown?.['99'] === '[redacted]' && f.raw === null)).toBe(true);
    expect(player.calls.some((c) => c.kind === 'rest' && c.path === 'track/getFileUrl')).toBe(true);
    expect(player.calls.some((c) => c.kind === 'mpd' && c.command === 'addid')).toBe(true);
    expect(player.mpd_statuses.length).toBeGreaterThan(0);
    expect(bundle.log.length).toBeGreaterThan(5);
    expect(bundle.metrics).toContain('# TYPE');
    expect(leaks(text, secrets)).toEqual([]);

    // The recording: every line a record, none leaking, and it decodes back with filters.
    const files = readdirSync(r.dir).filter((f) => f.startsWith('wire.jsonl'));
    const recorded = files.map((f) => readFileSync(join(r.dir, f), 'utf8')).join('');
    expect(recorded.split('\n').filter(Boolean).length).toBeGreaterThan(10);
    expect(leaks(recorded, secrets)).toEqual([]);
    const out: string[] = [];
    const io = { out: (t: string) => void out.push(t), err: (t: string) => void out.push(`ERR ${t}`) };
    expect(await decodeFileCommand(['--file', r.recording], io)).toBe(0);
    const decoded = out.map((l) => JSON.parse(l) as Rec);
    const framesOf = (d: Rec): DecodedFrame[] => (d.decoded === undefined ? [] : [d.decoded].flat());
    expect(decoded.some((d) => framesOf(d).some((f) => f.authenticate?.jwt === '[redacted]'))).toBe(true);
    const setStates = decoded.filter((d) => d.kind === 'qconnect' && d.dir === 'in' && d.types.includes(41));
    expect(setStates.length).toBeGreaterThan(0);
    const batches = setStates.flatMap((d) => framesOf(d).flatMap((f) => f.payload?.payload?.messages ?? []));
    expect(batches.some((m) => m.SrvrRndrSetState?.playing_state === 'PAUSED')).toBe(true);
    expect(decoded.some((d) => d.kind === 'mpd' && d.command === 'addid' && String(d.args?.[0]).includes('/stream/living_room/'))).toBe(true);
    out.length = 0;
    expect(await decodeFileCommand(['--file', r.recording, '--type', 'SrvrRndrSetActive', '--player', 'living_room'], io)).toBe(0);
    expect(out.length).toBeGreaterThan(0);
    expect(out.every((l) => (JSON.parse(l) as { types: number[] }).types.includes(43))).toBe(true);
    out.length = 0;
    expect(await decodeFileCommand(['--file', r.recording, '--player', 'kitchen'], io)).toBe(0);
    expect(out).toEqual([]);

    // `report` against the running bridge (its port and token from a config file), then with none answering.
    const reportConfig = join(r.dir, 'report.json');
    writeFileSync(
      reportConfig,
      JSON.stringify({
        qobuz: { app_id: h.api.appId, app_secret: h.api.appSecret, user_auth_token: h.config.qobuz.user_auth_token },
        http: { port: h.bridge.httpPort, bind: '127.0.0.1' },
        mqtt: { username: 'ha', password: r.secrets.mqttPassword },
        diagnostics: { token: r.secrets.diagnosticsToken },
        players: [{ id: 'living_room', name: 'Living Room' }],
      }),
    );
    const outFile = join(r.dir, 'bundle.json');
    const full = await cli(['report', '--config', reportConfig, '--out', outFile]);
    expect(full.status).toBe(0);
    expect(full.stderr).toContain("the running bridge's bundle");
    const written = readFileSync(outFile, 'utf8');
    expect((JSON.parse(written) as Bundle).players?.['living_room']).toBeDefined();
    expect(leaks(written, secrets)).toEqual([]);

    const idleConfig = join(r.dir, 'idle.json');
    writeFileSync(idleConfig, JSON.stringify({ ...JSON.parse(readFileSync(reportConfig, 'utf8')), http: { port: await freePort(), bind: '127.0.0.1' } }));
    const small = await cli(['report', '--config', idleConfig, '--out', join(r.dir, 'small.json')]);
    expect(small.status).toBe(0);
    expect(small.stderr).toContain('no bridge answered');
    const smallText = readFileSync(join(r.dir, 'small.json'), 'utf8');
    const smallBundle = JSON.parse(smallText) as Bundle;
    expect(smallBundle).toMatchObject({ version: expect.any(String), node: process.version, bridge: { running: false } });
    expect(smallBundle.config.qobuz.app_secret).toBe('[redacted]');
    expect(smallBundle.players).toBeUndefined();
    expect(leaks(smallText, secrets)).toEqual([]);
  }, 120_000);

  it('turns the recorder on from the command line with --record FILE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qcb-diag-cli-'));
    const recording = join(dir, 'cli.jsonl');
    const config = join(dir, 'config.json');
    // No MPD here: the recorder opens its file at start all the same.
    await writeSoloBridgeConfig(config);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config', config, '--record', recording], {
      env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'info' },
    });
    let stderr = '';
    const running = new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('bridge running')) resolve();
      });
      child.on('close', () => reject(new Error(`the bridge ended: ${stderr}`)));
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await running;
      expect(stderr).toContain('wire recording on');
      expect(readdirSync(dir)).toContain('cli.jsonl');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await closed).toBe(0);
  }, 60_000);
});
