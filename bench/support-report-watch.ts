import { messagesOf } from '../src/protocol/frame-codec.js';
import type { qconnect } from '../src/protocol/generated/qconnect.js';
import type { QconnectService } from '../test/support/qconnect-service.js';

/**
 * Times the renderer's state reports (23) as the simulated Qobuz service receives them
 * (docs/protocol.md §5.6). SimSession.sent() rebuilds the whole record on every check,
 * which grows with the run and would land inside the measured time; this reads only the
 * frames that arrived since the command was sent, and stamps the time before reading.
 */
export class ReportWatch {
  readonly #service: QconnectService;
  readonly #rendererId: number;

  constructor(service: QconnectService, rendererId: number) {
    this.#service = service;
    this.#rendererId = rendererId;
  }

  /** Where the renderer's frame record ends now: pass it to `next` before sending a command. */
  mark(): { connectionId: number; frames: number } {
    const c = this.#connection();
    return { connectionId: c.id, frames: c.frames.length };
  }

  /**
   * Resolves with the performance.now() at which the service had received the first 23 after
   * `from` whose state matches `where`. The service checks its waiters as each frame arrives,
   * so the stamp is taken in the same turn the frame was decoded.
   */
  next(
    from: { connectionId: number; frames: number },
    where: (state: qconnect.QueueRendererState.$Properties) => boolean,
    timeoutMs = 5000,
  ): Promise<number> {
    let seen = from.frames;
    return this.#service.waitFor(
      () => {
        const at = performance.now();
        const c = this.#connection();
        if (c.id !== from.connectionId) throw new Error('the renderer reconnected during the bench');
        for (; seen < c.frames.length; seen++) {
          const f = c.frames[seen];
          if (f?.type !== 'PAYLOAD' || !f.body) continue;
          for (const m of messagesOf(f.body as qconnect.Payload)) {
            const state = m.type === 23 ? (m.body as qconnect.RndrSrvrStateUpdated).state : null;
            if (state && where(state)) return at;
          }
        }
        return undefined;
      },
      { timeoutMs, what: `a matching state report from renderer ${this.#rendererId}` },
    );
  }

  #connection() {
    const open = this.#service
      .connections()
      .filter((c) => c.rendererId === this.#rendererId && c.phase !== 'closed');
    const c = open.at(-1);
    if (!c) throw new Error(`renderer ${this.#rendererId} has no open connection`);
    return c;
  }
}
