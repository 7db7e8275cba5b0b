import { describe, expect, it } from 'vitest';
import { parseCommand } from '../src/mqtt/command-parser.js';
import { withRemovedComponents } from '../src/mqtt/discovery-removals.js';
import { parseSessionCommand } from '../src/mqtt/session-command-parser.js';
import { toSessionStatePayload } from '../src/mqtt/session-payload.js';
import { HaDiscovery, type HaPlayer } from '../src/mqtt/ha-discovery.js';
import { EMPTY_LISTING } from '../src/core/queue-listing.js';
import { toQueuePayload } from '../src/mqtt/queue-payload.js';
import { toStatePayload } from '../src/mqtt/state-payload.js';
import { Topics } from '../src/mqtt/topics.js';

/*
 * A validator for Home Assistant's MQTT device-based discovery (HA docs, integrations/mqtt:
 * "Device discovery payload", and the per-platform pages sensor/binary_sensor/switch/number/
 * select/button/image .mqtt): root needs `dev` and `o`, only shared options beside `cmps`;
 * each component needs `p` and `unique_id` plus its platform's required keys; keys are full
 * option names or abbreviations from HA's documented list.
 */
const ABBREVIATIONS: Record<string, string> = {
  p: 'platform', dev: 'device', o: 'origin', cmps: 'components', avty: 'availability', avty_mode: 'availability_mode',
  avty_t: 'availability_topic', avty_tpl: 'availability_template', cmd_t: 'command_topic', cmd_tpl: 'command_template',
  stat_t: 'state_topic', val_tpl: 'value_template', uniq_id: 'unique_id', dev_cla: 'device_class', ent_cat: 'entity_category',
  ic: 'icon', json_attr_t: 'json_attributes_topic', json_attr_tpl: 'json_attributes_template', ops: 'options',
  pl_on: 'payload_on', pl_off: 'payload_off', pl_prs: 'payload_press', pl_avail: 'payload_available',
  pl_not_avail: 'payload_not_available', unit_of_meas: 'unit_of_measurement', stat_cla: 'state_class', url_t: 'url_topic',
  url_tpl: 'url_template', t: 'topic', e: 'encoding', en: 'enabled_by_default', obj_id: 'object_id',
  def_ent_id: 'default_entity_id', ret: 'retain', opt: 'optimistic', exp_aft: 'expire_after', frc_upd: 'force_update',
  stat_on: 'state_on', stat_off: 'state_off', off_dly: 'off_delay',
};
const DEVICE_ABBREVIATIONS: Record<string, string> = {
  ids: 'identifiers', cns: 'connections', cu: 'configuration_url', mf: 'manufacturer', mdl: 'model', mdl_id: 'model_id',
  sw: 'sw_version', hw: 'hw_version', sn: 'serial_number', sa: 'suggested_area',
};
const ORIGIN_ABBREVIATIONS: Record<string, string> = { sw: 'sw_version', url: 'support_url' };
const DEVICE_KEYS = new Set(['configuration_url', 'connections', 'hw_version', 'identifiers', 'manufacturer', 'model', 'model_id', 'name', 'serial_number', 'suggested_area', 'sw_version', 'via_device']);
const ORIGIN_KEYS = new Set(['name', 'sw_version', 'support_url']);
const AVAILABILITY_KEYS = ['availability', 'availability_mode', 'availability_template', 'availability_topic', 'payload_available', 'payload_not_available'];
const SHARED_ROOT_KEYS = new Set(['device', 'origin', 'components', 'state_topic', 'command_topic', 'qos', 'encoding', ...AVAILABILITY_KEYS]);
const ENTITY_KEYS = ['platform', 'unique_id', 'name', 'icon', 'entity_category', 'entity_picture', 'enabled_by_default', 'encoding', 'qos', 'object_id', 'default_entity_id', 'json_attributes_topic', 'json_attributes_template', ...AVAILABILITY_KEYS];
const PLATFORMS: Record<string, { keys: string[]; required: string[][] }> = {
  sensor: { keys: ['state_topic', 'value_template', 'device_class', 'state_class', 'unit_of_measurement', 'options', 'expire_after', 'force_update', 'suggested_display_precision', 'last_reset_value_template'], required: [['state_topic']] },
  binary_sensor: { keys: ['state_topic', 'value_template', 'device_class', 'payload_on', 'payload_off', 'expire_after', 'force_update', 'off_delay'], required: [['state_topic']] },
  switch: { keys: ['state_topic', 'value_template', 'command_topic', 'command_template', 'device_class', 'payload_on', 'payload_off', 'state_on', 'state_off', 'optimistic', 'retain'], required: [['command_topic']] },
  number: { keys: ['state_topic', 'value_template', 'command_topic', 'command_template', 'device_class', 'min', 'max', 'step', 'mode', 'unit_of_measurement', 'optimistic', 'retain', 'payload_reset'], required: [['command_topic']] },
  select: { keys: ['state_topic', 'value_template', 'command_topic', 'command_template', 'options', 'optimistic', 'retain'], required: [['command_topic'], ['options']] },
  button: { keys: ['command_topic', 'command_template', 'payload_press', 'device_class', 'retain'], required: [['command_topic']] },
  image: { keys: ['url_topic', 'url_template', 'image_topic', 'image_encoding', 'content_type'], required: [['url_topic', 'image_topic']] },
  // HA docs, text.mqtt and event.mqtt (issue #15).
  text: { keys: ['state_topic', 'value_template', 'command_topic', 'command_template', 'min', 'max', 'mode', 'pattern', 'retain'], required: [['command_topic']] },
  event: { keys: ['state_topic', 'value_template', 'event_types', 'device_class'], required: [['state_topic'], ['event_types']] },
};

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const validTopic = (v: unknown) => typeof v === 'string' && v.length > 0 && !/[+#]/.test(v);

function expand(obj: Json, abbreviations: Record<string, string>, allowed: Set<string>, where: string, errors: string[]): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(obj)) {
    const full = allowed.has(key) ? key : abbreviations[key];
    if (full === undefined || !allowed.has(full)) errors.push(`${where}: unknown key "${key}"`);
    else out[full] = value;
  }
  return out;
}

