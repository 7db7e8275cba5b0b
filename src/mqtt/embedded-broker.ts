/**
 * The embedded MQTT broker (aedes) that runs when the config has no `mqtt.url` (README.md
 * "Configuration": `mqtt.embedded_port`, `mqtt.embedded_bind`), so the bridge works on a
 * machine with nothing else installed. aedes 1.x speaks MQTT 3.1.1 only; MqttLink falls back
 * to it by itself, and `EmbeddedBroker.protocolVersion` lets the app ask for it up front.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from 'pino';

export interface EmbeddedBrokerOptions {
  /** 0 picks a free port (tests); see `port` after start(). */
  readonly port: number;
  readonly bind: string;
  /**
   * `mqtt.username` / `mqtt.password` (README "MQTT topics": the embedded broker honours them). When
   * either is set, every client must present both exactly; otherwise anyone who reaches the
   * port may connect (and whoever can publish to `B/+/set` controls the players).
   */
  readonly username?: string | null;
  readonly password?: string | null;
  readonly logger: Logger;
}

/** MQTT 3.1.1 CONNACK return code 4: bad user name or password. */
const BAD_CREDENTIALS = 4;
/** At most one warning per this interval about refused clients: a guessing client must not flood the log. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

export class EmbeddedBroker {
  static readonly protocolVersion = 4 as const;
  readonly #o: EmbeddedBrokerOptions;
  #broker: Aedes | undefined;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  #port = 0;
  #lastRefusalLogMs = -Infinity;

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
    const { username, password } = this.#o;
    const required = Boolean(username) || Boolean(password);
    const broker = await Aedes.createBroker(
      required ? { authenticate: (client, user, pass, done) => this.#authenticate(client, user, pass, done) } : {},
    );
    if (!required && !isLoopback(this.#o.bind)) {
      this.#o.logger.warn(
        { bind: this.#o.bind },
        'embedded MQTT broker reachable from the network without credentials: anyone who reaches it controls the players (set mqtt.username and mqtt.password)',
      );
    }
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

  #authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const userOk = sameSecret(Buffer.from(username ?? '', 'utf8'), Buffer.from(this.#o.username ?? '', 'utf8'));
    const passOk = sameSecret(password ?? Buffer.alloc(0), Buffer.from(this.#o.password ?? '', 'utf8'));
    if (userOk && passOk) return done(null, true);
    const now = Date.now();
    if (now - this.#lastRefusalLogMs >= REFUSAL_LOG_INTERVAL_MS) {
      this.#lastRefusalLogMs = now;
      // The client id only: never what it offered as a password.
      this.#o.logger.warn({ client: client.id }, 'embedded MQTT broker refused a client: bad user name or password');
    }
    const error = Object.assign(new Error('bad user name or password'), { returnCode: BAD_CREDENTIALS }) as AuthenticateError;
    done(error, false);
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

/** Constant-time comparison of two secrets of any length (digests have equal lengths). */
function sameSecret(given: Buffer, expected: Buffer): boolean {
  const digest = (b: Buffer) => createHash('sha256').update(b).digest();
  return timingSafeEqual(digest(given), digest(expected)) && given.length === expected.length;
}

function isLoopback(bind: string): boolean {
  return bind === 'localhost' || bind === '::1' || bind.startsWith('127.');
}
