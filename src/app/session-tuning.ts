import type { QueueListingTuning } from '../session/queue/queue-publisher.js';

/** Timings of each player's session (defaults: the protocol's own, docs/protocol.md §3 and §5.7); tests and benches shorten them. */
export interface SessionTuning {
  readonly heartbeatMs?: number;
  readonly backoffStepsMs?: readonly number[];
  readonly pingIntervalMs?: number;
  readonly deadAfterMs?: number;
  /** How long before a WebSocket token's expiry the next one is minted (with a user token). */
  readonly tokenRenewAheadMs?: number;
  /** The MQTT queue listing's lookup rate and publish timing (issue #14). */
  readonly queueListing?: QueueListingTuning;
  /** README "Own Qobuz identity": play_media / transfer step and play deadlines, cloud join retries. */
  readonly mediaStepTimeoutMs?: number;
  readonly mediaPlayTimeoutMs?: number;
  readonly cloudRetryStepsMs?: readonly number[];
  /** Make before break (README "Security"): how long an app's connect may take to be joined (default 20 s). */
  readonly connectAcceptTimeoutMs?: number;
}
