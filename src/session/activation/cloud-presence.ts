import type { Logger } from 'pino';
import type { LinkToken } from '../../core/link-token.js';
import { errorMessage } from '../../core/qcb-error.js';
import { Backoff } from '../../util/backoff.js';

/**
 * Cloud presence (README "Own Qobuz identity", docs/protocol.md §8): with a user token the player
 * mints its own WebSocket token at start and joins the account's session in the background, so
 * the Qobuz app lists it from any network. This only mints and retries; the session opens the
 * link, and only when it has none (an app's connect always wins: one link per player).
 */
export interface CloudPresenceOptions {
  /** `qws/createToken` with the user token. */
  readonly mint: () => Promise<LinkToken>;
  /** Joins with `token` unless the player has a link by now (queued into the player's loop). */
  readonly join: (token: LinkToken) => void;
  readonly logger: Logger;
  /** Delays between failed mints, and before joining again after a link ended for good. */
  readonly retryStepsMs?: readonly number[];
}

/** A refused user token stays refused for a while: no point asking Qobuz more often than this. */
const CLOUD_RETRY_STEPS_MS = [5_000, 15_000, 60_000, 300_000] as const;
/** The delays start over only after a join that lasted this long (a service ending each join at once must not cause a tight loop). */
const STABLE_AFTER_MS = 10 * 60_000;

export class CloudPresence {
  readonly #o: CloudPresenceOptions;
  readonly #backoff: Backoff;
  #timer: NodeJS.Timeout | null = null;
  #minting = false;
  #stopped = false;

  constructor(options: CloudPresenceOptions) {
    this.#o = options;
    this.#backoff = new Backoff(options.retryStepsMs ?? CLOUD_RETRY_STEPS_MS, STABLE_AFTER_MS);
  }

  start(): void {
    this.#attempt();
  }

  /** The player's link ended for good: join again after a while. */
  rejoinLater(): void {
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #attempt(): void {
    if (this.#stopped || this.#minting) return;
    this.#minting = true;
    this.#o.mint().then(
      (token) => {
        this.#minting = false;
        if (this.#stopped) return;
        this.#backoff.connected();
        this.#o.join(token);
      },
      (err: unknown) => {
        this.#minting = false;
        if (this.#stopped) return;
        this.#o.logger.warn(
          { err: errorMessage(err) },
          'cannot join Qobuz with qobuz.user_auth_token (qws/createToken failed); trying again later',
        );
        this.#schedule();
      },
    );
  }

  #schedule(): void {
    if (this.#stopped || this.#timer) return;
    const delayMs = this.#backoff.next();
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#attempt();
    }, delayMs);
    this.#timer.unref();
  }
}
