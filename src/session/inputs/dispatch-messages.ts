import type { Logger } from 'pino';
import { errorMessage } from '../../core/qcb-error.js';
import type { QcMessage } from '../../protocol/frame-codec.js';
import { MESSAGE_NAMES } from '../../protocol/message-types.js';
import { HANDLERS } from './qconnect-handlers.js';
import type { Effect, SessionCore } from '../session-core.js';

/**
 * One batch of Qobuz messages, handled in order (docs/protocol.md §3) by the handler of each
 * message's name; one failing handler never stops the rest, and messages without a handler are
 * logged at debug. Runs inside the player's loop; the speaker work comes back as one Effect.
 */
export function dispatchMessages(
  core: SessionCore,
  messages: readonly QcMessage[],
  log: Logger,
  onHandled?: (type: number, ms: number) => void,
): Effect {
  const effects: Promise<void>[] = [];
  for (const m of messages) {
    if (m.type === 'unknown') {
      log.debug({ messageType: m.messageType }, 'unknown message type ignored');
      continue;
    }
    const name = MESSAGE_NAMES[m.type];
    const handler = HANDLERS[name] as ((core: SessionCore, body: unknown) => Effect) | undefined;
    if (!handler) {
      log.debug({ messageType: m.type, name }, 'message without handler ignored');
      continue;
    }
    const started = performance.now();
    try {
      const effect = handler(core, m.body);
      if (effect)
        effects.push(
          effect.catch((err: unknown) =>
            log.warn({ err: errorMessage(err), name }, 'speaker command failed'),
          ),
        );
      onHandled?.(m.type, performance.now() - started);
    } catch (err) {
      log.warn({ err: errorMessage(err), messageType: m.type, name }, 'handler failed');
    }
  }
  return effects.length > 0 ? Promise.all(effects).then(() => undefined) : null;
}
