/**
 * Pure builders for Home Assistant MQTT device-based discovery (README.md "Home Assistant entities"):
 * one retained `<prefix>/device/<id>/config` per player with `dev`, `o` and `cmps`, plus one
 * for the bridge itself so that the players' `via_device` points at a real device (as
 * zigbee2mqtt does). Home Assistant has no MQTT media_player platform, so a player is a set
 * of plain entities driven by the state JSON and commanding through the command JSON
 * (README.md "MQTT topics").
 * Keys are HA's full option names; only `dev`, `o`, `cmps` and `p` are abbreviated (HA docs,
 * "Device discovery payload").
 */
import type { Topics } from './topics.js';
import { PRODUCT_NAME } from '../core/product.js';
import { sessionDeviceConfig } from './session-discovery.js';

const ORIGIN_NAME = PRODUCT_NAME;
const MANUFACTURER = PRODUCT_NAME;

export interface HaBridgeInfo {
  readonly version: string;
  readonly name: string;
  /** HA shows it as the origin's support link; omitted when unknown. */
  readonly supportUrl?: string;
  /**
   * Set when this bridge shares its broker with others (a base topic other than the default): player
   * unique ids become `qcb_<scope>_<player>_<entity>` so two bridges' players never collide (issue #12).
   */
  readonly uniqueIdScope?: string;
}

export interface HaPlayer {
  readonly id: string;
  readonly name: string;
  readonly uuid: string;
  /** Shown as the device model, e.g. "MPD"; default "Qobuz Connect <deviceType>". */
  readonly model?: string;
  readonly deviceType?: string;
  /** `players[].volume.mode` (README "Volume modes"): `fixed` has no volume or mute entity, `external` no mute. */
  readonly volumeMode?: 'mpd' | 'fixed' | 'external' | 'snapcast';
}

export interface HaDiscoveryOptions {
  readonly topics: Topics;
  readonly bridge: HaBridgeInfo;
  /**
   * A user token is configured (README "Own Qobuz identity"): the players' identity entities ("Play
   * Qobuz", "Play here", "Qobuz session") are offered only then, as they work only then (issue #24).
   */
  readonly identity?: boolean;
}

/** One retained discovery publish; `payload` '' removes the device's entities. */
export interface DiscoveryMessage {
  readonly topic: string;
  readonly payload: string;
}

type Component = Record<string, unknown>;

const ONLINE = { payload_available: 'online', payload_not_available: 'offline' } as const;
/**
 * "24-bit / 96 kHz", "16-bit / 44.1 kHz": what MPD's outputs play (the state's `format`, README "The
 * true format"); None (unknown) while nothing plays. The whole `format` (stream format, bit_perfect,
 * why not) is the sensor's attributes.
 */
const AUDIO_FORMAT_TEMPLATE =
  '{% set f = value_json.format %}{% if f %}{% set k = f.sample_rate / 1000 %}' +
  "{{ f.bit_depth }}-bit / {{ k | int if k == (k | int) else k }} kHz{% else %}None{% endif %}";
const AUDIO_FORMAT_ATTRIBUTES = '{{ (value_json.format or {}) | tojson }}';
/** HA event types of the "Qobuz session" event entity: our `session_<type>` events (README "Own Qobuz identity"). */
const SESSION_EVENT_TYPES = ['started', 'ended', 'taken_over'] as const;

export class HaDiscovery {
  readonly #topics: Topics;
  readonly #bridge: HaBridgeInfo;
  readonly #identity: boolean;

  constructor(options: HaDiscoveryOptions) {
    this.#topics = options.topics;
    this.#bridge = options.bridge;
    this.#identity = options.identity ?? true;
  }

