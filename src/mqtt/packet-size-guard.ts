import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

/**
 * README "Security" (issue #26): the embedded broker refuses a packet over its size limit before a
 * byte of it is buffered. aedes has no such limit, and its parser collects a whole packet (up to the
 * 256 MiB MQTT allows) before it even looks at a CONNECT's credentials. The meter reads each packet's
 * fixed header (a type byte, then the remaining length in 1-4 bytes of 7 bits, MQTT 3.1.1 §2.2) as the
 * bytes go by and skips its body, so it holds no data itself.
 */
export class MqttPacketMeter {
  readonly #max: number;
  #state: 'type' | 'length' | 'body' = 'type';
  #length = 0;
  #multiplier = 1;
  #lengthBytes = 0;
  #bodyLeft = 0;

  constructor(maxPacketBytes: number) {
    this.#max = maxPacketBytes;
  }

  /** Reads `chunk`; a refusal when a packet announces more than the limit (or a malformed length), else null. */
  feed(chunk: Uint8Array): string | null {
    let i = 0;
    while (i < chunk.length) {
      if (this.#state === 'type') {
        i += 1;
        this.#state = 'length';
        this.#length = 0;
        this.#multiplier = 1;
        this.#lengthBytes = 0;
      } else if (this.#state === 'length') {
        const byte = chunk[i++]!;
        this.#length += (byte & 0x7f) * this.#multiplier;
        this.#multiplier *= 128;
        this.#lengthBytes += 1;
        // The whole packet: type byte, length bytes, then the rest; refused as soon as it is known too long.
        if (1 + this.#lengthBytes + this.#length > this.#max) {
          return `packet of at least ${1 + this.#lengthBytes + this.#length} bytes, over ${this.#max}`;
        }
        if ((byte & 0x80) !== 0) {
          if (this.#lengthBytes === 4) return 'malformed remaining length';
        } else {
          this.#bodyLeft = this.#length;
          this.#state = this.#bodyLeft > 0 ? 'body' : 'type';
        }
      } else {
        const take = Math.min(this.#bodyLeft, chunk.length - i);
        i += take;
        this.#bodyLeft -= take;
        if (this.#bodyLeft === 0) this.#state = 'type';
      }
    }
    return null;
  }
}

/**
 * The socket as aedes sees it: every byte read passes the meter first; a packet over the limit closes
 * the connection before it reaches aedes. Writes go straight to the socket.
 */
export class GuardedSocket extends Duplex {
  readonly #socket: Socket;

  constructor(socket: Socket, meter: MqttPacketMeter, onRefused: (reason: string) => void) {
    super({ allowHalfOpen: false });
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      const refusal = meter.feed(chunk);
      if (refusal !== null) {
        onRefused(refusal);
        socket.destroy();
        this.destroy();
        return;
      }
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('close', () => this.destroy());
    socket.on('error', () => this.destroy());
  }

  override _read(): void {
    this.#socket.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#socket.destroyed) return callback(new Error('socket closed'));
    this.#socket.write(chunk, encoding, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#socket.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#socket.destroy();
    callback(error);
  }
}
