/**
 * Every MQTT topic the bridge uses, in one place (README.md "MQTT topics": base topic B =
 * mqtt.base_topic; "Home Assistant": device-based discovery under the discovery prefix).
 */

/** Topic segments may not hold MQTT wildcards or separators (MQTT 5 §4.7). */
function assertSegment(what: string, value: string): void {
  if (value === '' || /[+#/]/.test(value) || value.includes('\0')) throw new Error(`${what} is not a valid topic segment: "${value}"`);
}

/** `B/bridge/…` and `B/session/…` are the bridge's own; no player may take these ids (RESERVED_PLAYER_IDS). */
const BRIDGE_SEGMENT = 'bridge';
const SESSION_SEGMENT = 'session';

export class Topics {
  constructor(
    readonly base: string,
    readonly discoveryPrefix: string = 'homeassistant',
  ) {
    if (base === '' || /[+#]/.test(base) || base.includes('\0') || base.startsWith('/') || base.endsWith('/')) {
      throw new Error(`mqtt.base_topic is not a valid topic prefix: "${base}"`);
    }
    if (discoveryPrefix === '' || /[+#]/.test(discoveryPrefix) || discoveryPrefix.includes('\0')) {
      throw new Error(`mqtt.discovery_prefix is not a valid topic prefix: "${discoveryPrefix}"`);
    }
  }

  /** `{"state":"online"}` retained; the last will says offline. */
  get bridgeState(): string {
    return `${this.base}/${BRIDGE_SEGMENT}/state`;
  }

  get bridgeInfo(): string {
    return `${this.base}/${BRIDGE_SEGMENT}/info`;
  }

  availability(playerId: string): string {
    return this.#player(playerId, 'availability');
  }

  state(playerId: string): string {
    return this.#player(playerId, 'state');
  }

  event(playerId: string): string {
    return this.#player(playerId, 'event');
  }

  /** The queue listing, retained (README "MQTT topics", issue #14). */
  queue(playerId: string): string {
    return this.#player(playerId, 'queue');
  }

  /** Small retained topic holding just the cover URL: the HA image entity's `url_topic`. */
  coverUrl(playerId: string): string {
    return this.#player(playerId, 'cover_url');
  }

  /** README "Volume modes", `external`: the volume an automation should give the amplifier (not retained). */
  volumeRequest(playerId: string): string {
    return `${this.#player(playerId, 'volume')}/request`;
  }

  set(playerId: string): string {
    return this.#player(playerId, 'set');
  }

  setResult(playerId: string): string {
    return `${this.#player(playerId, 'set')}/result`;
  }

  /** Subscription for every player's command topic. */
  get setWildcard(): string {
    return `${this.base}/+/set`;
  }

  /** The player id of a `B/<player>/set` topic, else null. */
  parseSetTopic(topic: string): string | null {
    const prefix = `${this.base}/`;
    if (!topic.startsWith(prefix) || !topic.endsWith('/set')) return null;
    const id = topic.slice(prefix.length, -'/set'.length);
    return id === '' || id.includes('/') ? null : id;
  }

  /** The account's Qobuz session, one for all players (README "The Qobuz session", issue #24): `state`, `event`, `set`, `cover_url`. */
  session(leaf: 'state' | 'event' | 'set' | 'cover_url'): string {
    return `${this.base}/${SESSION_SEGMENT}/${leaf}`;
  }

  get sessionSetResult(): string {
    return `${this.session('set')}/result`;
  }

  /** Every `B/<player>/<leaf>` topic, the bridge's and the session's included: the start-up sweep of leftovers. */
  get segmentWildcard(): string {
    return `${this.base}/+/+`;
  }

  /** The player segment of a `B/<segment>/<leaf>` topic, else null. */
  parseSegment(topic: string): string | null {
    const prefix = `${this.base}/`;
    if (!topic.startsWith(prefix)) return null;
    const parts = topic.slice(prefix.length).split('/');
    return parts.length === 2 && parts[0] !== '' && parts[1] !== '' ? parts[0]! : null;
  }

  /** Home Assistant's birth/will topic (`online` / `offline`). */
  get haStatus(): string {
    return `${this.discoveryPrefix}/status`;
  }

  /** Device-based discovery: `<prefix>/device/<object id>/config`. */
  discoveryConfig(objectId: string): string {
    assertSegment('discovery object id', objectId);
    return `${this.discoveryPrefix}/device/${objectId}/config`;
  }

  get discoveryConfigWildcard(): string {
    return `${this.discoveryPrefix}/device/+/config`;
  }

  /** The object id of a `<prefix>/device/<id>/config` topic, else null. */
  parseDiscoveryTopic(topic: string): string | null {
    const prefix = `${this.discoveryPrefix}/device/`;
    if (!topic.startsWith(prefix) || !topic.endsWith('/config')) return null;
    const id = topic.slice(prefix.length, -'/config'.length);
    return id === '' || id.includes('/') ? null : id;
  }

  #player(playerId: string, leaf: string): string {
    assertSegment('player id', playerId);
    return `${this.base}/${playerId}/${leaf}`;
  }
}
