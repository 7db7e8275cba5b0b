/**
 * The connection to the MQTT broker (README.md "MQTT topics"): MQTT 5 through mqtt.js, username /
 * password, TLS from file paths, the last will `B/bridge/state` = {"state":"offline"} and, on
 * every (re)connect, the retained `{"state":"online"}` and `B/bridge/info`. mqtt.js reconnects
 * by itself; while offline nothing is queued (`queueQoSZero: false`, publishes refused while
 * disconnected): the adapter re-publishes its retained picture on `connected` instead.
 * The password is never logged; the URL is logged without credentials.
 */
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { TypedEmitter } from '../util/typed-emitter.js';
import { Topics } from './topics.js';

export interface MqttTlsFiles {
  /** File paths, read at start(). */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  /** Default true; false accepts self-signed broker certificates. */
  readonly rejectUnauthorized?: boolean;
}

export interface MqttConnectionOptions {
  readonly url: string;
  readonly username?: string | null;
  readonly password?: string | null;
  readonly tls?: MqttTlsFiles;
  readonly clientId?: string;
  /** 5 by default; falls back to 4 by itself when the broker refuses 5 (aedes, old brokers). */
  readonly protocolVersion?: 4 | 5;
  readonly reconnectPeriodMs?: number;
  readonly connectTimeoutMs?: number;
  readonly keepaliveS?: number;
}

export interface MqttLinkOptions extends MqttConnectionOptions {
  readonly baseTopic: string;
  /** Body of the retained `B/bridge/info` (version, players with ids, names, uuids). */
  readonly bridgeInfo: Readonly<Record<string, unknown>>;
  readonly logger: Logger;
}

export type MqttLinkEvents = {
  connected: [];
  disconnected: [reason: string];
  /** One failed connection attempt (refused, TLS, auth, unreachable); mqtt.js retries by itself. */
  connectFailed: [reason: string];
  message: [topic: string, payload: Buffer, retained: boolean];
};

export interface PublishOptions {
  readonly retain?: boolean;
  readonly qos?: 0 | 1;
}

const ONLINE = JSON.stringify({ state: 'online' });
const OFFLINE = JSON.stringify({ state: 'offline' });

