import type { qconnect } from '../protocol/generated/qconnect.js';
import type { Effect, SessionCore } from './session-core.js';

/**
 * Type-1 errors from the service (docs/protocol.md §5.13). They name neither the message they
 * answer nor a stable code (the production codes are unknown), so they are read by what they can
 * be about:
 * - our renderer report refused as from a non-active renderer: about a report, never a verb;
 *   while we are the active renderer it means the service forgot us (§8 "Silent deregistration");
 * - "not joined": the service forgot us; and it refuses whatever verb waits;
 * - anything else while controller verbs wait for their answer: the service refused one of them
 *   (a 62 for an item it will not play, a queue edit, a 76): each waiting verb is answered at once
 *   with ERR_QOBUZ_REFUSED and the service's text (docs/protocol.md "Unknowns"), never after its
 *   10 s timeout. The text is the only detail the user gets, so it goes into the answer.
 */
export function onServiceError(core: SessionCore, b: qconnect.ErrorMessage.$Properties): Effect {
  const text = b.message ?? '';
  core.log.warn({ code: b.code, message: text }, 'service reported an error');
  const aboutReport = /non active renderer/i.test(text);
  if (!aboutReport) core.verbs.refused('pending', text || `error ${b.code ?? 'without a code'}`);
  if (forgotUs(core, text) && core.serviceForgotUs())
    core.log.info({ message: text }, 'service forgot us: joining again on the same link');
  return null;
}

/** Our report refused as from a non-active renderer while we are the active one, or "not joined". */
function forgotUs(core: SessionCore, message: string): boolean {
  if (/non active renderer/i.test(message)) return core.active;
  return /not joined/i.test(message);
}
