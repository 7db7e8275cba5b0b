/**
 * Transport commands by what makes them pointless: a load or stop makes every earlier transport
 * command pointless; a seek makes an earlier seek pointless; a play or pause an earlier one.
 */
export type Transport = 'replace' | 'seek' | 'toggle';

export interface TransportTicket {
  readonly generation: number;
  /** True once a newer command of a kind that covers this one was asked for. */
  readonly superseded: () => boolean;
}

/**
 * The generations of MpdPlayer's transport commands (docs/architecture.md "The newest intent
 * wins"): each takes the next generation when asked for, and when its turn in the serial queue
 * comes it is skipped if a newer command covers it, so a burst of seeks ends in one MPD seek. The
 * snapshot is settled once the newest command asked for has been applied.
 */
export class TransportGate {
  #requested = 0;
  #applied = 0;
  readonly #newest: Record<Transport, number> = { replace: 0, seek: 0, toggle: 0 };

  get settled(): boolean {
    return this.#applied === this.#requested;
  }

  begin(kind: Transport): TransportTicket {
    const generation = ++this.#requested;
    this.#newest[kind] = generation;
    if (kind === 'replace') {
      this.#newest.seek = generation;
      this.#newest.toggle = generation;
    }
    return { generation, superseded: () => this.#newest.replace > generation || this.#newest[kind] > generation };
  }

  applied(ticket: TransportTicket): void {
    this.#applied = ticket.generation;
  }
}
