/**
 * Pure builder of the Home Assistant device for the account's Qobuz session (README "The Qobuz
 * session", "Home Assistant entities"; issue #24): one "Qobuz" device, attached to the bridge
 * device, whose entities read `B/session/state` and `B/session/event` and command through
 * `B/session/set`. The "Play on" select lists the session's devices, so its config changes with
 * them and is published again when it does (discovery-publisher.ts: only what changed).
 */
import type { Topics } from './topics.js';

export interface SessionDiscoveryContext {
  readonly topics: Topics;
  /** The bridge device's identifier, which the session device hangs off (`via_device`). */
  readonly bridgeIdentifier: string;
  readonly version: string;
  readonly origin: Record<string, string>;
  readonly manufacturer: string;
  /** "Qobuz", or "Qobuz (<base topic>)" beside other bridges on one broker. */
  readonly name: string;
}

/** HA event types of the session's event entity: every event of `B/session/event`. */
const ACCOUNT_EVENT_TYPES = ['device_joined', 'device_left', 'active_device_changed'] as const;

type Component = Record<string, unknown>;

/** The session device's identifier: one per bridge (its base topic), like the bridge device's. */
function sessionIdentifier(topics: Topics): string {
  return `qcb_session_${topics.base.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
}

/** `labels`: the session's devices as the select offers them (SessionDeviceView.label). */
export function sessionDeviceConfig(ctx: SessionDiscoveryContext, labels: readonly string[]): { topic: string; payload: string } {
  const t = ctx.topics;
  const id = sessionIdentifier(t);
  const state = t.session('state');
  const uid = (entity: string) => `${id}_${entity}`;
  const activeField = (field: string) => `{{ value_json.active.${field} if value_json.active else None }}`;
  const trackField = (field: string) =>
    `{{ value_json.active.track.${field} if value_json.active and value_json.active.track else None }}`;
  const sensor = (entity: string, name: string, template: string, extra: Component = {}): Component => ({
    p: 'sensor', name, unique_id: uid(entity), state_topic: state, value_template: template, ...extra,
  });
  const cmps: Record<string, Component> = {
    active_device: sensor('active_device', 'Active device', activeField('name'), {
      icon: 'mdi:speaker-wireless',
      json_attributes_topic: state,
      json_attributes_template:
        "{{ {'renderer_id': value_json.active.renderer_id, 'type': value_json.active.type, 'player': value_json.active.player, 'connected': value_json.active.connected} | tojson if value_json.active else '{}' }}",
    }),
    state: sensor('state', 'State', "{{ value_json.active.state if value_json.active else 'idle' }}", {
      device_class: 'enum', options: ['playing', 'paused', 'stopped', 'idle'], icon: 'mdi:music',
    }),
    title: sensor('title', 'Title', trackField('title'), { icon: 'mdi:music-note' }),
    artist: sensor('artist', 'Artist', trackField('artist'), { icon: 'mdi:account-music' }),
    album: sensor('album', 'Album', trackField('album'), { icon: 'mdi:album' }),
    cover: { p: 'image', name: 'Cover', unique_id: uid('cover'), url_topic: t.session('cover_url') },
    position: sensor(
      'position',
      'Position',
      '{{ (value_json.active.position_ms / 1000) | round(0) | int if value_json.active else None }}',
      {
        device_class: 'duration', unit_of_measurement: 's', icon: 'mdi:timer-music-outline',
        json_attributes_topic: state,
        json_attributes_template:
          "{{ {'position_at': value_json.active.position_at, 'duration_ms': value_json.active.duration_ms} | tojson if value_json.active else '{}' }}",
      },
    ),
    devices: sensor('devices', 'Devices', '{{ value_json.devices | length }}', {
      icon: 'mdi:devices', unit_of_measurement: 'devices',
      json_attributes_topic: state,
      json_attributes_template: "{{ {'devices': value_json.devices | map(attribute='label') | list} | tojson }}",
    }),
    play_on: {
      p: 'select', name: 'Play on', unique_id: uid('play_on'), icon: 'mdi:cast-audio',
      state_topic: state, value_template: activeField('label'),
      command_topic: t.session('set'), command_template: '{"play_on": {{ value | tojson }}}', options: [...labels],
    },
    pause: {
      p: 'button', name: 'Pause', unique_id: uid('pause'), icon: 'mdi:pause', command_topic: t.session('set'),
      payload_press: JSON.stringify({ pause: true }),
    },
    device_event: {
      p: 'event', name: 'Device change', unique_id: uid('device_event'), icon: 'mdi:devices',
      state_topic: t.session('event'), event_types: [...ACCOUNT_EVENT_TYPES],
      // The event's fields (name, player, from, to …) become the HA event's attributes, for automations.
      value_template: '{{ dict(value_json, event_type=value_json.type) | tojson }}',
    },
  };
  const payload = {
    dev: {
      name: ctx.name,
      identifiers: [id],
      manufacturer: ctx.manufacturer,
      model: 'Qobuz Connect session',
      sw_version: ctx.version,
      via_device: ctx.bridgeIdentifier,
    },
    o: ctx.origin,
    availability: [{ topic: t.bridgeState, value_template: '{{ value_json.state }}', payload_available: 'online', payload_not_available: 'offline' }],
    cmps,
  };
  return { topic: t.discoveryConfig(id), payload: JSON.stringify(payload) };
}
