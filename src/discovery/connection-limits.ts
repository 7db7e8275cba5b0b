import type { Server, Socket } from 'node:net';
import { sourceAddress } from './connect-rate-limit.js';

/**
 * README "Security" (issue #26): per-host limits on the HTTP server's connections. One source address
 * may hold at most `perHost` open connections, and all of them together `maxConnections`; this host's
 * own addresses and the configured MPD hosts (`reserved`) have their own allowance and are never shut
 * out by the others, so MPD's stream redirects stay answerable while any other host holds its share.
 * Connections over a limit are closed at once, before a byte is read.
 */
export interface ConnectionLimitsOptions {
  readonly maxConnections: number;
  readonly perHost: number;
  readonly perReservedHost: number;
  readonly reserved: ReadonlySet<string>;
  readonly onDrop: (address: string, limit: 'host' | 'total') => void;
}

export class ConnectionLimits {
  readonly #o: ConnectionLimitsOptions;
  readonly #open = new Map<string, number>();
  /** Open connections of hosts that are not reserved. */
  #others = 0;

  constructor(o: ConnectionLimitsOptions) {
    this.#o = o;
  }

  /** Counts the server's connections from now on. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => this.#admit(socket));
  }

  #admit(socket: Socket): void {
    const address = sourceAddress(socket.remoteAddress);
    const reserved = this.#o.reserved.has(address);
    const open = this.#open.get(address) ?? 0;
    const over = reserved
      ? open >= this.#o.perReservedHost && 'host'
      : open >= this.#o.perHost
        ? 'host'
        : this.#others >= this.#o.maxConnections && 'total';
    if (over) {
      socket.destroy();
      this.#o.onDrop(address, over);
      return;
    }
    this.#open.set(address, open + 1);
    if (!reserved) this.#others += 1;
    socket.once('close', () => {
      const left = (this.#open.get(address) ?? 1) - 1;
      if (left > 0) this.#open.set(address, left);
      else this.#open.delete(address);
      if (!reserved) this.#others -= 1;
    });
  }
}
