/**
 * The embedded MQTT broker (aedes) that runs when the config has no `mqtt.url` (README.md
 * "Configuration": `mqtt.embedded_port`, `mqtt.embedded_bind`), so the bridge works on a
 * machine with nothing else installed. aedes 1.x speaks MQTT 3.1.1 only; MqttLink falls back
 * to it by itself, and `EmbeddedBroker.protocolVersion` lets the app ask for it up front.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';

export interface EmbeddedBrokerOptions {
  /** 0 picks a free port (tests); see `port` after start(). */
  readonly port: number;
  readonly bind: string;
  readonly logger: Logger;
}

export class EmbeddedBroker {
  static readonly protocolVersion = 4 as const;
  readonly #o: EmbeddedBrokerOptions;
  #broker: Aedes | undefined;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  #port = 0;

  constructor(options: EmbeddedBrokerOptions) {
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
      throw new Error(`EmbeddedBroker: port must be 0-65535, got ${options.port}`);
    }
    this.#o = options;
  }

  get port(): number {
    return this.#port;
  }

  /** URL for MqttLink (loopback when bound to every interface). */
  get url(): string {
    const host = this.#o.bind === '0.0.0.0' || this.#o.bind === '::' ? '127.0.0.1' : this.#o.bind;
    return `mqtt://${host.includes(':') ? `[${host}]` : host}:${this.#port}`;
  }

  async start(): Promise<void> {
    if (this.#server) return;
    const broker = await Aedes.createBroker();
    broker.on('clientError', (client, err) => this.#o.logger.debug({ client: client.id, err: err.message }, 'embedded broker client error'));
    const server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      broker.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#o.port, this.#o.bind, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      broker.close();
      throw err;
    });
    const addr = server.address();
    this.#port = typeof addr === 'object' && addr ? addr.port : this.#o.port;
    this.#broker = broker;
    this.#server = server;
    this.#o.logger.info({ bind: this.#o.bind, port: this.#port }, 'embedded MQTT broker listening');
  }

  async stop(): Promise<void> {
    const server = this.#server;
    const broker = this.#broker;
    this.#server = undefined;
    this.#broker = undefined;
    if (!server || !broker) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await closed;
  }
}
