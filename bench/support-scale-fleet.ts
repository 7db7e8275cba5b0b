import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PlayerSession } from '../src/session/player-session.js';
import { sessionLinkFactory } from '../src/app/session-link-factory.js';
import type { StatePublisher } from '../src/core/player-view.js';
import { MemoryPlayer } from '../test/support/memory-player.js';
import type { IssuedToken } from '../test/support/qconnect-service.js';
import { deviceInfoFor, silent } from '../test/support/session-harness.js';
import type { ScaleStats, ServiceReply, ServiceRequest } from './support-scale-service.js';

/**
 * bench/scale's players (issue #8): N PlayerSessions, each with a MemoryPlayer, its own Qobuz
 * session and its own heartbeat, against the simulated service running in a child process
 * (support-scale-service.ts). "Simulated play": every player plays a long queue, and its
 * MemoryPlayer ends a track every `trackMs` (staggered), as a speaker would.
 */
type Req = ServiceRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class ServiceChild {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #seq = 0;
  readonly ready: Promise<string>;

  constructor() {
    const file = fileURLToPath(new URL('./support-scale-service.ts', import.meta.url));
    this.#child = spawn(process.execPath, ['--import', 'tsx', file], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.ready = new Promise((resolve, reject) => {
      this.#pending.set(0, { resolve: (v) => resolve(String(v)), reject });
      this.#child.once('exit', (code) => reject(new Error(`service child exited (${code})`)));
    });
    this.#child.on('message', (reply: ServiceReply) => {
      const p = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if (reply.ok) p?.resolve(reply.result);
      else p?.reject(new Error(reply.error));
    });
  }

  call<T>(req: Req): Promise<T> {
    const id = ++this.#seq;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: (v) => resolve(v as T), reject });
      this.#child.send({ ...req, id });
    });
  }

  stats(): Promise<ScaleStats> {
    return this.call<ScaleStats>({ op: 'stats' });
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.disconnect(); // the child stops its service and exits
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** Does what the MQTT adapter does with each view before the broker: serialize it. */
function serializingPublisher(counter: { bytes: number }): StatePublisher {
  return {
    publishState: (_id, view) => void (counter.bytes += JSON.stringify(view).length),
    publishEvent: (_id, event) => void (counter.bytes += JSON.stringify(event).length),
    publishAvailability: () => undefined,
  };
}

export interface FleetPlayer {
  readonly index: number;
  readonly session: PlayerSession;
  readonly player: MemoryPlayer;
  readonly token: IssuedToken;
  rendererId: number;
  trackChanges: number;
  timer: NodeJS.Timeout | null;
}

export class Fleet {
  readonly players: FleetPlayer[] = [];
  readonly published = { bytes: 0 };
  readonly #service: ServiceChild;
  readonly #heartbeatMs: number;
  readonly #trackMs: number;

  constructor(o: { service: ServiceChild; heartbeatMs: number; trackMs: number }) {
    this.#service = o.service;
    this.#heartbeatMs = o.heartbeatMs;
    this.#trackMs = o.trackMs;
  }

  /** A new player joins its own Qobuz session, becomes active and starts a 500-track queue. */
  async add(): Promise<FleetPlayer> {
    const index = this.players.length;
    const uuid = `11f97d04-519d-59a5-a42a-${index.toString(16).padStart(12, '0')}`;
    const player = new MemoryPlayer();
    const session = new PlayerSession({
      playerId: `player_${index}`,
      device: deviceInfoFor(uuid, `Player ${index}`),
      joinMode: 'controller',
      maxAudioQuality: 4,
      player,
      publisher: serializingPublisher(this.published),
      trackInfo: null,
      onQueueItems: null,
      logger: silent,
      heartbeatMs: this.#heartbeatMs,
      linkFactory: sessionLinkFactory(),
    });
    session.start();
    const token = await this.#service.call<IssuedToken>({ op: 'issue' });
    await session.connect({
      sessionId: token.sessionId,
      jwtQconnect: { jwt: token.jwt, exp: token.exp, endpoint: token.endpoint },
      jwtApi: { jwt: 'api-jwt', exp: token.exp, endpoint: null },
      becomeActive: true,
    });
    const p: FleetPlayer = { index, session, player, token, rendererId: -1, trackChanges: 0, timer: null };
    p.rendererId = await this.#service.call<number>({ op: 'join', sessionId: token.sessionId, uuid });
    const trackIds = Array.from({ length: 500 }, (_, i) => 100_000 + i);
    await this.#service.call({ op: 'play', sessionId: token.sessionId, rendererId: p.rendererId, trackIds });
    // Staggered, so fifty speakers do not all change tracks in the same millisecond.
    const first = setTimeout(() => {
      p.timer = setInterval(() => this.#endTrack(p), this.#trackMs);
      this.#endTrack(p);
    }, Math.random() * this.#trackMs);
    p.timer = first;
    this.players.push(p);
    return p;
  }

  /** SetState pause or play to player `p`, timed by the service: SetState sent -> 23 received. */
  command(p: FleetPlayer, pause: boolean): Promise<number> {
    return this.#service.call<number>({
      op: 'command',
      sessionId: p.token.sessionId,
      rendererId: p.rendererId,
      pause,
    });
  }

  trackChanges(): number {
    return this.players.reduce((n, p) => n + p.trackChanges, 0);
  }

  joined(): number {
    return this.players.filter((p) => p.session.connected).length;
  }

  async stop(): Promise<void> {
    for (const p of this.players) {
      if (p.timer) clearTimeout(p.timer);
      if (p.timer) clearInterval(p.timer);
    }
    await Promise.all(this.players.map((p) => p.session.stop()));
  }

  #endTrack(p: FleetPlayer): void {
    if (p.player.status !== 'playing') return;
    p.player.finishTrack();
    p.trackChanges += 1;
  }
}
