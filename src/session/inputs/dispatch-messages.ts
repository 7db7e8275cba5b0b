import type { Logger } from 'pino';
import { errorMessage } from '../../core/qcb-error.js';
import type { QcMessage } from '../../protocol/frame-codec.js';
import { MESSAGE_NAMES } from '../../protocol/message-types.js';
import { HANDLERS } from './qconnect-handlers.js';
import { NOTHING, inOrder, type Outcome } from '../outcome.js';
import type { SessionCore } from '../session-core.js';

/**
 * One batch of Qobuz messages, handled in order (docs/protocol.md §3) by the handler of each
 * message's name; one failing handler never stops the rest, and messages without a handler are
 * logged at debug. Runs inside the player's loop; the batch's outcome is each message's, in order
 * (what Qobuz hears, each message's reports included, then the speaker work as one Effect).
 */
export function dispatchMessages(
  core: SessionCore,
  messages: readonly QcMessage[],
  log: Logger,
  onHandled?: (type: number, ms: number) => void,
): Outcome {
  const outcomes: Outcome[] = [];
  for (const m of messages) {
    if (m.type === 'unknown') {
      log.debug({ messageType: m.messageType }, 'unknown message type ignored');
      continue;
    }
    const name = MESSAGE_NAMES[m.type];
    const handler = HANDLERS[name] as ((core: SessionCore, body: unknown) => Outcome) | undefined;
    if (!handler) {
      log.debug({ messageType: m.type, name }, 'message without handler ignored');
      continue;
    }
    const started = performance.now();
    try {
      const out = core.decide(() => handler(core, m.body));
      const effect = out.effect?.catch((err: unknown) => log.warn({ err: errorMessage(err), name }, 'speaker command failed'));
      outcomes.push({ messages: out.messages, effect: effect ?? null });
      onHandled?.(m.type, performance.now() - started);
    } catch (err) {
      log.warn({ err: errorMessage(err), messageType: m.type, name }, 'handler failed');
    }
  }
  return outcomes.length > 0 ? inOrder(...outcomes) : NOTHING;
}
