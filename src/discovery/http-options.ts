import type { Logger } from 'pino';
import type { ConnectHandler } from '../core/connect-request.js';
import type { DeviceTypeName, MaxAudioQualityName } from './device-types.js';

/** One player as the device routes see it (docs/protocol.md §2). */
export interface HttpPlayer {
  readonly id: string;
  readonly name: string;
  /** Hyphenated device uuid: the `{uuid}` of `/devices/{uuid}/…` and `serial_number`. */
  readonly uuid: string;
  readonly deviceType: DeviceTypeName;
  readonly maxAudioQuality: MaxAudioQualityName;
}

export interface HttpServerOptions {
  /** 0 picks a free port (see HttpServer.port). */
  readonly port: number;
  /** Address to listen on, e.g. `0.0.0.0` or `127.0.0.1`. */
  readonly bind: string;
  readonly players: readonly HttpPlayer[];
  /** get-connect-info `app_id`. */
  readonly appId: string;
  /** get-display-info `brand_display_name`; default `qobuz-connect-bridge`. */
  readonly brand?: string;
  /** get-display-info `model_display_name`. */
  readonly model: string;
  /** Patterns for `jwt_qconnect.endpoint` hosts: `*.qobuz.com` (subdomains) or exact names. */
  readonly allowedEndpointHosts: readonly string[];
  /** Hyphenated uuid of the player's current Qobuz session, or `""`. */
  currentSessionId(playerId: string): string;
  /** Hands a validated, allowed connect request to the player's session. */
  readonly onConnect: ConnectHandler;
  /** A connect refused at the route (README "Security": metrics), with a reason label. */
  readonly onConnectRefused?: (playerId: string, reason: string) => void;
  /** A freshly signed stream URL for the queue item token, or null when unknown. */
  resolveStream(playerId: string, token: string): Promise<string | null>;
  /** The album image of what the player plays, for MPD's `albumart` (issue #16); null when none. */
  cover?(playerId: string): Promise<{ readonly bytes: Buffer; readonly contentType: string } | null>;
  /** JSON for GET /healthz. */
  health(): unknown;
  /** Prometheus text for GET /metrics. */
  metrics(): Promise<{ contentType: string; body: string }>;
  /** The bug-report bundle for GET /diagnostics (README "Reporting a problem"); absent: no route. */
  diagnostics?(): Promise<unknown>;
  /** `diagnostics.token`: lets a non-loopback client fetch /diagnostics; null or absent = loopback only. */
  readonly diagnosticsToken?: string | null;
  readonly logger: Logger;
  /** docs/protocol.md §2: 64 KiB. */
  readonly maxBodyBytes?: number;
  /** The advertised IPv4, accepted as `Host` (README "HTTP endpoints": DNS rebinding); IP literals pass anyway. */
  readonly advertiseAddress?: string;
  /** Scrubs the text of every error answer (default: the process-wide redactor). */
  readonly redact?: (text: string) => string;
  /**
   * Addresses the global connection cap never shuts out (README "Security"): this host's own and the
   * configured MPD hosts', so MPD's stream redirects stay answerable.
   */
  readonly reservedHosts?: readonly string[];
  /** Slow clients and connection count (README "HTTP endpoints"); tests shrink them. */
  readonly limits?: Partial<HttpLimits>;
}

/** README "HTTP endpoints": slow clients are cut off (headers 10 s, whole request 30 s), with a cap on open connections. */
export interface HttpLimits {
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** How often Node looks for connections past those timeouts (its default, 30 s, would let them live 30 s more). */
  readonly checkIntervalMs: number;
  /** Idle keep-alive connections are closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** Open connections beyond this are closed at once: the app, one or two per MPD and a monitor need a handful. */
  readonly maxConnections: number;
  /** Open connections from one source address (README "Security", issue #26): more are closed at once. */
  readonly maxConnectionsPerHost: number;
  /**
   * The same for this host's own addresses and the configured MPD hosts, which the global cap never
   * shuts out: MPD's stream redirects stay answerable while other hosts hold their share.
   */
  readonly maxConnectionsPerReservedHost: number;
  /** connect-to-qconnect per source address and player in a minute; more are answered 429. */
  readonly connectsPerMinute: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  checkIntervalMs: 1_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 128,
  maxConnectionsPerHost: 16,
  maxConnectionsPerReservedHost: 64,
  connectsPerMinute: 6,
};