  /** Identifier of the bridge device; includes the base topic so two bridges on one broker stay apart. */
  get bridgeIdentifier(): string {
    return `qcb_bridge_${this.#topics.base.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
  }

  /** Discovery object id of a player: its uuid (stable: README.md "Configuration reference"), else its id. */
  objectId(player: HaPlayer): string {
    return /^[A-Za-z0-9_-]+$/.test(player.uuid) ? player.uuid : player.id;
  }

  /** Bridge device first, then one message per player. */
  all(players: readonly HaPlayer[]): DiscoveryMessage[] {
    return [this.bridgeConfig(), ...players.map((p) => this.playerConfig(p))];
  }

  bridgeConfig(): DiscoveryMessage {
    const t = this.#topics;
    const uid = this.bridgeIdentifier;
    const payload = {
      dev: {
        name: this.#bridge.name,
        identifiers: [uid],
        manufacturer: MANUFACTURER,
        model: 'Qobuz Connect bridge',
        sw_version: this.#bridge.version,
      },
      o: this.#origin(),
      cmps: {
        connection: {
          p: 'binary_sensor',
          name: 'Connection state',
          unique_id: `${uid}_connection`,
          device_class: 'connectivity',
          entity_category: 'diagnostic',
          state_topic: t.bridgeState,
          value_template: '{{ value_json.state }}',
          payload_on: 'online',
          payload_off: 'offline',
        },
        version: {
          p: 'sensor',
          name: 'Version',
          unique_id: `${uid}_version`,
          entity_category: 'diagnostic',
          icon: 'mdi:information-outline',
          state_topic: t.bridgeInfo,
          value_template: '{{ value_json.version }}',
        },
      },
    };
    return { topic: t.discoveryConfig(uid), payload: JSON.stringify(payload) };
  }

  playerConfig(player: HaPlayer): DiscoveryMessage {
    const t = this.#topics;
    const payload = {
      dev: {
        name: player.name,
        identifiers: [`qcb_${player.uuid}`],
        manufacturer: MANUFACTURER,
        model: player.model ?? `Qobuz Connect ${player.deviceType ?? 'speaker'}`,
        sw_version: this.#bridge.version,
        via_device: this.bridgeIdentifier,
      },
      o: this.#origin(),
      // Both must hold: the bridge is connected AND the player's MPD answers
      // (README.md "Home Assistant entities").
      availability: [
        { topic: t.bridgeState, value_template: '{{ value_json.state }}', ...ONLINE },
        { topic: t.availability(player.id), ...ONLINE },
      ],
      availability_mode: 'all',
      cmps: withoutFixedVolume(player, this.#playerComponents(player)),
    };
    return { topic: t.discoveryConfig(this.objectId(player)), payload: JSON.stringify(payload) };
  }

  /** The account's session device (README "The Qobuz session"); `labels` are the "Play on" select's options. */
  sessionConfig(labels: readonly string[]): DiscoveryMessage {
    const scoped = this.#bridge.uniqueIdScope !== undefined;
    return sessionDeviceConfig(
      {
        topics: this.#topics,
        bridgeIdentifier: this.bridgeIdentifier,
        version: this.#bridge.version,
        origin: this.#origin(),
        manufacturer: MANUFACTURER,
        name: scoped ? `Qobuz (${this.#topics.base})` : 'Qobuz',
      },
      labels,
    );
  }

