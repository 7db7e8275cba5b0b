import { afterEach, beforeEach, expect } from 'vitest';
import WebSocket from 'ws';
import { decodeFrames, type Frame } from '../../src/protocol/frame-codec.js';
import { FrameWriter } from '../../src/protocol/frame-writer.js';
import type { DeviceInfoValue } from '../../src/protocol/renderer-messages.js';
import { uuidBytes } from './qconnect-records.js';
import { QconnectService, type QconnectServiceOptions } from './qconnect-service.js';
import type { SimSession } from './qconnect-session.js';
import { SimRenderer, type SimRendererOptions } from './sim-renderer.js';

/**
 * Vitest wiring for the simulated Qobuz Connect service (issue #4): a fresh started service and
 * session per test, SimRenderers that join it, and a teardown that closes them, stops the
 * service and fails the test when the service caught an exception while handling a message.
 *
 * ```ts
 * const sim = useSimService();
 * it('…', async () => {
 *   const a = await sim.join(1, { autoRespond: false });
 *   sim.session.pickRenderer(a.rendererId);
 * });
 * ```
 */

export interface SimServiceHarness {
  readonly service: QconnectService;
  readonly sessionId: string;
  readonly session: SimSession;
  /** A SimRenderer with device uuid `deviceUuid(n)` and name `sim <n>`, joined with a token of its own. */
  join(n: number, opts?: Partial<SimRendererOptions>): Promise<SimRenderer>;
  /** The options join(n) would use (a fresh token), for SimRenderer.connect by hand. */
  options(n: number, opts?: Partial<SimRendererOptions>): SimRendererOptions;
  /** A bare WebSocket client (no handshake sent), decoding what it receives, terminated in teardown. */
  rawClient(): Promise<RawClient>;
  /** Closes `sim` in teardown (for SimRenderers connected by hand). */
  track(sim: SimRenderer): SimRenderer;
}

export interface RawClient {
  readonly ws: WebSocket;
  readonly writer: FrameWriter;
  /** Every frame received so far. */
  readonly frames: Frame[];
  /** Resolves with the close code. */
  readonly closed: Promise<number>;
}

export const deviceUuid = (n: number): string =>
  `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

export function useSimService(options?: QconnectServiceOptions): SimServiceHarness {
  let service: QconnectService | undefined;
  let sessionId = '';
  const sims: SimRenderer[] = [];
  const raws: WebSocket[] = [];
  const started = (): QconnectService => {
    if (!service) throw new Error('useSimService: use it inside a test');
    return service;
  };

  beforeEach(async () => {
    service = new QconnectService(options);
    await service.start();
    sessionId = service.issueToken().sessionId;
  });

  afterEach(async () => {
    await Promise.all(sims.splice(0).map((s) => s.close()));
    for (const ws of raws.splice(0)) ws.terminate();
    const s = started();
    await s.stop();
    expect(s.errors).toEqual([]);
  });

  const harness: SimServiceHarness = {
    get service() {
      return started();
    },
    get sessionId() {
      return sessionId;
    },
    get session() {
      return started().session(sessionId);
    },
    async join(n, opts = {}) {
      return harness.track(await SimRenderer.connect(harness.options(n, opts)));
    },
    options(n, opts = {}) {
      const t = started().issueToken({ sessionId });
      return {
        endpoint: t.endpoint,
        jwt: t.jwt,
        sessionId,
        deviceUuid: deviceUuid(n),
        name: `sim ${n}`,
        ...opts,
      };
    },
    async rawClient() {
      const ws = new WebSocket(started().endpoint, ['qws']);
      raws.push(ws);
      const frames: Frame[] = [];
      ws.on('message', (d: Buffer) => frames.push(...decodeFrames(Uint8Array.from(d))));
      const closed = new Promise<number>((resolve) => ws.once('close', resolve));
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      return { ws, writer: new FrameWriter(), frames, closed };
    },
    track(sim) {
      sims.push(sim);
      return sim;
    },
  };
  return harness;
}

/** DeviceInfo of raw test client `n` (for joins built by hand). */
export const rawDevice = (n: number): DeviceInfoValue => ({
  uuid: uuidBytes(deviceUuid(n)),
  ...{ friendlyName: `raw ${n}`, brand: 'b', model: 'm', serialNumber: 's', type: 1, softwareVersion: '1' },
  ...{ minAudioQuality: 1, maxAudioQuality: 4, volumeRemoteControl: true },
});

type Versioned = { queue_version?: { major?: number | null; minor?: number | null } | null };
/** `major.minor` of a body's queue_version (absent parts are 0 on the wire). */
export const versionOf = (b: Versioned | undefined): string =>
  `${b?.queue_version?.major ?? 0}.${b?.queue_version?.minor ?? 0}`;