/** The URL as it may appear in logs: no user, no password. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

export class MqttLink extends TypedEmitter<MqttLinkEvents> {
  readonly #options: MqttLinkOptions;
  readonly #topics: Topics;
  readonly #log: Logger;
  #client: MqttClient | undefined;
  #clientOptions: IClientOptions | undefined;
  #protocolVersion: 4 | 5;
  #lastError = '';
  #stopped = false;

  constructor(options: MqttLinkOptions) {
    super((err, event) => options.logger.error({ err, event }, 'mqtt link listener failed'));
    if (!options.url) throw new Error('MqttLink: url is required');
    this.#options = options;
    this.#topics = new Topics(options.baseTopic);
    this.#log = options.logger;
    this.#protocolVersion = options.protocolVersion ?? 5;
  }

  get connected(): boolean {
    return this.#client?.connected === true;
  }

  /** The client id of this start (null before start()): a test seam, it is random and never logged. */
  get clientId(): string | null {
    return this.#clientOptions?.clientId ?? null;
  }

  get protocolVersion(): 4 | 5 {
    return this.#protocolVersion;
  }

  /** Reads TLS files and starts connecting; resolves at once (the `connected` event says when it is). */
  async start(): Promise<void> {
    if (this.#client) return;
    this.#stopped = false;
    const o = this.#options;
    const tls = o.tls ?? {};
    const [ca, cert, key] = await Promise.all([tls.ca, tls.cert, tls.key].map((p) => (p ? readFile(p) : undefined)));
    this.#clientOptions = {
      // README "Security" (issue #26): a fresh random id at each start, too long to guess, so that no
      // client can take the bridge's session over by reusing a known one.
      clientId: o.clientId ?? `qcb_${randomBytes(8).toString('hex')}`,
      clean: true,
      resubscribe: false, // the adapter subscribes on every `connected`
      queueQoSZero: false,
      // 1 s: after a broker restart everything retained is back well within the 5 s that
      // test/faults/broker-restart.test.ts allows.
      reconnectPeriod: o.reconnectPeriodMs ?? 1000,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      keepalive: o.keepaliveS ?? 30,
      will: { topic: this.#topics.bridgeState, payload: Buffer.from(OFFLINE), retain: true, qos: 1 },
      ...(o.username ? { username: o.username } : {}),
      ...(o.password ? { password: o.password } : {}),
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      rejectUnauthorized: tls.rejectUnauthorized ?? true,
      // docs/architecture.md "Memory at idle": mqtt-packet otherwise pre-builds a 2-byte Buffer
      // for each of the 65536 packet ids on its first write, 6 MB of heap for good (process-wide:
      // the embedded broker's aedes shares the module and writes only after this client exists).
      writeCache: false,
    };
    this.#connect();
  }

  /** Resolves true once handed to the broker; false (never queued) while disconnected. */
  publish(topic: string, payload: string | Buffer, options: PublishOptions = {}): Promise<boolean> {
    const client = this.#client;
    if (!client?.connected) return Promise.resolve(false);
    return new Promise((resolve) => {
      client.publish(topic, payload, { qos: options.qos ?? 0, retain: options.retain ?? false }, (err) => {
        if (err) this.#log.debug({ topic, err: err.message }, 'publish failed');
        resolve(!err);
      });
    });
  }

  async subscribe(topics: readonly string[]): Promise<boolean> {
    const client = this.#client;
    if (!client?.connected) return false;
    try {
      await client.subscribeAsync([...topics], { qos: 0 });
      return true;
    } catch (err) {
      this.#log.warn({ topics, err: (err as Error).message }, 'subscribe failed');
      return false;
    }
  }

  async unsubscribe(topics: readonly string[]): Promise<void> {
    const client = this.#client;
    if (!client?.connected) return;
    await client.unsubscribeAsync([...topics]).catch(() => undefined);
  }

  /** Publishes `{"state":"offline"}` (retained) and disconnects cleanly: no will is sent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const client = this.#client;
    if (!client) return;
    if (client.connected) await this.publish(this.#topics.bridgeState, OFFLINE, { retain: true, qos: 1 });
    await this.#end(client, !client.connected);
    this.#client = undefined;
  }

  /** Drops the connection without DISCONNECT, as a crash would: the broker publishes the will (a test seam). */
  async abort(): Promise<void> {
    this.#stopped = true;
    const client = this.#client;
    if (!client) return;
    await this.#end(client, true);
    this.#client = undefined;
  }

  #connect(): void {
    const options = { ...this.#clientOptions, protocolVersion: this.#protocolVersion };
    const client = mqtt.connect(this.#options.url, options);
    this.#client = client;
    let wasConnected = false;
    let attemptError = '';
    this.#log.info({ url: redactUrl(this.#options.url), protocolVersion: this.#protocolVersion }, 'connecting to MQTT broker');
    client.on('connect', () => {
      wasConnected = true;
      this.#lastError = '';
      this.#log.info({ url: redactUrl(this.#options.url) }, 'connected to MQTT broker');
      void this.#announce().then(() => {
        if (this.#client === client && client.connected) this.emit('connected');
      });
    });
    client.on('close', () => {
      if (!wasConnected) {
        if (this.#client === client && !this.#stopped) this.emit('connectFailed', attemptError || 'connection closed');
        attemptError = '';
        return;
      }
      wasConnected = false;
      if (!this.#stopped) this.#log.warn('connection to MQTT broker lost; reconnecting');
      this.emit('disconnected', this.#stopped ? 'stopped' : 'connection lost');
    });
    client.on('error', (err) => {
      const code = (err as { code?: unknown }).code;
      // 1 = "unacceptable protocol version" (3.1.1 CONNACK), 132 = "unsupported protocol version" (5.0).
      if (this.#protocolVersion === 5 && (code === 1 || code === 132) && this.#client === client) {
        this.#log.info('broker refuses MQTT 5; using MQTT 3.1.1');
        this.#protocolVersion = 4;
        void this.#end(client, true).then(() => {
          if (!this.#stopped && this.#client === client) this.#connect();
        });
        return;
      }
      attemptError = err.message;
      if (err.message !== this.#lastError) this.#log.warn({ err: err.message }, 'MQTT error');
      this.#lastError = err.message;
    });
    client.on('message', (topic, payload, packet) => this.emit('message', topic, payload, packet.retain === true));
  }

  /** Retained bridge picture, on every connect (the broker may have restarted without persistence). */
  async #announce(): Promise<void> {
    await this.publish(this.#topics.bridgeState, ONLINE, { retain: true, qos: 1 });
    await this.publish(this.#topics.bridgeInfo, JSON.stringify(this.#options.bridgeInfo), { retain: true, qos: 1 });
  }

  async #end(client: MqttClient, force: boolean): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      client.end(force, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    client.removeAllListeners();
    // mqtt.js may still emit 'error' after end on a half-open socket; keep it from crashing the process.
    client.on('error', () => undefined);
  }
}
