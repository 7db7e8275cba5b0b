import type { Logger } from 'pino';
import { QcbError, errorMessage } from '../core/qcb-error.js';
import type { RendererPlayStatus, SessionLinkFact, SessionObserver } from '../core/session-observer.js';

export type { SessionObserver } from '../core/session-observer.js';
import type { QcMessage } from '../protocol/frame-codec.js';
import { qconnect } from '../protocol/generated/qconnect.js';
import { sessionIntents } from './intents/session-intents.js';
import type { Outcome } from './outcome.js';
import type { SessionCore } from './session-core.js';
import type { Enqueue, ObserverVerb } from './session-input.js';

/**
 * One player's window on the whole session for the account-level owner (README "The Qobuz
 * session", issue #24; docs/architecture.md "The account's session"): it reads the messages the
 * service sends every renderer (81, 82, 83, 85, 86, the queue, errors) after the player's own
 * handlers ran, and the link's state after every input, and passes them on as facts through the
 * SessionObserver port. It runs in the player's loop and changes nothing of the player's state.
 */

export interface SessionWatchOptions {
  readonly playerId: string;
  readonly observer: SessionObserver;
  readonly core: SessionCore;
  /** Sends the owner's controller verbs into the player's loop (an 'observer-verb' input). */
  readonly enqueue: Enqueue;
  /** Whether the player's link is one of its own (minted), not the app's. */
  readonly ownLink: () => boolean;
  readonly logger: Logger;
}

const STATUS: Record<number, RendererPlayStatus> = {
  [qconnect.PlayingState.PLAYING]: 'playing',
  [qconnect.PlayingState.PAUSED]: 'paused',
  [qconnect.PlayingState.STOPPED]: 'stopped',
};
const QUEUE_MESSAGES = new Set<number>([89, 90, 91, 92, 93, 94, 95, 96, 102, 103, 104, 105]);

export class SessionWatch {
  readonly #o: SessionWatchOptions;
  /** The link as last told, as a comparable key ('' = not joined). */
  #told = '';

  constructor(options: SessionWatchOptions) {
    this.#o = options;
    const verb = (v: ObserverVerb): Promise<void> => options.enqueue({ kind: 'observer-verb', verb: v });
    options.observer.attach(options.playerId, {
      setActiveRenderer: (rendererId) => verb({ type: 'setActiveRenderer', rendererId }),
      setPlaying: (playing) => verb({ type: 'setPlaying', playing }),
    });
  }

  /** The owner's controller verb (an 'observer-verb' input, in the loop): refused without a joined link. */
  verb(v: ObserverVerb): Outcome {
    if (this.#o.core.linkState !== 'joined')
      throw new QcbError('ERR_NO_SESSION', `${this.#o.playerId} is not in a Qobuz session`);
    return sessionIntents.observerVerb(v);
  }

  /** A batch the player's handlers just applied (docs/protocol.md §4: 81-105 reach every renderer). */
  messages(batch: readonly QcMessage[]): void {
    const { observer: obs, playerId: id, core } = this.#o;
    let queue = false;
    for (const m of batch) {
      try {
        if (m.type === 'unknown') continue;
        if (QUEUE_MESSAGES.has(m.type)) queue = true;
        if (m.type === 1) obs.serviceError(id, m.body.message ?? '');
        else if (m.type === 81) obs.activeChanged(id, m.body.active_renderer_id ?? -1);
        else if (m.type === 86) obs.activeChanged(id, m.body.active_renderer_id ?? -1);
        else if (m.type === 85) obs.rendererRemoved(id, m.body.renderer_id ?? 0);
        else if (m.type === 83) {
          const d = m.body.device_info;
          obs.rendererAdded(id, {
            rendererId: m.body.renderer_id ?? 0,
            deviceUuid: uuidText(d?.device_uuid) ?? '',
            name: d?.friendly_name ?? '',
            type: d?.type ? (qconnect.DeviceType[d.type]?.toLowerCase() ?? null) : null,
          });
        } else if (m.type === 82) this.#state(m.body);
      } catch (err) {
        this.#o.logger.warn({ err: errorMessage(err), messageType: m.type }, 'session view: a fact was lost');
      }
    }
    if (queue) obs.queueChanged(id, (itemId) => core.queue.find(itemId)?.trackId ?? null);
  }

  /** After every input of the player's loop: tell the owner when the link joined, moved or ended. */
  afterInput(): void {
    const core = this.#o.core;
    const link: SessionLinkFact | null =
      core.linkState === 'joined'
        ? { sessionId: core.sessionUuid, ownRendererId: core.rendererId, own: this.#o.ownLink() }
        : null;
    const key = link ? JSON.stringify(link) : '';
    if (key === this.#told) return;
    this.#told = key;
    this.#o.observer.link(this.#o.playerId, link);
  }

  #state(b: qconnect.SrvrCtrlRendererStateUpdated): void {
    const rendererId = b.renderer_id ?? 0;
    // Renderer -1 is the session's saved position (the answer to a 77 for -1, §5.5), not a device.
    if (rendererId < 0) return;
    const s = b.player_state;
    const connected = b.status !== qconnect.RendererStatus.ACTIVE_DISCONNECTED;
    if (!s) return this.#o.observer.rendererState(this.#o.playerId, rendererId, null, connected);
    const itemId = s.current_queue_item_id ?? 0;
    const item = itemId >= 0 ? itemId : null;
    const at = s.current_position?.timestamp;
    this.#o.observer.rendererState(
      this.#o.playerId,
      rendererId,
      {
        status: STATUS[s.playing_state ?? 0] ?? 'unknown',
        positionMs: s.current_position?.value ?? 0,
        atMs: at ? Number(at.toString()) : this.#o.core.now(),
        durationMs: s.duration ?? null,
        queueItemId: item,
        trackId: item === null ? null : (this.#o.core.queue.find(item)?.trackId ?? null),
      },
      connected,
    );
  }
}

/** A 16-byte uuid as 8-4-4-4-12 lower-case hex; null when absent or not 16 bytes. */
function uuidText(bytes: Uint8Array | null | undefined): string | null {
  if (!bytes || bytes.length !== 16) return null;
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
