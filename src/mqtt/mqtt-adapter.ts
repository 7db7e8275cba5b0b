/**
 * The MQTT side of the bridge (README.md "MQTT topics", "Home Assistant entities"): implements the core's
 * StatePublisher, turns `B/<player>/set` messages into PlayerCommands for the CommandSink and
 * answers each on `B/<player>/set/result`, and keeps Home Assistant's picture (discovery,
 * availability, states) whole across HA restarts and broker restarts.
 */
import type { Logger } from 'pino';
import type { AccountSessionEvent, AccountSessionPublisher, AccountSessionSink, AccountSessionView } from '../core/account-session-view.js';
import { assertPlayerIds, RESERVED_PLAYER_IDS } from '../core/player-id.js';
import type { CommandSink, PlayerView, SessionEvent, StatePublisher, VolumeRequest } from '../core/player-view.js';
import type { QueueListing } from '../core/queue-listing.js';
import { errorMessage, isQcbError } from '../core/qcb-error.js';
import { defaultRedactor, type Redactor } from '../util/redactor.js';
import { parseCommand } from './command-parser.js';
import { DiscoveryPublisher } from './discovery-publisher.js';
import { HaDiscovery, type HaBridgeInfo, type HaPlayer } from './ha-discovery.js';
import { MqttLink, type MqttConnectionOptions } from './mqtt-link.js';
import { sweepRetained } from './retained-sweep.js';
import { SessionTopics } from './session-topics.js';
import { toQueuePayload } from './queue-payload.js';
import { toEventPayload, toStatePayload } from './state-payload.js';
import { Topics } from './topics.js';

export interface MqttAdapterOptions {
  /** Connection options (the adapter builds the link) or a link built with the same base topic. */
  readonly link: MqttLink | MqttConnectionOptions;
  readonly baseTopic: string;
  readonly discovery: { readonly enabled: boolean; readonly prefix: string };
  readonly bridge: HaBridgeInfo;
  readonly players: readonly HaPlayer[];
  readonly onCommand: CommandSink;
  /**
   * With a user token (README "The Qobuz session", issue #24): the account's session device and
   * `B/session/…`, commands going here; and the players' identity entities. Absent: neither is offered.
   */
  readonly session?: AccountSessionSink;
  readonly logger: Logger;
  /** start() waits this long for the first connection, then goes on (default 10 s). */
  readonly startTimeoutMs?: number;
  /** Delay before re-publishing after HA's birth message (default random 0.5–2 s;
   * README.md "Home Assistant entities"). */
  readonly haRepublishDelayMs?: () => number;
  /** Silence that ends the start-up look at retained discovery configs (default 300 ms). */
  readonly sweepQuietMs?: number;
  /**
   * Everything published about a player passes through it (issue #13: tokens never reach MQTT):
   * states, covers and events with `scrubKnown` (they carry titles the generic patterns would
   * blot), command errors with `scrubString`. Default: the process-wide redactor.
   */
  readonly redactor?: Redactor;
}


export class MqttAdapter implements StatePublisher, AccountSessionPublisher {
  readonly link: MqttLink;
  readonly #o: MqttAdapterOptions;
  readonly #log: Logger;
  readonly #topics: Topics;
  readonly #redactor: Redactor;
  readonly #discovery: DiscoveryPublisher;
  readonly #session: SessionTopics;
  readonly #players: ReadonlySet<string>;
  /** Per player, the last command's answer: answers go out in command order. */
  readonly #answered = new Map<string, Promise<void>>();
  /** Latest retained payloads per player, and what went out since the last (re)connect. */
  readonly #states = new Map<string, string>();
  readonly #sentStates = new Map<string, string>();
  readonly #covers = new Map<string, string>();
  readonly #sentCovers = new Map<string, string>();
  readonly #queueListings = new Map<string, string>();
  readonly #sentQueueListings = new Map<string, string>();
  readonly #availability = new Map<string, 'online' | 'offline'>();
  #haTimer: NodeJS.Timeout | undefined;
  #swept = false;
  #started = false;
  #resolveFirstSync: (() => void) | undefined;

