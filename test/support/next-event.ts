import type { PlayerEvents } from '../../src/core/player.js';
import type { TypedEmitter } from '../../src/util/typed-emitter.js';

/** Resolves with the arguments of the next `event` that satisfies `predicate`, or rejects after `timeoutMs`. */
export function nextEvent<K extends keyof PlayerEvents & string>(
  p: { readonly events: TypedEmitter<PlayerEvents> },
  event: K,
  predicate: (...args: PlayerEvents[K]) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<PlayerEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      p.events.off(event, listener);
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (...args: PlayerEvents[K]) => {
      if (!predicate(...args)) return;
      clearTimeout(timer);
      p.events.off(event, listener);
      resolve(args);
    };
    p.events.on(event, listener);
  });
}
