/**
 * The embedded MQTT broker (aedes) that runs when the config has no `mqtt.url` (README.md
 * "Configuration": `mqtt.embedded_port`, `mqtt.embedded_bind`), so the bridge works on a
 * machine with nothing else installed. aedes 1.x speaks MQTT 3.1.1 only; MqttLink falls back
 * to it by itself, and `EmbeddedBroker.protocolVersion` lets the app ask for it up front.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { Aedes, AuthenticateError, Client, PublishPacket } from 'aedes';
import type { Logger } from 'pino';
import { clientMayPublish } from './broker-acl.js';
import { numberAtEmission } from './emission-order.js';
import { GuardedSocket, MqttPacketMeter } from './packet-size-guard.js';

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
  /** `mqtt.base_topic` and `mqtt.discovery_prefix`: what only the bridge publishes (broker-acl.ts). */
  readonly baseTopic?: string;
  readonly discoveryPrefix?: string;
  /** Largest packet accepted, refused before it is buffered (default 256 KiB; issue #26). */
  readonly maxPacketBytes?: number;
  /** Open connections at most (default 64); more are closed at once. */
  readonly maxConnections?: number;
}

/** README "Security": the bridge's packets are a few KiB (a queue listing at most about 11 KB). */
const DEFAULT_MAX_PACKET_BYTES = 256 * 1024;
const DEFAULT_MAX_CONNECTIONS = 64;

/** MQTT 3.1.1 CONNACK return codes: 2 identifier rejected, 4 bad user name or password. */
const IDENTIFIER_REJECTED = 2;
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
  /**
   * The bridge's own connection authenticates with credentials made at each start, known to nobody
   * else (README "Security"): that is how the ACL tells it from Home Assistant, which may share the
   * configured credentials. Its client id is then reserved: no one else may take it over.
   */
  readonly #bridge = { username: `qcb-bridge-${randomBytes(4).toString('hex')}`, password: randomBytes(24).toString('hex') };
  readonly #bridgeClients = new WeakSet<Client>();
  #bridgeClientId: string | null = null;

  constructor(options: EmbeddedBrokerOptions) {
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
      throw new Error(`EmbeddedBroker: port must be 0-65535, got ${options.port}`);
    }
    this.#o = options;
  }

  get port(): number {
    return this.#port;
  }

  /** What the bridge's own MQTT link connects with (random per start, never logged). */
  get bridgeCredentials(): { readonly username: string; readonly password: string } {
    return this.#bridge;
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
    // aedes loads only when the embedded broker runs (docs/architecture.md "Memory at idle"):
    // a bridge on its own broker (mqtt.url) never pays for it.
    const { Aedes: AedesBroker } = await import('aedes');
    const broker = await AedesBroker.createBroker({
      authenticate: (client, user, pass, done) => this.#authenticate(required, client, user, pass, done),
      authorizePublish: (client, packet, done) => done(this.#mayPublish(client, packet)),
    });
    if (!numberAtEmission(broker))
      this.#o.logger.warn('embedded MQTT broker: aedes changed shape; a retained publish may be lost to a client that gets a plain one right after it');
    if (!required && !isLoopback(this.#o.bind)) {
      this.#o.logger.warn(
        { bind: this.#o.bind },
        'embedded MQTT broker reachable from the network without credentials: anyone who reaches it controls the players (set mqtt.username and mqtt.password)',
      );
    }
    broker.on('clientError', (client, err) => this.#o.logger.debug({ client: client.id, err: err.message }, 'embedded broker client error'));
    const maxPacket = this.#o.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
    const server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      // Issue #26: a packet over the limit closes the connection before aedes buffers it (CONNECT included).
      broker.handle(
        new GuardedSocket(socket, new MqttPacketMeter(maxPacket), (reason) =>
          this.#logRefusal({ address: socket.remoteAddress, reason }, 'embedded MQTT broker closed a connection: packet too large'),
        ),
      );
    });
    server.maxConnections = this.#o.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    server.on('drop', (data) =>
      this.#logRefusal({ address: data?.remoteAddress, max: server.maxConnections }, 'embedded MQTT broker refused a connection: too many open'),
    );
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
    required: boolean,
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const given = Buffer.from(username ?? '', 'utf8');
    const pass = password ?? Buffer.alloc(0);
    if (sameSecret(given, Buffer.from(this.#bridge.username)) && sameSecret(pass, Buffer.from(this.#bridge.password))) {
      this.#bridgeClients.add(client);
      this.#bridgeClientId = client.id;
      return done(null, true);
    }
    // The bridge's client id is its own: taking it over would kick the bridge off, again and again (issue #26).
    if (this.#bridgeClientId !== null && client.id === this.#bridgeClientId) {
      this.#logRefusal({ client: client.id }, "embedded MQTT broker refused a client: it took the bridge's client id");
      return done(refusal(IDENTIFIER_REJECTED, 'identifier rejected'), false);
    }
    if (!required) return done(null, true);
    const userOk = sameSecret(given, Buffer.from(this.#o.username ?? '', 'utf8'));
    const passOk = sameSecret(pass, Buffer.from(this.#o.password ?? '', 'utf8'));
    if (userOk && passOk) return done(null, true);
    // The client id only: never what it offered as a password.
    this.#logRefusal({ client: client.id }, 'embedded MQTT broker refused a client: bad user name or password');
    done(refusal(BAD_CREDENTIALS, 'bad user name or password'), false);
  }

  /** broker-acl.ts: the bridge publishes anything; others only commands, HA's status and topics not ours. */
  #mayPublish(client: Client | null, packet: PublishPacket): Error | null {
    if (client !== null && this.#bridgeClients.has(client)) return null;
    const topics = { base: this.#o.baseTopic ?? 'qobuz-connect', discoveryPrefix: this.#o.discoveryPrefix ?? 'homeassistant' };
    if (clientMayPublish(packet.topic, topics)) return null;
    // The client is disconnected (MQTT 3.1.1 has no refusal for a publish); the topic is ours, no secret.
    this.#logRefusal({ client: client?.id, topic: packet.topic }, 'embedded MQTT broker refused a publish: only the bridge publishes there');
    return new Error('not authorised to publish there');
  }

  /** At most one warning per interval: a guessing or flooding client must not flood the log. */
  #logRefusal(fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    if (now - this.#lastRefusalLogMs < REFUSAL_LOG_INTERVAL_MS) return;
    this.#lastRefusalLogMs = now;
    this.#o.logger.warn(fields, message);
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

function refusal(returnCode: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/** Constant-time comparison of two secrets of any length (digests have equal lengths). */
function sameSecret(given: Buffer, expected: Buffer): boolean {
  const digest = (b: Buffer) => createHash('sha256').update(b).digest();
  return timingSafeEqual(digest(given), digest(expected)) && given.length === expected.length;
}

function isLoopback(bind: string): boolean {
  return bind === 'localhost' || bind === '::1' || bind.startsWith('127.');
}