  /** Empty retained payload: HA removes the device's entities (HA docs, "Removing"). */
  removal(objectId: string): DiscoveryMessage {
    return { topic: this.#topics.discoveryConfig(objectId), payload: '' };
  }

  /**
   * True for a retained config this bridge published (our origin, attached to our bridge
   * device), so that a stale player's config can be removed without touching anyone else's.
   */
  isOurs(payload: Buffer | string): boolean {
    let json: unknown;
    try {
      json = JSON.parse(payload.toString());
    } catch {
      return false;
    }
    if (json === null || typeof json !== 'object') return false;
    const { o, dev } = json as { o?: { name?: unknown }; dev?: { via_device?: unknown; identifiers?: unknown } };
    if (o?.name !== ORIGIN_NAME || dev === undefined) return false;
    const ids = Array.isArray(dev.identifiers) ? dev.identifiers : [dev.identifiers];
    return dev.via_device === this.bridgeIdentifier || ids.includes(this.bridgeIdentifier);
  }

  #origin(): Record<string, string> {
    const o: Record<string, string> = { name: ORIGIN_NAME, sw_version: this.#bridge.version };
    if (this.#bridge.supportUrl) o.support_url = this.#bridge.supportUrl;
    return o;
  }

  #playerComponents(player: HaPlayer): Record<string, Component> {
    const t = this.#topics;
    const state = t.state(player.id);
    const command = t.set(player.id);
    const scope = this.#bridge.uniqueIdScope;
    const uid = (entity: string) => (scope ? `qcb_${scope}_${player.id}_${entity}` : `qcb_${player.id}_${entity}`);
    const sensor = (entity: string, name: string, template: string, extra: Component = {}): Component => ({
      p: 'sensor', name, unique_id: uid(entity), state_topic: state, value_template: template, ...extra,
    });
    // `None` renders to "None", which HA's MQTT sensor shows as unknown when no track is loaded.
    const trackField = (field: string) => `{{ value_json.track.${field} if value_json.track else None }}`;
    const onOff = (key: string) => `{{ 'ON' if value_json.${key} else 'OFF' }}`;
    const toggle = (entity: string, name: string, key: string, icon: string): Component => ({
      p: 'switch', name, unique_id: uid(entity), icon, state_topic: state, value_template: onOff(key),
      command_topic: command, command_template: `{"${key}": {{ 'true' if value == 'ON' else 'false' }}}`,
      payload_on: 'ON', payload_off: 'OFF',
    });
    const button = (action: string, name: string, icon: string): Component => ({
      p: 'button', name, unique_id: uid(action), icon, command_topic: command, payload_press: JSON.stringify({ action }),
    });
    return {
      state: sensor('state', 'State', '{{ value_json.state }}', {
        device_class: 'enum', options: ['playing', 'paused', 'stopped', 'idle'], icon: 'mdi:music',
      }),
      title: sensor('title', 'Title', trackField('title'), { icon: 'mdi:music-note' }),
      artist: sensor('artist', 'Artist', trackField('artist'), { icon: 'mdi:account-music' }),
      album: sensor('album', 'Album', trackField('album'), { icon: 'mdi:album' }),
      cover: { p: 'image', name: 'Cover', unique_id: uid('cover'), url_topic: t.coverUrl(player.id) },
      volume: {
        p: 'number', name: 'Volume', unique_id: uid('volume'), icon: 'mdi:volume-high',
        state_topic: state, value_template: '{{ value_json.volume }}',
        command_topic: command, command_template: '{"volume": {{ value | int }}}',
        min: 0, max: 100, step: 1, mode: 'slider', unit_of_measurement: '%',
      },
      mute: toggle('mute', 'Mute', 'muted', 'mdi:volume-off'),
      shuffle: toggle('shuffle', 'Shuffle', 'shuffle', 'mdi:shuffle-variant'),
      repeat: {
        p: 'select', name: 'Repeat', unique_id: uid('repeat'), icon: 'mdi:repeat',
        state_topic: state, value_template: '{{ value_json.repeat }}',
        command_topic: command, command_template: '{"repeat": "{{ value }}"}', options: ['off', 'one', 'all'],
      },
      play: button('play', 'Play', 'mdi:play'),
      pause: button('pause', 'Pause', 'mdi:pause'),
      next: button('next', 'Next', 'mdi:skip-next'),
      previous: button('previous', 'Previous', 'mdi:skip-previous'),
      stop: button('stop', 'Stop', 'mdi:stop'),
      qobuz_session: {
        p: 'binary_sensor', name: 'Qobuz session', unique_id: uid('qobuz_session'), device_class: 'connectivity',
        state_topic: state, value_template: "{{ 'ON' if value_json.qobuz_session in ['active', 'connected'] else 'OFF' }}",
      },
      // Issue #23: what MPD's outputs actually play, with the stream's format and bit_perfect as attributes.
      audio_format: sensor('audio_format', 'Audio format', AUDIO_FORMAT_TEMPLATE, {
        icon: 'mdi:waveform', json_attributes_topic: state, json_attributes_template: AUDIO_FORMAT_ATTRIBUTES,
      }),
      ...this.#queueComponents(player, uid),
      ...(this.#identity ? this.#identityComponents(player, uid) : {}),
    };
  }

  /** The queue (README "Home Assistant entities", issue #14): what comes next, from the queue listing, and how long the queue is. */
  #queueComponents(player: HaPlayer, uid: (entity: string) => string): Record<string, Component> {
    const queue = this.#topics.queue(player.id);
    return {
      up_next: {
        p: 'sensor', name: 'Up next', unique_id: uid('up_next'), icon: 'mdi:playlist-play',
        state_topic: queue, value_template: '{{ value_json.next.title if value_json.next else None }}',
        json_attributes_topic: queue,
        json_attributes_template:
          "{{ {'artist': value_json.next.artist, 'album': value_json.next.album, 'queue_item_id': value_json.next.queue_item_id, 'track_id': value_json.next.track_id} | tojson if value_json.next else '{}' }}",
      },
      queue_length: {
        p: 'sensor', name: 'Queue length', unique_id: uid('queue_length'), icon: 'mdi:playlist-music',
        state_topic: this.#topics.state(player.id), value_template: '{{ value_json.queue.length }}', unit_of_measurement: 'tracks',
      },
    };
  }

  /**
   * The player's own Qobuz identity (README "Own Qobuz identity"): a text entity taking a Qobuz link
   * or `album:<id>` for play_media, a button taking over what plays elsewhere, and an event entity
   * automations trigger on. The event entity reads the event topic; its template turns our three
   * session events into HA event types and renders nothing for every other event, which HA ignores.
   */
  #identityComponents(player: HaPlayer, uid: (entity: string) => string): Record<string, Component> {
    const t = this.#topics;
    const command = t.set(player.id);
    const types = SESSION_EVENT_TYPES.map((e) => `'session_${e}'`).join(', ');
    return {
      play_media: {
        p: 'text', name: 'Play Qobuz', unique_id: uid('play_media'), icon: 'mdi:play-box-outline',
        command_topic: command, command_template: '{"play_media": {{ value | tojson }}}', mode: 'text', min: 0, max: 255,
      },
      transfer: {
        p: 'button', name: 'Play here', unique_id: uid('transfer'), icon: 'mdi:cast-audio', command_topic: command,
        payload_press: JSON.stringify({ transfer: true }),
      },
      session_event: {
        p: 'event', name: 'Qobuz session', unique_id: uid('session_event'), icon: 'mdi:account-music',
        state_topic: t.event(player.id), event_types: [...SESSION_EVENT_TYPES],
        value_template: `{% if value_json.type in [${types}] %}{{ {'event_type': value_json.type[8:]} | tojson }}{% endif %}`,
      },
    };
  }
}

/**
 * A fixed volume belongs to the amplifier (README "Volume modes"): the volume and mute entities go;
 * an external one keeps the volume slider (its intents go to the amplifier) and loses mute.
 * A component left with only its platform is removed by HA from a device it had (HA docs, "Device
 * discovery payload"), so switching a player to `fixed` takes them away without a restart of HA.
 */
function withoutFixedVolume(player: HaPlayer, cmps: Record<string, Component>): Record<string, Component> {
  if (player.volumeMode === 'external') return { ...cmps, mute: { p: 'switch' } };
  if (player.volumeMode !== 'fixed') return cmps;
  return { ...cmps, volume: { p: 'number' }, mute: { p: 'switch' } };
}
