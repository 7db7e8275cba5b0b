import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * `/metrics` in Prometheus text format (issue #7): sessions, Qobuz commands by type and their
 * handling latency, reconnects, MPD errors, frames in and out. One registry per Bridge, so
 * several bridges in one process (tests, benches) never share counters.
 */
export class BridgeMetrics {
  readonly registry = new Registry();
  /** Session state of each player, read at scrape time (see `sessionStates`). */
  sessionStates: () => readonly string[] = () => [];
  readonly sessions = new Gauge({
    name: 'qcb_sessions',
    help: 'Players by Qobuz session state (active, connected, disconnected, expired)',
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect: () => {
      const counts: Record<string, number> = { active: 0, connected: 0, disconnected: 0, expired: 0 };
      for (const state of this.sessionStates()) counts[state] = (counts[state] ?? 0) + 1;
      for (const [state, n] of Object.entries(counts)) this.sessions.set({ state }, n);
    },
  });
  readonly commands = new Counter({
    name: 'qcb_qobuz_commands_total',
    help: 'Messages received from the Qobuz service, by message type',
    labelNames: ['player', 'type'] as const,
    registers: [this.registry],
  });
  readonly commandLatency = new Histogram({
    name: 'qcb_qobuz_command_duration_seconds',
    help: 'Time to handle one Qobuz message, including the player command it causes',
    labelNames: ['type'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly reconnects = new Counter({
    name: 'qcb_qobuz_reconnects_total',
    help: 'Qobuz WebSocket reconnections',
    labelNames: ['player'] as const,
    registers: [this.registry],
  });
  readonly tokenRenewals = new Counter({
    name: 'qcb_qobuz_token_renewals_total',
    help: 'WebSocket tokens minted with the user token (qws/createToken), ahead of expiry or at a reconnect',
    labelNames: ['player', 'when'] as const,
    registers: [this.registry],
  });
  readonly mpdErrors = new Counter({
    name: 'qcb_mpd_errors_total',
    help: 'MPD unreachable episodes and items MPD failed to play',
    labelNames: ['player', 'kind'] as const,
    registers: [this.registry],
  });
  readonly frames = new Counter({
    name: 'qcb_qobuz_frames_total',
    help: 'QConnect frames, by direction',
    labelNames: ['player', 'direction'] as const,
    registers: [this.registry],
  });

  /**
   * README "Security" (issue #26): every app connect and its outcome. `result` accepted (reason
   * `joined`), rejected by the service or in time (reasons of ConnectRejection), or refused at the
   * route (`rate_limited`, `expired_token`, `bad_request`, `endpoint_not_allowed`).
   */
  readonly connects = new Counter({
    name: 'qcb_connects_total',
    help: 'connect-to-qconnect requests by outcome (accepted, rejected, refused) and reason',
    labelNames: ['player', 'result', 'reason'] as const,
    registers: [this.registry],
  });

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