function checkAvailability(cfg: Json, where: string, errors: string[]): void {
  if (cfg.availability !== undefined) {
    if (!Array.isArray(cfg.availability) || cfg.availability.length === 0) errors.push(`${where}.availability: must be a non-empty list`);
    else cfg.availability.forEach((entry: unknown, i) => {
      if (!isObject(entry)) return errors.push(`${where}.availability[${i}]: must be a mapping`);
      const e = expand(entry, ABBREVIATIONS, new Set(['topic', 'payload_available', 'payload_not_available', 'value_template']), `${where}.availability[${i}]`, errors);
      if (!validTopic(e.topic)) errors.push(`${where}.availability[${i}].topic: required, no wildcards`);
      for (const k of ['payload_available', 'payload_not_available', 'value_template']) {
        if (e[k] !== undefined && typeof e[k] !== 'string') errors.push(`${where}.availability[${i}].${k}: must be a string`);
      }
    });
  }
  if (cfg.availability_mode !== undefined && !['all', 'any', 'latest'].includes(String(cfg.availability_mode))) {
    errors.push(`${where}.availability_mode: must be all, any or latest`);
  }
}

/** Errors of one device discovery payload (empty = valid); collects unique ids into `uniqueIds`. */
function validateDeviceDiscovery(payload: string, uniqueIds: Map<string, string>, where = 'payload'): string[] {
  const errors: string[] = [];
  const raw: unknown = JSON.parse(payload);
  if (!isObject(raw)) return [`${where}: must be a JSON object`];
  const root = expand(raw, ABBREVIATIONS, SHARED_ROOT_KEYS, where, errors);
  if (!isObject(root.device)) errors.push(`${where}: device (dev) is required`);
  else {
    const dev = expand(root.device, DEVICE_ABBREVIATIONS, DEVICE_KEYS, `${where}.dev`, errors);
    const ids = dev.identifiers;
    if ((!Array.isArray(ids) || ids.length === 0) && dev.connections === undefined) errors.push(`${where}.dev: identifiers or connections required`);
    if (dev.via_device !== undefined && typeof dev.via_device !== 'string') errors.push(`${where}.dev.via_device: must be a string`);
  }
  if (!isObject(root.origin)) errors.push(`${where}: origin (o) is required`);
  else {
    const o = expand(root.origin, ORIGIN_ABBREVIATIONS, ORIGIN_KEYS, `${where}.o`, errors);
    if (typeof o.name !== 'string' || o.name === '') errors.push(`${where}.o.name: required`);
    if (o.support_url !== undefined && !URL.canParse(String(o.support_url))) errors.push(`${where}.o.support_url: must be a URL`);
  }
  checkAvailability(root, where, errors);
  if (!isObject(root.components) || Object.keys(root.components).length === 0) {
    errors.push(`${where}: components (cmps) must be a non-empty mapping`);
    return errors;
  }
  for (const [id, rawCmp] of Object.entries(root.components)) {
    const at = `${where}.cmps.${id}`;
    if (!/^[a-zA-Z0-9_-]+$/.test(id)) errors.push(`${at}: component id must match [a-zA-Z0-9_-]+`);
    if (!isObject(rawCmp)) {
      errors.push(`${at}: must be a mapping`);
      continue;
    }
    const platformName = String(rawCmp.p ?? rawCmp.platform);
    const platform = PLATFORMS[platformName];
    if (!platform) {
      errors.push(`${at}: platform (p) missing or unsupported: ${platformName}`);
      continue;
    }
    const cmp = expand(rawCmp, ABBREVIATIONS, new Set([...ENTITY_KEYS, ...platform.keys]), at, errors);
    // Shared options at the root are inherited by the components (HA docs, "Device discovery payload").
    const effective: Json = { state_topic: root.state_topic, command_topic: root.command_topic, ...cmp };
    if (typeof cmp.unique_id !== 'string' || cmp.unique_id === '') errors.push(`${at}: unique_id is required`);
    else if (uniqueIds.has(cmp.unique_id)) errors.push(`${at}: unique_id ${cmp.unique_id} also used by ${uniqueIds.get(cmp.unique_id)}`);
    else uniqueIds.set(cmp.unique_id, at);
    for (const oneOf of platform.required) {
      if (!oneOf.some((k) => effective[k] !== undefined)) errors.push(`${at}: ${platformName} requires ${oneOf.join(' or ')}`);
    }
    for (const [k, v] of Object.entries(effective)) {
      if (k.endsWith('_topic') && v !== undefined && !validTopic(v)) errors.push(`${at}.${k}: must be a topic without wildcards`);
      if (k.endsWith('_template') && typeof v !== 'string') errors.push(`${at}.${k}: must be a template string`);
    }
    checkAvailability(cmp, at, errors);
    if (platformName === 'number') {
      const { min = 1, max = 100, step = 1, mode = 'auto' } = cmp as { min?: number; max?: number; step?: number; mode?: string };
      if (!(min < max)) errors.push(`${at}: min must be below max`);
      if (!(step > 0)) errors.push(`${at}: step must be positive`);
      if (!['auto', 'box', 'slider'].includes(mode)) errors.push(`${at}: mode must be auto, box or slider`);
    }
    const options = cmp.options;
    // HA's MQTT select takes any list (`cv.ensure_list`): the session's "Play on" has none before the first join (issue #24).
    const empty = Array.isArray(options) && options.length === 0 && platformName !== 'select';
    if (options !== undefined && (!Array.isArray(options) || empty || options.some((x) => typeof x !== 'string'))) {
      errors.push(`${at}: options must be a non-empty list of strings`);
    }
    if (platformName === 'sensor' && cmp.device_class === 'enum' && options === undefined) errors.push(`${at}: enum sensor needs options`);
  }
  return errors;
}

