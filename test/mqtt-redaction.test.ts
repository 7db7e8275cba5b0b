import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { PlayerView } from '../src/core/player-view.js';
import { QcbError } from '../src/core/qcb-error.js';
import { StreamTokens, stripStreamTokens } from '../src/core/stream-tokens.js';
import { EmbeddedBroker } from '../src/mqtt/embedded-broker.js';
import { MqttAdapter } from '../src/mqtt/mqtt-adapter.js';
import { Redactor } from '../src/util/redactor.js';
import { connectProbe } from './support/mosquitto-server.js';

/**
 * Issue #13: anything the bridge publishes passes through the redactor — events (an MPD error
 * `reason` quoting a stream URL), command results (`set/result` errors), states — while user
 * text that merely looks like a credential ("Basic Instinct") is left alone. Real broker, real client.
 */
const silent = pino({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const SESSION_JWT = 'eyJsession.jwt-of-the-app-4242.sig';
const USER_TOKEN = 'user-token-not-jwt-shaped-9191';

function view(title: string): PlayerView {
  return {
    state: 'playing',
    qobuzSession: 'active',
    volume: 40,
    muted: false,
    positionMs: 0,
    positionAtMs: Date.now(),
    durationMs: 180_000,
    shuffle: false,
    repeat: 'off',
    track: { id: 1, title, artist: 'Basic Channel', album: null, coverUrl: 'https://static.qobuz.com/images/covers/ab/cd/x_600.jpg', durationMs: 180_000, sampleRateHz: 44_100, bitDepth: 16 },
    queue: { length: 1, index: 0 },
    available: true,
  };
}

describe('what the bridge publishes passes through the redactor (issue #13)', () => {
  it('strips session tokens and stream tokens from events and set/result errors, and leaves titles alone', async () => {
    const broker = new EmbeddedBroker({ port: 0, bind: '127.0.0.1', logger: silent });
    await broker.start();
    cleanups.push(() => broker.stop());
    const redactor = new Redactor();
    redactor.setRule('stream-tokens', stripStreamTokens);
    redactor.setSecrets('player:den', [SESSION_JWT, USER_TOKEN]);
    const streamToken = new StreamTokens().tokenFor('den', { queueItemId: 3, trackId: 33 });
    const streamUrl = `http://10.0.0.2:8689/stream/den/${streamToken}.flac`;
    const adapter = new MqttAdapter({
      link: { url: broker.url, protocolVersion: EmbeddedBroker.protocolVersion, reconnectPeriodMs: 200 },
      baseTopic: 'qc',
      discovery: { enabled: false, prefix: 'homeassistant' },
      bridge: { version: '0.1.0', name: 'Bridge' },
      players: [{ id: 'den', name: 'Den', uuid: 'den-uuid' }],
      onCommand: async () => {
        throw new QcbError('ERR_MPD_COMMAND', `MPD addid: could not open ${streamUrl} with Bearer ${USER_TOKEN}`);
      },
      logger: silent,
      redactor,
    });
    cleanups.push(() => adapter.stop());
    await adapter.start();
    const p = await connectProbe(broker.url, { protocolVersion: 4 });
    cleanups.push(() => p.end());
    await p.subscribe('qc/den/#');

    adapter.publishEvent('den', { type: 'playback_error', atMs: Date.now(), fields: { reason: `Failed to decode ${streamUrl}; CURL failed: 404`, note: `token ${SESSION_JWT}` } });
    adapter.publishState('den', view('Basic Instinct'));
    await p.publish('qc/den/set', '{"action":"play"}');

    const event = JSON.parse((await p.waitFor((m) => m.topic === 'qc/den/event')).payload) as Record<string, unknown>;
    expect(event).toMatchObject({ type: 'playback_error', reason: 'Failed to decode http://10.0.0.2:8689/stream/den/[token].flac; CURL failed: 404', note: 'token [redacted]' });
    const result = JSON.parse((await p.waitFor((m) => m.topic === 'qc/den/set/result')).payload) as Record<string, unknown>;
    expect(result).toEqual({ ok: false, error: 'MPD addid: could not open http://10.0.0.2:8689/stream/den/[token].flac with Bearer [redacted]', code: 'ERR_MPD_COMMAND' });
    const state = JSON.parse((await p.waitFor((m) => m.topic === 'qc/den/state')).payload) as { track: { title: string; artist: string } };
    expect(state.track).toMatchObject({ title: 'Basic Instinct', artist: 'Basic Channel' });

    const everything = p.messages.map((m) => m.payload).join('\n');
    for (const secret of [streamToken, SESSION_JWT, USER_TOKEN]) expect(everything).not.toContain(secret);
  });
});
