import type { Logger } from 'pino';
import { QcbError } from '../../core/qcb-error.js';
import type { QcMessage } from '../../protocol/frame-codec.js';
import { uuidBytes } from '../../protocol/renderer-messages.js';

/**
 * The join on a link of our own (cloud presence, README "Own Qobuz identity"; docs/protocol.md §8
 * and "Unknowns"). Our minted token names the account, not a session, so the 61 carries no
 * session uuid, and no capture shows whether the production service takes that. When it refuses
 * (a type-1 error before it names our renderer), we fall back to what is known: the session uuid
 * we last saw (from the app's connect, or an 81), at once on the same link; with none, presence is
 * off until the app picks the speaker, and the cloud join is tried again on its backoff. One
 * warning says so; later refusals are logged at debug.
 */
export class OwnJoin {
  readonly #log: Logger;
  #lastSessionUuid: string | null = null;
  /** The service refused a 61 without a session uuid: ours carry the last one known from now on. */
  #needsSession = false;
  #warned = false;
  /** Our last join was refused with nothing else to try. */
  #off = false;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** A session this account's devices are in (the app's connect, an 81). */
  seen(sessionUuid: string | null | undefined): void {
    if (sessionUuid) this.#lastSessionUuid = sessionUuid;
  }

  /** What a 61 on our own link carries: nothing, unless the service refused that and we know a session. */
  sessionUuid(): Uint8Array | null {
    return this.#needsSession && this.#lastSessionUuid ? uuidBytes(this.#lastSessionUuid) : null;
  }

  /** Why a link of ours ended before it joined: the service refused the join (ERR_QOBUZ_REFUSED), else null. */
  refusal(): QcbError | null {
    return this.#off
      ? new QcbError(
          'ERR_QOBUZ_REFUSED',
          "Qobuz refused to join the account's session without a session uuid: pick this speaker in the Qobuz app once",
        )
      : null;
  }

  /**
   * After a batch on a link (`own`: one of ours, not the app's): a type-1 error before the service
   * named us refuses our join. 'retry': join again now (with the last session uuid); 'off': close
   * the link and try again later; null: nothing to do.
   */
  afterBatch(
    own: boolean,
    joined: boolean,
    sessionUuid: string | null,
    messages: readonly QcMessage[],
  ): 'retry' | 'off' | null {
    this.seen(sessionUuid);
    if (!own) return null;
    if (joined) {
      this.#off = false;
      return null;
    }
    const error = messages.find((m) => m.type === 1);
    if (!error) return null;
    const text = error.type === 1 ? (error.body.message ?? '') : '';
    const hadUuid = this.sessionUuid() !== null;
    this.#needsSession = true;
    if (!hadUuid && this.#lastSessionUuid) {
      this.#once(text, 'joining again with the last session uuid seen');
      return 'retry';
    }
    // A remembered session refused too is gone: the next try goes without one again.
    if (hadUuid) this.#lastSessionUuid = null;
    this.#off = true;
    this.#once(
      text,
      'the speaker shows in the Qobuz app again once it is picked there; joining the account is tried again later',
    );
    return 'off';
  }

  #once(text: string, then: string): void {
    const line = `Qobuz refused to join the account's session without a session uuid (${text || 'no reason given'}): ${then}`;
    if (this.#warned) this.#log.debug(line);
    else this.#log.warn(line);
    this.#warned = true;
  }
}
