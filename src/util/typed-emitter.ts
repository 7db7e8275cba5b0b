import { EventEmitter } from 'node:events';

/** An event map: event name -> listener argument tuple. */
export type EventMap = { [event: string]: unknown[] };

/**
 * EventEmitter with a declared event map (docs/conventions.md principle 3). A throwing listener
 * must not break the emitter's owner, so listeners are isolated: an exception goes to
 * `onListenerError` instead of unwinding into the code that emitted.
 */
export class TypedEmitter<E extends EventMap> {
  readonly #emitter = new EventEmitter();

  constructor(private readonly onListenerError: (err: unknown, event: string) => void = () => {}) {
    this.#emitter.setMaxListeners(100);
  }

  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  emit<K extends keyof E & string>(event: K, ...args: E[K]): void {
    // rawListeners: a `once` listener comes wrapped, and calling the wrapper detaches it.
    for (const listener of this.#emitter.rawListeners(event)) {
      try {
        (listener as (...a: E[K]) => void)(...args);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
  }
}
