/**
 * Publishes the Home Assistant discovery configs (README.md "Home Assistant entities"): retained, only
 * when a payload changed since it was last published in this process (docs/conventions.md principle 12,
 * as zigbee2mqtt does), everything again on demand (HA birth, broker reconnect), and removal
 * of configs this bridge once published for players that are no longer configured.
 */
import type { Logger } from 'pino';
import type { MqttLink } from './mqtt-link.js';
import type { Topics } from './topics.js';
import { withRemovedComponents } from './discovery-removals.js';
import type { DiscoveryMessage, HaDiscovery, HaPlayer } from './ha-discovery.js';

export interface DiscoveryPublisherOptions {
  readonly link: MqttLink;
  readonly topics: Topics;
  readonly discovery: HaDiscovery;
  readonly players: readonly HaPlayer[];
  readonly logger: Logger;
  /** Retained configs arrive right after SUBACK; this much silence ends the sweep (default 300 ms). */
  readonly sweepQuietMs?: number;
  /** Upper bound of the sweep (default 3 s). */
  readonly sweepMaxMs?: number;
  /** Configs of devices beside the bridge and the players: the account's session (README "The Qobuz session"). */
  readonly more?: () => DiscoveryMessage[];
}

export class DiscoveryPublisher {
  readonly #o: DiscoveryPublisherOptions;
  /** topic → payload last published in this process. */
  readonly #published = new Map<string, string>();
  /** topic → our config retained on the broker at start: its entities that are gone get removal markers. */
  readonly #retained = new Map<string, Buffer>();

  constructor(options: DiscoveryPublisherOptions) {
    this.#o = options;
  }

  /** The current set of configs (bridge device first). */
  messages(): DiscoveryMessage[] {
    return [...this.#o.discovery.all(this.#o.players), ...(this.#o.more?.() ?? [])].map((m) =>
      withRemovedComponents(m, this.#retained.get(m.topic)),
    );
  }

  /** Publishes changed configs (all of them with `force`); returns how many went out. */
  async publish(force = false): Promise<number> {
    let count = 0;
    for (const m of this.messages()) {
      if (!force && this.#published.get(m.topic) === m.payload) continue;
      if (await this.#o.link.publish(m.topic, m.payload, { retain: true, qos: 1 })) {
        this.#published.set(m.topic, m.payload);
        count++;
      }
    }
    if (count > 0) this.#o.logger.debug({ count, force }, 'published Home Assistant discovery');
    return count;
  }

  /**
   * Looks at the retained `<prefix>/device/+/config` messages and clears (empty retained) the ones
   * this bridge published for players no longer configured (README.md "Home Assistant entities":
   * a player removed from the config loses its entities at the next start). Returns the removed
   * object ids.
   */
  async removeStale(): Promise<string[]> {
    const { link, topics, discovery } = this.#o;
    const found = new Map<string, Buffer>();
    const seen = { lastAt: 0 };
    const onMessage = (topic: string, payload: Buffer, retained: boolean) => {
      const id = topics.parseDiscoveryTopic(topic);
      if (id === null || !retained) return;
      seen.lastAt = Date.now();
      if (payload.length > 0) found.set(id, payload);
    };
    link.on('message', onMessage);
    try {
      if (!(await link.subscribe([topics.discoveryConfigWildcard]))) return [];
      seen.lastAt = Date.now();
      const start = Date.now();
      const quietMs = this.#o.sweepQuietMs ?? 300;
      const maxMs = this.#o.sweepMaxMs ?? 3000;
      while (Date.now() - seen.lastAt < quietMs && Date.now() - start < maxMs) {
        await new Promise((r) => setTimeout(r, Math.min(50, quietMs)));
      }
    } finally {
      link.off('message', onMessage);
      await link.unsubscribe([topics.discoveryConfigWildcard]);
    }
    const keep = new Set(this.messages().map((m) => topics.parseDiscoveryTopic(m.topic)));
    const removed: string[] = [];
    for (const [id, payload] of found) {
      if (keep.has(id) && discovery.isOurs(payload)) this.#retained.set(topics.discoveryConfig(id), payload);
      if (keep.has(id) || !discovery.isOurs(payload)) continue;
      const m = discovery.removal(id);
      if (await link.publish(m.topic, m.payload, { retain: true, qos: 1 })) removed.push(id);
    }
    if (removed.length > 0) this.#o.logger.info({ removed }, 'removed Home Assistant entities of players no longer configured');
    return removed;
  }
}