/** Just enough Jinja for our command templates: `{{ value }}`, `{{ value | int }}`, `{{ value | tojson }}`, `{{ 'a' if value == 'b' else 'c' }}`. */
function renderCommand(template: string, value: string): string {
  return template
    .replace(/\{\{ value \| int \}\}/g, String(Math.trunc(Number(value))))
    .replace(/\{\{ value \| tojson \}\}/g, JSON.stringify(value))
    .replace(/\{\{ '([^']*)' if value == '([^']*)' else '([^']*)' \}\}/g, (_m, a: string, b: string, c: string) => (value === b ? a : c))
    .replace(/\{\{ value \}\}/g, value);
}

const topics = new Topics('qobuz-connect', 'homeassistant');
const discovery = new HaDiscovery({
  topics,
  bridge: { version: '0.1.0', name: 'Qobuz Connect Bridge', supportUrl: 'https://example.org/qobuz-connect-bridge' },
});
const players: HaPlayer[] = [
  { id: 'living_room', name: 'Living Room', uuid: '2c1d7a0e-5a41-4f7b-9c1e-0f6a1b2c3d4e', deviceType: 'speaker' },
  { id: 'kitchen', name: 'Kitchen', uuid: '9e8d7c6b-5a49-4382-a716-f5e4d3c2b1a0', model: 'MPD 0.23' },
];

describe('Home Assistant device discovery (README.md "Home Assistant entities")', () => {
  it('builds one valid config per player and one for the bridge, with unique ids unique across all of them', () => {
    const messages = discovery.all(players);
    expect(messages.map((m) => m.topic)).toEqual([
      'homeassistant/device/qcb_bridge_qobuz_connect/config',
      'homeassistant/device/2c1d7a0e-5a41-4f7b-9c1e-0f6a1b2c3d4e/config',
      'homeassistant/device/9e8d7c6b-5a49-4382-a716-f5e4d3c2b1a0/config',
    ]);
    const uniqueIds = new Map<string, string>();
    const errors = messages.flatMap((m) => validateDeviceDiscovery(m.payload, uniqueIds, m.topic));
    expect(errors).toEqual([]);
    expect(uniqueIds.size).toBe(2 + 2 * 21);
  });

  it('matches the snapshot of the bridge device and of a player device', () => {
    expect(JSON.parse(discovery.bridgeConfig().payload)).toMatchSnapshot('bridge device');
    expect(JSON.parse(discovery.playerConfig(players[0]!).payload)).toMatchSnapshot('living_room device');
  });

  it('has every entity of the spec with the platform it names', () => {
    const cmps = JSON.parse(discovery.playerConfig(players[0]!).payload).cmps as Record<string, { p: string }>;
    const platforms = Object.fromEntries(Object.entries(cmps).map(([id, c]) => [id, c.p]));
    expect(platforms).toEqual({
      state: 'sensor', title: 'sensor', artist: 'sensor', album: 'sensor', cover: 'image', volume: 'number',
      mute: 'switch', shuffle: 'switch', repeat: 'select', play: 'button', pause: 'button', next: 'button',
      previous: 'button', stop: 'button', qobuz_session: 'binary_sensor', up_next: 'sensor', queue_length: 'sensor',
      play_media: 'text', transfer: 'button', session_event: 'event', audio_format: 'sensor',
    });
  });

  it('requires the bridge and the player to be online, and attaches players to the bridge device', () => {
    const cfg = JSON.parse(discovery.playerConfig(players[1]!).payload);
    expect(cfg.availability_mode).toBe('all');
    expect(cfg.availability).toEqual([
      { topic: 'qobuz-connect/bridge/state', value_template: '{{ value_json.state }}', payload_available: 'online', payload_not_available: 'offline' },
      { topic: 'qobuz-connect/kitchen/availability', payload_available: 'online', payload_not_available: 'offline' },
    ]);
    expect(cfg.dev.via_device).toBe(discovery.bridgeIdentifier);
    expect(JSON.parse(discovery.bridgeConfig().payload).dev.identifiers).toContain(discovery.bridgeIdentifier);
    expect(cfg.dev.model).toBe('MPD 0.23');
  });

  it('sends, from every command template and button, a command our own parser accepts', () => {
    const cmps = JSON.parse(discovery.playerConfig(players[0]!).payload).cmps as Record<string, Record<string, unknown>>;
    const sent: Record<string, unknown> = {};
    const samples: Record<string, string> = {
      volume: '40.0', mute: 'ON', shuffle: 'OFF', repeat: 'one', play_media: 'https://play.qobuz.com/album/0060254735180',
    };
    for (const [id, c] of Object.entries(cmps)) {
      if (c.command_topic === undefined) continue;
      expect(c.command_topic).toBe('qobuz-connect/living_room/set');
      const payload = c.p === 'button' ? String(c.payload_press) : renderCommand(String(c.command_template), samples[id]!);
      const parsed = parseCommand(payload);
      expect(parsed.ok, `${id}: ${payload}`).toBe(true);
      if (parsed.ok) sent[id] = parsed.command;
    }
    expect(sent).toEqual({
      volume: { volume: 40 }, mute: { muted: true }, shuffle: { shuffle: false }, repeat: { repeat: 'one' },
      play: { action: 'play' }, pause: { action: 'pause' }, next: { action: 'next' }, previous: { action: 'previous' }, stop: { action: 'stop' },
      play_media: { playMedia: { type: 'album', id: '0060254735180', shuffle: false } }, transfer: { transfer: true },
    });
  });

  it('reads in its value templates only fields the JSON of its state topic has (the queue listing too, issue #14)', () => {
    const cmps = JSON.parse(discovery.playerConfig(players[0]!).payload).cmps as Record<string, Record<string, unknown>>;
    const state = toStatePayload({
      state: 'idle', qobuzSession: 'disconnected', volume: 0, muted: false, positionMs: 0, positionAtMs: 0, durationMs: null,
      shuffle: false, repeat: 'off', track: null, queue: { length: 0, index: null }, available: true,
    });
    const entry = { queueItemId: 3, trackId: 5000, title: 't', artist: 'a', album: 'b', durationMs: 1000 };
    const queue = toQueuePayload({ ...EMPTY_LISTING, items: [entry], next: entry });
    const subKeys: Record<string, string[]> = {
      track: ['id', 'title', 'artist', 'album', 'cover_url', 'sample_rate', 'bit_depth'],
      queue: Object.keys(state.queue),
      next: Object.keys(queue.next!),
    };
    const samples: Record<string, object> = { 'qobuz-connect/living_room/state': state, 'qobuz-connect/living_room/queue': queue };
    let checked = 0;
    // The session event entity reads the event topic: its own test below.
    for (const c of Object.values(cmps).filter((x) => x.state_topic !== 'qobuz-connect/living_room/event')) {
      const templates = `${String(c.value_template ?? '')} ${String(c.json_attributes_template ?? '')}`;
      for (const [, path] of templates.matchAll(/value_json\.([a-z_.]+)/g)) {
        const sample = samples[String(c.state_topic ?? c.json_attributes_topic)];
        expect(sample, String(c.unique_id)).toBeDefined();
        const [head, sub] = path!.split('.');
        expect(Object.keys(sample!)).toContain(head);
        if (sub !== undefined) expect(subKeys[head!]).toContain(sub);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(15);
  });

  it('turns exactly our three session events into the event entity\'s event types, from the event topic (issue #15)', () => {
    const cmps = JSON.parse(discovery.playerConfig(players[0]!).payload).cmps as Record<string, Record<string, unknown>>;
    const event = cmps.session_event!;
    expect(event.state_topic).toBe('qobuz-connect/living_room/event');
    expect(event.event_types).toEqual(['started', 'ended', 'taken_over']);
    const template = String(event.value_template);
    const named = [...template.matchAll(/'(session_[a-z_]+)'/g)].map((m) => m[1]!);
    expect(named).toEqual(['session_started', 'session_ended', 'session_taken_over']);
    // `type[8:]` drops the `session_` prefix: the rendered event_type is one of event_types.
    expect(template).toContain("value_json.type[8:]");
    expect(named.map((t) => t.slice(8))).toEqual(event.event_types);
    // The only field it reads is the event's type; anything else renders nothing, which HA ignores.
    expect([...template.matchAll(/value_json\.([a-z_]+)/g)].map((m) => m[1])).toEqual(['type', 'type']);
  });

  it('recognises its own configs for removal and leaves other integrations alone', () => {
    const other = new HaDiscovery({ topics: new Topics('other-bridge'), bridge: { version: '1', name: 'x' } });
    expect(discovery.isOurs(discovery.playerConfig(players[0]!).payload)).toBe(true);
    expect(discovery.isOurs(discovery.bridgeConfig().payload)).toBe(true);
    expect(discovery.isOurs(other.playerConfig(players[0]!).payload)).toBe(false);
    expect(discovery.isOurs(JSON.stringify({ dev: { via_device: discovery.bridgeIdentifier }, o: { name: 'zigbee2mqtt' } }))).toBe(false);
    expect(discovery.isOurs('not json')).toBe(false);
    expect(discovery.removal('old-uuid')).toEqual({ topic: 'homeassistant/device/old-uuid/config', payload: '' });
  });

  it('has a validator that does catch broken payloads', () => {
    const cfg = JSON.parse(discovery.playerConfig(players[0]!).payload);
    delete cfg.cmps.volume.command_topic;
    delete cfg.cmps.repeat.options;
    delete cfg.cmps.cover.url_topic;
    cfg.cmps.title.stat_tpl_typo = 'x';
    cfg.cmps.state.unique_id = cfg.cmps.album.unique_id;
    cfg.availability.push({ topic: 'qobuz-connect/+/availability' });
    cfg.availability_mode = 'most';
    delete cfg.o;
    const errors = validateDeviceDiscovery(JSON.stringify(cfg), new Map());
    expect(errors).toEqual(
      expect.arrayContaining([
        'payload: origin (o) is required',
        'payload.availability[2].topic: required, no wildcards',
        'payload.availability_mode: must be all, any or latest',
        'payload.cmps.volume: number requires command_topic',
        'payload.cmps.repeat: select requires options',
        'payload.cmps.cover: image requires url_topic or image_topic',
        'payload.cmps.title: unknown key "stat_tpl_typo"',
        expect.stringMatching(/^payload\.cmps\.album: unique_id qcb_living_room_album also used by/),
      ]),
    );
  });
});

describe('Home Assistant shows only what works, and the account\'s session (issue #24)', () => {
  const noToken = new HaDiscovery({ topics, bridge: { version: '0.1.0', name: 'Qobuz Connect Bridge' }, identity: false });
  const cmpsOf = (d: HaDiscovery) => JSON.parse(d.playerConfig(players[0]!).payload).cmps as Record<string, Record<string, unknown>>;

  it('offers the "Play Qobuz" text, "Play here" button and "Qobuz session" event only with a user token', () => {
    const identity = ['play_media', 'transfer', 'session_event'];
    expect(Object.keys(cmpsOf(discovery))).toEqual(expect.arrayContaining(identity));
    const without = cmpsOf(noToken);
    for (const id of identity) expect(without).not.toHaveProperty(id);
    expect(Object.keys(without)).toEqual(Object.keys(cmpsOf(discovery)).filter((id) => !identity.includes(id)));
    const errors = noToken.all(players).flatMap((m) => validateDeviceDiscovery(m.payload, new Map(), m.topic));
    expect(errors).toEqual([]);
  });

  it('builds a valid "Qobuz" device on the bridge device, with unique ids unique beside the players\'', () => {
    const session = discovery.sessionConfig(['Living Room', 'Kitchen', 'Phone']);
    expect(session.topic).toBe('homeassistant/device/qcb_session_qobuz_connect/config');
    const uniqueIds = new Map<string, string>();
    const errors = [...discovery.all(players), session].flatMap((m) => validateDeviceDiscovery(m.payload, uniqueIds, m.topic));
    expect(errors).toEqual([]);
    const cfg = JSON.parse(session.payload);
    expect(cfg.dev).toMatchObject({ name: 'Qobuz', via_device: discovery.bridgeIdentifier });
    expect(discovery.isOurs(session.payload)).toBe(true);
    expect(cfg).toMatchSnapshot('session device');
    // Before the first join the select offers nothing, and is still valid.
    expect(validateDeviceDiscovery(discovery.sessionConfig([]).payload, new Map())).toEqual([]);
    const scoped = new HaDiscovery({ topics: new Topics('upstairs'), bridge: { version: '1', name: 'x', uniqueIdScope: 'upstairs' } });
    expect(JSON.parse(scoped.sessionConfig([]).payload).dev.name).toBe('Qobuz (upstairs)');
  });

  it('commands through B/session/set what the session parser accepts, and reads only fields B/session/state has', () => {
    const cmps = JSON.parse(discovery.sessionConfig(['Living Room', 'Phone (102)']).payload).cmps as Record<string, Record<string, unknown>>;
    expect(cmps.play_on!.options).toEqual(['Living Room', 'Phone (102)']);
    const select = parseSessionCommand(renderCommand(String(cmps.play_on!.command_template), 'Phone (102)'));
    expect(select).toEqual({ ok: true, command: { playOn: 'Phone (102)' } });
    expect(parseSessionCommand(String(cmps.pause!.payload_press))).toEqual({ ok: true, command: { pause: true } });
    for (const c of Object.values(cmps)) if (c.command_topic) expect(c.command_topic).toBe('qobuz-connect/session/set');
    expect(cmps.device_event!.event_types).toEqual(['device_joined', 'device_left', 'active_device_changed']);
    const device = { rendererId: 7, name: 'Phone', label: 'Phone', type: 'mobile', playerId: null };
    const state = toSessionStatePayload({
      sessionId: 's', via: 'living_room', devices: [device],
      active: {
        ...device, state: 'playing', positionMs: 1, positionAtMs: 1, durationMs: 2, queueItemId: 0, connected: true,
        track: { id: 1, title: 't', artist: null, album: null, coverUrl: null, durationMs: null, sampleRateHz: null, bitDepth: null },
      },
    });
    const keys: Record<string, string[]> = { active: Object.keys(state.active!), track: Object.keys(state.active!.track!) };
    let checked = 0;
    for (const c of Object.values(cmps).filter((x) => x.state_topic === 'qobuz-connect/session/state')) {
      const templates = `${String(c.value_template ?? '')} ${String(c.json_attributes_template ?? '')}`;
      for (const [, path] of templates.matchAll(/value_json\.([a-z_.]+)/g)) {
        const [head, sub, leaf] = path!.split('.');
        expect(Object.keys(state)).toContain(head);
        if (sub !== undefined) expect(keys[head!]).toContain(sub);
        if (leaf !== undefined) expect(keys[sub!]).toContain(leaf);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('marks for removal, once, the components a retained config had and the new one lacks', () => {
    const before = discovery.playerConfig(players[0]!);
    const after = noToken.playerConfig(players[0]!);
    const marked = withRemovedComponents(after, Buffer.from(before.payload));
    const cmps = JSON.parse(marked.payload).cmps as Record<string, Record<string, unknown>>;
    expect(cmps.play_media).toEqual({ p: 'text' });
    expect(cmps.transfer).toEqual({ p: 'button' });
    expect(cmps.session_event).toEqual({ p: 'event' });
    // The next start finds the markers retained: nothing more to remove.
    expect(withRemovedComponents(after, Buffer.from(marked.payload))).toEqual(after);
    expect(withRemovedComponents(before, Buffer.from(after.payload))).toEqual(before);
    expect(withRemovedComponents(after, undefined)).toEqual(after);
    expect(withRemovedComponents(after, Buffer.from('not json'))).toEqual(after);
  });
});
