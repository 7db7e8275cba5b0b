/** Timings of each player's session (defaults: the protocol's own, docs/protocol.md §3 and §5.7); tests and benches shorten them. */
export interface SessionTuning {
  readonly heartbeatMs?: number;
  readonly backoffStepsMs?: readonly number[];
  readonly pingIntervalMs?: number;
  readonly deadAfterMs?: number;
  /** README "Own Qobuz identity": play_media / transfer step and play deadlines, cloud join retries. */
  readonly mediaStepTimeoutMs?: number;
  readonly mediaPlayTimeoutMs?: number;
  readonly cloudRetryStepsMs?: readonly number[];
}