  constructor(options: MqttAdapterOptions) {
    if (typeof options.onCommand !== 'function') throw new Error('MqttAdapter: onCommand is required');
    assertPlayerIds(options.players.map((p) => p.id), 'MqttAdapter');
    this.#o = options;
    this.#log = options.logger;
    this.#redactor = options.redactor ?? defaultRedactor;
    this.#topics = new Topics(options.baseTopic, options.discovery.prefix);
    this.#players = new Set(options.players.map((p) => p.id));
    // Retained from the start: offline until the player's MPD first answers (README "MQTT topics").
    for (const id of this.#players) this.#availability.set(id, 'offline');
    const bridgeInfo = {
      version: options.bridge.version,
      name: options.bridge.name,
      players: options.players.map((p) => ({ id: p.id, name: p.name, uuid: p.uuid })),
    };
    this.link =
      options.link instanceof MqttLink
        ? options.link
        : new MqttLink({ ...options.link, baseTopic: options.baseTopic, bridgeInfo, logger: options.logger });
    const ha = new HaDiscovery({ topics: this.#topics, bridge: options.bridge, identity: options.session !== undefined });
    this.#discovery = new DiscoveryPublisher({
      link: this.link,
      topics: this.#topics,
      discovery: ha,
      players: options.players,
      logger: options.logger,
      ...(options.sweepQuietMs !== undefined ? { sweepQuietMs: options.sweepQuietMs } : {}),
      more: () => (options.session ? [ha.sessionConfig(this.#session.labels)] : []),
    });
    this.#session = new SessionTopics({
      link: this.link,
      topics: this.#topics,
      redactor: this.#redactor,
      logger: options.logger,
      onCommand: options.session ?? null,
      discoveryChanged: () => this.publishDiscovery(),
    });
  }

  get connected(): boolean {
    return this.link.connected;
  }

  /** Connects and publishes everything; resolves after the first sync or after startTimeoutMs. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.link.on('connected', this.#onConnected);
    this.link.on('message', this.#onMessage);
    let timer: NodeJS.Timeout | undefined;
    const synced = new Promise<boolean>((resolve) => {
      this.#resolveFirstSync = () => resolve(true);
      timer = setTimeout(() => resolve(false), this.#o.startTimeoutMs ?? 10_000);
    });
    await this.link.start();
    const ok = await synced;
    clearTimeout(timer);
    if (!ok) this.#log.warn('MQTT broker not reachable yet; publishing once it is');
  }

  /** Player availability offline, bridge offline (both retained), then a clean disconnect. */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    clearTimeout(this.#haTimer);
    for (const id of this.#players) {
      await this.link.publish(this.#topics.availability(id), 'offline', { retain: true, qos: 1 });
    }
    await this.link.stop();
    this.link.off('connected', this.#onConnected);
    this.link.off('message', this.#onMessage);
  }

  /** Publishes changed discovery configs; returns how many went out. */
  publishDiscovery(): Promise<number> {
    return this.#o.discovery.enabled ? this.#discovery.publish(false) : Promise.resolve(0);
  }

  publishState(playerId: string, view: PlayerView): void {
    if (!this.#known(playerId)) return;
    const json = this.#redactor.scrubKnown(JSON.stringify(toStatePayload(view)));
    this.#states.set(playerId, json);
    const cover = view.track?.coverUrl;
    // No track: the last cover stays; an empty or invalid URL would make HA's image entity log errors.
    if (cover) this.#covers.set(playerId, this.#redactor.scrubKnown(cover));
    this.#flushPlayer(playerId, false);
  }

  /** `B/<player>/queue`, retained; the session already coalesces, and an unchanged listing is not sent again. */
  publishQueue(playerId: string, listing: QueueListing): void {
    if (!this.#known(playerId)) return;
    this.#queueListings.set(playerId, this.#redactor.scrubKnown(JSON.stringify(toQueuePayload(listing))));
    this.#flushPlayer(playerId, false);
  }

  publishSessionState(view: AccountSessionView): void {
    if (this.#o.session) this.#session.publishState(view);
  }

  publishSessionEvent(event: AccountSessionEvent): void {
    if (this.#o.session) this.#session.publishEvent(event);
  }

  publishVolumeRequest(playerId: string, request: VolumeRequest): void {
    if (!this.#known(playerId)) return;
    void this.link.publish(this.#topics.volumeRequest(playerId), JSON.stringify(request));
  }

  publishEvent(playerId: string, event: SessionEvent): void {
    if (!this.#known(playerId)) return;
    void this.link.publish(this.#topics.event(playerId), this.#redactor.scrubKnown(JSON.stringify(toEventPayload(event))));
  }

  publishAvailability(playerId: string, online: boolean): void {
    if (!this.#known(playerId)) return;
    const value = online ? 'online' : 'offline';
    this.#availability.set(playerId, value);
    void this.link.publish(this.#topics.availability(playerId), value, { retain: true });
  }

  #known(playerId: string): boolean {
    if (this.#players.has(playerId)) return true;
    this.#log.warn({ playerId }, 'publish for an unconfigured player dropped');
    return false;
  }

  /** Sends the player's state, cover and queue when they differ from what went out (all of it with `force`). */
  #flushPlayer(playerId: string, force: boolean): void {
    const state = this.#states.get(playerId);
    if (state !== undefined && (force || this.#sentStates.get(playerId) !== state)) {
      this.#sentStates.set(playerId, state);
      void this.link.publish(this.#topics.state(playerId), state, { retain: true });
    }
    const cover = this.#covers.get(playerId);
    if (cover !== undefined && (force || this.#sentCovers.get(playerId) !== cover)) {
      this.#sentCovers.set(playerId, cover);
      void this.link.publish(this.#topics.coverUrl(playerId), cover, { retain: true });
    }
    const queue = this.#queueListings.get(playerId);
    if (queue !== undefined && (force || this.#sentQueueListings.get(playerId) !== queue)) {
      this.#sentQueueListings.set(playerId, queue);
      void this.link.publish(this.#topics.queue(playerId), queue, { retain: true });
    }
  }

  /** Everything retained again: the broker may have restarted without persistence. */
  #republishAll = async (): Promise<void> => {
    if (this.#o.discovery.enabled) await this.#discovery.publish(true);
    for (const [id, value] of this.#availability) {
      void this.link.publish(this.#topics.availability(id), value, { retain: true });
    }
    for (const id of this.#players) this.#flushPlayer(id, true);
    if (this.#o.session) this.#session.flush(true);
  };

  #onConnected = (): void => {
    void (async () => {
      const subs = [this.#topics.setWildcard, ...(this.#o.discovery.enabled ? [this.#topics.haStatus] : [])];
      await this.link.subscribe(subs);
      if (!this.#swept) {
        this.#swept = true;
        // README "MQTT topics": nothing retained is left of a removed player (issue #24), and of the session without a token.
        const keep = new Set([...this.#players, ...RESERVED_PLAYER_IDS.filter((id) => id !== 'session' || this.#o.session)]);
        const quiet = this.#o.sweepQuietMs !== undefined ? { quietMs: this.#o.sweepQuietMs } : {};
        await Promise.all([
          sweepRetained({ link: this.link, topics: this.#topics, keep, logger: this.#log, ...quiet }),
          this.#o.discovery.enabled ? this.#discovery.removeStale() : null,
        ]);
      }
      await this.#republishAll();
      this.#resolveFirstSync?.();
      this.#resolveFirstSync = undefined;
    })().catch((err: unknown) => this.#log.error({ err: errorMessage(err) }, 'MQTT sync after connect failed'));
  };

  /** One handler per incoming topic kind (docs/conventions.md principle 6). */
  #onMessage = (topic: string, payload: Buffer, retained: boolean): void => {
    if (topic === this.#topics.haStatus && this.#o.discovery.enabled) return this.#onHaStatus(payload, retained);
    if (topic === this.#topics.session('set')) return this.#session.command(payload, retained);
    const playerId = this.#topics.parseSetTopic(topic);
    if (playerId !== null) return this.#onCommandMessage(playerId, payload, retained);
  };

  /**
   * HA's birth message: discovery again after a short random delay, then the states
   * (README.md "Home Assistant entities").
   */
  #onHaStatus(payload: Buffer, retained: boolean): void {
    // A retained `online` is an old birth replayed on our subscribe, not a fresh HA start.
    if (retained || payload.toString().trim() !== 'online') return;
    clearTimeout(this.#haTimer);
    const delayMs = this.#o.haRepublishDelayMs?.() ?? 500 + Math.random() * 1500;
    this.#log.debug({ delayMs }, 'Home Assistant came online; re-publishing discovery');
    this.#haTimer = setTimeout(() => {
      void this.#republishAll().catch((err: unknown) => this.#log.error({ err: errorMessage(err) }, 're-publish failed'));
    }, delayMs);
  }

  #onCommandMessage(playerId: string, payload: Buffer, retained: boolean): void {
    const parsed = parseCommand(payload);
    // README "MQTT topics": {"ok": true} or {"ok": false, "error", "code"}, with the command's `id` when it gave one.
    const echo = parsed.id !== undefined ? { id: parsed.id } : {};
    type Result = { ok: true } | { ok: false; error: string; code: string };
    const answer = (result: Result) =>
      void this.link.publish(
        this.#topics.setResult(playerId),
        JSON.stringify(result.ok ? { ...result, ...echo } : { ok: false, error: this.#redactor.scrubString(result.error), code: result.code, ...echo }),
      );
    const refusal = (error: string): Result => ({ ok: false, error, code: 'ERR_BAD_COMMAND' });
    if (!this.#players.has(playerId)) return answer(refusal(`unknown player "${playerId}"`));
    let outcome: Promise<Result>;
    // A retained command would replay on every subscribe; it must never act twice.
    if (retained) outcome = Promise.resolve(refusal('retained commands are ignored; publish without the retain flag'));
    else if (!parsed.ok) {
      this.#log.debug({ playerId, error: parsed.error }, 'rejected MQTT command');
      outcome = Promise.resolve(refusal(parsed.error));
    } else {
      const command = parsed.command;
      // The newest intent wins (docs/architecture.md): every command goes to the player at once, where a
      // transport command supersedes an older one still waiting; only the answers keep the commands' order.
      outcome = Promise.resolve()
        .then(() => this.#o.onCommand(playerId, command))
        .then(
          () => ({ ok: true }) as const,
          (err: unknown) => {
            const error = isQcbError(err, 'ERR_NO_SESSION') ? 'no Qobuz session' : errorMessage(err);
            const code = isQcbError(err) ? err.code : 'ERR_INTERNAL';
            this.#log.info({ playerId, command, error, code }, 'MQTT command failed');
            return { ok: false, error, code } as const;
          },
        );
    }
    // Every answer of a player, a refusal too, waits for the answers of the commands before it.
    const answered = (this.#answered.get(playerId) ?? Promise.resolve())
      .then(() => outcome)
      .then(answer);
    this.#answered.set(playerId, answered);
    void answered.then(() => {
      if (this.#answered.get(playerId) === answered) this.#answered.delete(playerId);
    });
  }
}
