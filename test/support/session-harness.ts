import { pino, type Logger } from 'pino';
import { PlayerSession, type PlayerSessionOptions } from '../../src/session/player-session.js';
import { sessionLinkFactory } from '../../src/app/session-link-factory.js';
import type { PlayerView, SessionEvent, StatePublisher } from '../../src/core/player-view.js';
import { qconnect } from '../../src/protocol/generated/qconnect.js';
import { MemoryPlayer } from './memory-player.js';
import { QconnectService, type IssuedToken, type SimSession } from './qconnect-service.js';

/**
 * One PlayerSession with an in-memory player, joined to the simulated Qobuz service — the
 * fixture of the session scenarios (issue #4). `close()` stops everything it started.
 */
export interface Harness {
  readonly service: QconnectService;
  readonly sim: SimSession;
  readonly token: IssuedToken;
  readonly player: MemoryPlayer;
  readonly session: PlayerSession;
  readonly published: { states: PlayerView[]; events: SessionEvent[]; availability: boolean[] };
  readonly deviceUuid: string;
  rendererId: number;
  close(): Promise<void>;
}

export const silent: Logger = pino({ level: 'silent' });

export function recordingPublisher(): { publisher: StatePublisher; published: Harness['published'] } {
  const published: Harness['published'] = { states: [], events: [], availability: [] };
  return {
    published,
    publisher: {
      publishState: (_id, view) => void published.states.push(view),
      publishEvent: (_id, event) => void published.events.push(event),
      publishAvailability: (_id, online) => void published.availability.push(online),
    },
  };
}

export function deviceInfoFor(uuid: string, name: string): PlayerSessionOptions['device'] {
  return {
    uuid: Uint8Array.from(Buffer.from(uuid.replace(/-/g, ''), 'hex')),
    friendlyName: name,
    brand: 'qobuz-connect-bridge',
    model: 'MPD',
    serialNumber: uuid,
    type: qconnect.DeviceType.SPEAKER,
    minAudioQuality: 1,
    maxAudioQuality: 4,
    volumeRemoteControl: true,
    softwareVersion: '0.1.0',
  };
}

export async function startHarness(
  opts: {
    service?: QconnectService;
    sessionId?: string;
    deviceUuid?: string;
    joinMode?: 'controller' | 'renderer';
    becomeActive?: boolean;
    expiresInSeconds?: number;
    heartbeatMs?: number;
    waitJoined?: boolean;
    /** The session's clock (the service keeps the real one). */
    now?: () => number;
    renewToken?: PlayerSessionOptions['renewToken'];
    /** Mint the next token this long before expiry (with renewToken). */
    renewAheadMs?: number;
  } = {},
): Promise<Harness> {
  const ownService = !opts.service;
  const service = opts.service ?? new QconnectService();
  if (ownService) await service.start();
  const deviceUuid = opts.deviceUuid ?? '11f97d04-519d-59a5-a42a-544a6f891472';
  const player = new MemoryPlayer();
  const { publisher, published } = recordingPublisher();
  const session = new PlayerSession({
    playerId: 'living_room',
    device: deviceInfoFor(deviceUuid, 'Living Room'),
    joinMode: opts.joinMode ?? 'controller',
    maxAudioQuality: 4,
    player,
    publisher,
    trackInfo: null,
    onQueueItems: null,
    logger: silent,
    heartbeatMs: opts.heartbeatMs ?? 10_000,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.renewToken ? { renewToken: opts.renewToken } : {}),
    linkFactory: sessionLinkFactory({
      tuning: {
        backoffStepsMs: [50, 100, 200],
        pingIntervalMs: 1000,
        deadAfterMs: 3000,
        ...(opts.renewAheadMs ? { renewAheadMs: opts.renewAheadMs } : {}),
      },
    }),
  });
  session.start();
  const token = service.issueToken({
    ...(opts.sessionId ? { sessionId: opts.sessionId } : {}),
    ...(opts.expiresInSeconds !== undefined ? { expiresInSeconds: opts.expiresInSeconds } : {}),
  });
  const sim = service.session(token.sessionId);
  await session.connect({
    sessionId: token.sessionId,
    jwtQconnect: { jwt: token.jwt, exp: token.exp, endpoint: token.endpoint },
    jwtApi: { jwt: 'api-jwt', exp: token.exp, endpoint: null },
    becomeActive: opts.becomeActive ?? true,
  });
  const harness: Harness = {
    service,
    sim,
    token,
    player,
    session,
    published,
    deviceUuid,
    rendererId: -1,
    close: async () => {
      await session.stop();
      if (ownService) await service.stop();
    },
  };
  if (opts.waitJoined !== false) harness.rendererId = await sim.waitForRenderer(deviceUuid);
  return harness;
}

/** Waits until our renderer is the active one and has reported the activation state (§5.4). */
export async function waitActive(h: Harness): Promise<void> {
  await h.sim.waitFor(() => h.sim.activeRendererId === h.rendererId, { what: 'our renderer active' });
  await h.sim.waitForMessage(h.rendererId, 23);
}

/**
 * A harness playing item `index` of a fresh queue of `tracks`, once the reports that follow a start
 * (23 buffer OK, then 26 with the real format) have all arrived: a scenario counting messages from
 * here sees only its own (issue #11: this raced).
 */
export async function startPlaying({ tracks = [111, 222, 333], index = 0 }: { tracks?: number[]; index?: number } = {}): Promise<Harness> {
  const harness = await startHarness();
  await waitActive(harness);
  harness.sim.loadQueue(tracks);
  harness.sim.jump(index, { playing: true });
  await harness.sim.waitFor(
    () =>
      harness.player.current?.queueItemId === index &&
      harness.player.current.trackId === tracks[index] &&
      harness.player.status === 'playing',
    { what: `item ${index} playing` },
  );
  await harness.sim.waitForMessage(harness.rendererId, 26, { after: -1 });
  return harness;
}

export function typesSent(h: Harness): number[] {
  return h.sim.sent(h.rendererId).map((m) => m.type);
}

/** The last state report (23) our renderer sent. */
export function lastReport(h: Harness): qconnect.QueueRendererState.$Properties | undefined {
  const reports = h.sim.sent(h.rendererId).filter((m) => m.type === 23);
  return (reports.at(-1)?.body as { state?: qconnect.QueueRendererState.$Properties } | undefined)?.state;
}
