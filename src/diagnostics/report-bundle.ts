import { arch, platform, release, type } from 'node:os';
import type { Redactor } from '../util/redactor.js';
import type { Diagnostics } from './diagnostics.js';

/**
 * The bug-report bundle (README "Reporting a problem"): one JSON document a user can attach
 * to an issue. What it holds is listed here and in the README; what it never holds (tokens,
 * JWTs, the app secret, passwords, stream tokens, signed URLs, user ids, e-mail addresses) is
 * kept out by the redactor's strict pass over every part and once more over the whole.
 */

const BUNDLE_FORMAT = 1;

interface BundlePlayer {
  readonly id: string;
  /** What MQTT shows of the player (state, track, volume, queue length and index). */
  readonly view: unknown;
  /** The Qobuz session: state, session id, link state. */
  readonly session: unknown;
  /** The queue in short: version, length, index, shuffle, next item. */
  readonly queue: unknown;
}

export interface BundleSources {
  readonly version: string;
  /** The loaded configuration; its secrets are censored here. */
  readonly config: unknown;
  readonly redactor: Redactor;
  readonly diagnostics: Diagnostics;
  players(): readonly BundlePlayer[];
  /** Prometheus text of /metrics. */
  metrics(): Promise<string>;
}

/** What every bundle holds, also the smaller one `report` writes when no bridge answers. */
export function baseBundle(input: {
  readonly version: string;
  readonly config: unknown;
  readonly redactor: Redactor;
}): Record<string, unknown> {
  return {
    bundle: 'qobuz-connect-bridge diagnostics',
    format: BUNDLE_FORMAT,
    created_at: new Date().toISOString(),
    version: input.version,
    node: process.version,
    os: { type: type(), platform: platform(), release: release(), arch: arch() },
    config: configWithoutSecrets(input.config, input.redactor),
  };
}

/** The config with every secret-named value (`app_secret`, `user_auth_token`, `password`, `token`) censored. */
function configWithoutSecrets(config: unknown, redactor: Redactor): unknown {
  return redactor.scrubStrict(config);
}

export async function buildReportBundle(sources: BundleSources): Promise<Record<string, unknown>> {
  const d = sources.diagnostics;
  let metrics: string;
  try {
    metrics = await sources.metrics();
  } catch (err) {
    metrics = `metrics unavailable: ${err instanceof Error ? err.message : String(err)}`;
  }
  const players: Record<string, unknown> = {};
  for (const p of sources.players()) {
    players[p.id] = {
      view: d.renderer.value(p.view),
      session: d.renderer.value(p.session),
      queue: d.renderer.value(p.queue),
      recording: d.isRecording(p.id),
      frames: d.recentFrames(p.id),
      calls: d.recentCalls(p.id),
      mpd_statuses: d.recentStatuses(p.id),
    };
  }
  const bundle = {
    ...baseBundle(sources),
    bridge: { running: true, uptime_s: Math.round(process.uptime()), recorder: d.recorderState() },
    players,
    log: d.recentLogLines(),
    metrics,
  };
  // Each part is redacted already; this last pass over the whole costs little and forgives an oversight.
  return sources.redactor.scrubStrict(bundle) as Record<string, unknown>;
}
