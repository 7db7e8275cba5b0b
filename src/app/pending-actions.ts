import { QcbError } from '../core/qcb-error.js';

/**
 * Controller verbs waiting for the service's answer (docs/protocol.md §8 "Controller verbs"): a
 * queue edit is done when the service's broadcast carrying its action uuid comes back (89-95),
 * refused when 88 names it, and failed when the link ends or no answer comes in time. The MQTT
 * answer waits on these promises, outside the session's loop; the loop only settles them.
 */
export class PendingActions {
  readonly #waiting = new Map<
    string,
    { resolve: () => void; reject: (err: Error) => void; timer: NodeJS.Timeout }
  >();

  get size(): number {
    return this.#waiting.size;
  }

  /** A promise for the answer to `actionUuid`; rejected with ERR_TIMEOUT after `timeoutMs`. */
  expect(actionUuid: Uint8Array, what: string, timeoutMs: number): Promise<void> {
    const key = keyOf(actionUuid);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(key);
        reject(
          new QcbError(
            'ERR_TIMEOUT',
            `the Qobuz service did not answer ${what} within ${Math.round(timeoutMs / 1000)} s`,
          ),
        );
      }, timeoutMs);
      timer.unref();
      this.#waiting.set(key, { resolve, reject, timer });
    });
  }

  /** The service applied the action: its broadcast came back. Unknown or absent uuids are someone else's. */
  answered(actionUuid: Uint8Array | null | undefined): void {
    this.#settle(actionUuid, (w) => w.resolve());
  }

  /** The service refused the action (88 with its uuid). */
  refused(actionUuid: Uint8Array | null | undefined, reason: string): void {
    this.#settle(actionUuid, (w) =>
      w.reject(new QcbError('ERR_QOBUZ_REFUSED', `the Qobuz service refused it: ${reason}`)),
    );
  }

  /** The link ended or the session changed: nothing still waiting will be answered. */
  failAll(err: QcbError): void {
    for (const [key, w] of this.#waiting) {
      clearTimeout(w.timer);
      this.#waiting.delete(key);
      w.reject(err);
    }
  }

  #settle(
    actionUuid: Uint8Array | null | undefined,
    how: (w: { resolve: () => void; reject: (err: Error) => void }) => void,
  ): void {
    if (!actionUuid || actionUuid.length === 0) return;
    const key = keyOf(actionUuid);
    const w = this.#waiting.get(key);
    if (!w) return;
    clearTimeout(w.timer);
    this.#waiting.delete(key);
    how(w);
  }
}

const keyOf = (uuid: Uint8Array): string => Buffer.from(uuid).toString('hex');
