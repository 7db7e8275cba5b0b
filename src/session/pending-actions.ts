import { QcbError } from '../core/qcb-error.js';
import { runNow, type EnqueuePartInput } from './loop-step.js';

type Waiter = {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  /** The ERR_TIMEOUT its timer fails it with. */
  timeout: () => QcbError;
};

/**
 * Controller verbs waiting for the service's answer (docs/protocol.md §8 "Controller verbs"): a
 * queue edit is done when the service's broadcast carrying its action uuid comes back (89-95),
 * refused when 88 names it, and failed when the link ends or no answer comes in time. The MQTT
 * answer waits on these promises, outside the session's loop; the loop only settles them, a
 * timeout included (it comes back as a 'verb-timeout' input of the loop, loop-step.ts).
 * A verb the service answers without an action uuid (62 `play_item`, docs/protocol.md §8) waits
 * under a string key of its own; several commands may wait for the same key.
 */
export class PendingActions {
  readonly #waiting = new Map<string, Waiter[]>();
  readonly #step: EnqueuePartInput;

  constructor(step: EnqueuePartInput = runNow) {
    this.#step = step;
  }

  get size(): number {
    let n = 0;
    for (const list of this.#waiting.values()) n += list.length;
    return n;
  }

  /** A promise for the answer to `actionUuid`; rejected with ERR_TIMEOUT after `timeoutMs`. */
  expect(actionUuid: Uint8Array | string, what: string, timeoutMs: number): Promise<void> {
    const key = keyOf(actionUuid);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => this.#step({ kind: 'verb-timeout', verbs: this, key, waiter }),
        timeoutMs,
      );
      timer.unref();
      const timeout = (): QcbError =>
        new QcbError(
          'ERR_TIMEOUT',
          `the Qobuz service did not answer ${what} within ${Math.round(timeoutMs / 1000)} s`,
        );
      const waiter: Waiter = { resolve, reject, timer, timeout };
      this.#waiting.set(key, [...(this.#waiting.get(key) ?? []), waiter]);
    });
  }

  /** A verb's timer fired (a 'verb-timeout' input, in the loop): it fails unless answered meanwhile. */
  timedOut(key: string, token: object): void {
    const waiter = (this.#waiting.get(key) ?? []).find((w) => w === token);
    if (!waiter) return; // answered (or failed) meanwhile: nothing left to time out
    this.#remove(key, waiter);
    waiter.reject(waiter.timeout());
  }

  /**
   * The service applied the action: its broadcast came back; true when someone waited for it.
   * Unknown or absent uuids are someone else's.
   */
  answered(actionUuid: Uint8Array | string | null | undefined): boolean {
    return this.#settle(actionUuid, (w) => w.resolve());
  }

  /** The service refused the action (88 with its uuid). */
  refused(actionUuid: Uint8Array | string | null | undefined, reason: string): void {
    this.#settle(actionUuid, (w) =>
      w.reject(new QcbError('ERR_QOBUZ_REFUSED', `the Qobuz service refused it: ${reason}`)),
    );
  }

  /** A type-1 error, which names no verb, while verbs wait: each is refused now, not after its timeout. */
  refuseAll(reason: string): void {
    this.failAll(new QcbError('ERR_QOBUZ_REFUSED', `the Qobuz service refused it: ${reason}`));
  }

  /** The link ended or the session changed: nothing still waiting will be answered. */
  failAll(err: QcbError): void {
    const all = [...this.#waiting.values()].flat();
    this.#waiting.clear();
    for (const w of all) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }

  /** Rejects every waiter whose key `which` picks; the keys it rejected. */
  failWhere(which: (key: string) => boolean, err: QcbError): string[] {
    const keys = [...this.#waiting.keys()].filter(which);
    for (const key of keys) {
      const list = this.#waiting.get(key) ?? [];
      this.#waiting.delete(key);
      for (const w of list) {
        clearTimeout(w.timer);
        w.reject(err);
      }
    }
    return keys;
  }

  #settle(actionUuid: Uint8Array | string | null | undefined, how: (w: Waiter) => void): boolean {
    if (!actionUuid || actionUuid.length === 0) return false;
    const key = keyOf(actionUuid);
    const list = this.#waiting.get(key);
    if (!list) return false;
    this.#waiting.delete(key);
    for (const w of list) {
      clearTimeout(w.timer);
      how(w);
    }
    return true;
  }

  #remove(key: string, waiter: Waiter): void {
    const rest = (this.#waiting.get(key) ?? []).filter((w) => w !== waiter);
    if (rest.length > 0) this.#waiting.set(key, rest);
    else this.#waiting.delete(key);
  }
}

/** Action uuids as hex; string keys (never 32 hex digits) as they are. */
const keyOf = (key: Uint8Array | string): string =>
  typeof key === 'string' ? key : Buffer.from(key).toString('hex');
