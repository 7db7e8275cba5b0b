import type { OutgoingMessage } from '../../protocol/frame-writer.js';

/** AskForQueueState (docs/protocol.md §4). */
const ASK_FOR_QUEUE_STATE = 76;

/**
 * Which of our 76s a 90 answers (docs/protocol.md "Unknowns": echo of the 76's action uuid). The
 * schema gives the 90 an `action_uuid`, but no capture shows the production service echoing it.
 * The service answers one link's messages in order, so the 76s sent on a link since it opened,
 * oldest first, pair with the 90s that arrive on it: a 90 naming one of them answers that one (and
 * every older one, answered before it); a 90 naming none of them answers the oldest. Either way a
 * verb waiting on its 76 (`transfer`) gets its answer from the first 90 after it, never a 10 s wait.
 * Part of SessionLink; reset whenever the link opens, drops or closes.
 */
export class QueueStateAnswers {
  /** Hex action uuid of each 76 still unanswered, oldest first; '' for a 76 without one. */
  #asked: string[] = [];

  /** Frames that left on the link: note every 76 among them. */
  sent(messages: readonly OutgoingMessage[]): void {
    for (const m of messages) {
      if (m.message_type !== ASK_FOR_QUEUE_STATE) continue;
      const uuid = m.CtrlSrvrAskForQueueState?.action_uuid;
      this.#asked.push(uuid && uuid.length > 0 ? Buffer.from(uuid).toString('hex') : '');
      // A service that never answers must not grow this without bound: the oldest go first.
      if (this.#asked.length > 64) this.#asked.shift();
    }
  }

  /**
   * A 90 arrived carrying `actionUuid` (maybe none): the action uuid of the 76 it answers, as hex,
   * or null when it answers a 76 that named none (or nothing of ours was asked).
   */
  arrived(actionUuid: Uint8Array | null | undefined): string | null {
    const echoed = actionUuid && actionUuid.length > 0 ? Buffer.from(actionUuid).toString('hex') : null;
    const at = echoed === null ? -1 : this.#asked.indexOf(echoed);
    if (at >= 0) {
      this.#asked.splice(0, at + 1);
      return echoed;
    }
    const oldest = this.#asked.shift();
    return oldest ? oldest : null;
  }

  reset(): void {
    this.#asked = [];
  }
}
