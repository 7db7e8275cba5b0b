import { z } from 'zod';
import { DEFAULTS } from './defaults.js';
import { playerUuid, UUID_PATTERN } from './player-uuid.js';

/**
 * The one configuration schema (SPEC.md "Configuration", STYLE.md principle 10).
 * Keys keep the file's snake_case spelling: this is the config's wire format.
 * Every object is strict (unknown keys are errors), every default comes from
 * defaults.ts, every "expected …" text below is what `check-config` prints.
 * config.schema.json is generated from this file (`npm run schema`).
 */

export const QUALITIES = ['mp3', 'cd', 'hires_96', 'hires_192'] as const;
export const JOIN_MODES = ['controller', 'renderer'] as const;
export const DEVICE_TYPES = ['speaker', 'streamer', 'tv', 'soundbar', 'computer', 'headphones'] as const;
export type DeviceType = (typeof DEVICE_TYPES)[number];

/** Config spelling → protocol DeviceType name (qconnect-protocol.md §4). */
const DEVICE_TYPE_NAMES = {
  speaker: 'SPEAKER',
  streamer: 'STREAMER',
  tv: 'TV',
  soundbar: 'SOUNDBAR',
  computer: 'COMPUTER',
  headphones: 'HEADPHONES',
} as const satisfies Record<DeviceType, string>;
export type DeviceTypeName = (typeof DEVICE_TYPE_NAMES)[DeviceType];

const expected = (text: string) => ({ error: `expected ${text}` });
const oneOf = (values: readonly string[]) => expected(`one of ${values.join(' | ')}`);

function intRange(min: number, max: number) {
  const e = expected(`integer ${min}-${max}`);
  return z.int(e).min(min, e).max(max, e);
}

const nonEmpty = (what = 'a non-empty string') => z.string(expected(what)).min(1, expected(what));

/** Optional text: absent, `~` and "" all mean "not set" and come out as null. */
const optionalText = (what = 'a string or null') =>
  z
    .string(expected(what))
    .nullable()
    .default(null)
    .transform((v) => (v === '' ? null : v));

const ipv4 = (also = '') => z.ipv4(expected(`${also}an IPv4 address`));
const ipAddress = () => z.union([ipv4(), z.ipv6(expected('an IPv4 or IPv6 address'))], expected('an IP address'));
const topic = () => z.string().regex(/^[^/#+\s]+(\/[^/#+\s]+)*$/, expected('an MQTT topic without wildcards or outer slashes'));

const QobuzSchema = z
  .strictObject({
    /** Required for playback (not for check-config or discovery); users supply their own. */
    app_id: optionalText('a string (the Qobuz application id; quote it in YAML)'),
    /** Required for playback: signs stream-URL requests. */
    app_secret: optionalText(),
    max_quality: z.enum(QUALITIES, oneOf(QUALITIES)).default(DEFAULTS.qobuz.max_quality),
    user_auth_token: optionalText(),
    join: z.enum(JOIN_MODES, oneOf(JOIN_MODES)).default(DEFAULTS.qobuz.join),
    api_base_url: z.url({ protocol: /^https?$/, ...expected('an http(s) URL') }).default(DEFAULTS.qobuz.api_base_url),
    allowed_endpoint_hosts: z
      .array(z.string().regex(/^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/, expected('a host name, optionally starting with "*."')), expected('a list of host names'))
      .default(() => [...DEFAULTS.qobuz.allowed_endpoint_hosts]),
  })
  .prefault({});

const HttpSchema = z
  .strictObject({
    port: intRange(0, 65535).default(DEFAULTS.http.port),
    bind: ipAddress().default(DEFAULTS.http.bind),
    advertise_address: z
      .union([z.literal('auto'), ipv4('"auto" or ')], expected('"auto" or an IPv4 address'))
      .default(DEFAULTS.http.advertise_address),
  })
  .prefault({});

const MdnsSchema = z
  .strictObject({
    interfaces: z
      .array(nonEmpty('an interface name'), expected('a list of interface names or null'))
      .min(1, expected('at least one interface name, or null for all'))
      .nullable()
      .default(DEFAULTS.mdns.interfaces),
  })
  .prefault({});

const TlsSchema = z
  .strictObject({
    ca: optionalText('a file path'),
    cert: optionalText('a file path'),
    key: optionalText('a file path'),
    reject_unauthorized: z.boolean(expected('true or false')).default(DEFAULTS.mqtt.tls_reject_unauthorized),
  })
  .superRefine((tls, ctx) => {
    if ((tls.cert === null) !== (tls.key === null)) {
      const missing = tls.cert === null ? 'cert' : 'key';
      ctx.addIssue({ code: 'custom', path: [missing], input: null, message: 'expected a file path: a client certificate needs both cert and key' });
    }
  });

const MqttSchema = z
  .strictObject({
    /** Absent (or null): the bridge runs its embedded broker. */
    url: z
      .url({ protocol: /^(mqtts?|wss?)$/, ...expected('an mqtt://, mqtts://, ws:// or wss:// URL') })
      .nullable()
      .default(null),
    embedded_port: intRange(1, 65535).default(DEFAULTS.mqtt.embedded_port),
    embedded_bind: ipAddress().default(DEFAULTS.mqtt.embedded_bind),
    username: optionalText(),
    password: optionalText(),
    base_topic: topic().default(DEFAULTS.mqtt.base_topic),
    discovery: z.boolean(expected('true or false')).default(DEFAULTS.mqtt.discovery),
    discovery_prefix: topic().default(DEFAULTS.mqtt.discovery_prefix),
    tls: TlsSchema.nullable().default(null),
  })
  .prefault({});

const MpdSchema = z
  .strictObject({
    host: nonEmpty('a host name or IP address').default(DEFAULTS.player.mpd.host),
    port: intRange(1, 65535).default(DEFAULTS.player.mpd.port),
    password: optionalText(),
  })
  .prefault({});

const VolumeSchema = z
  .strictObject({
    min: intRange(0, 100).default(DEFAULTS.player.volume.min),
    max: intRange(0, 100).default(DEFAULTS.player.volume.max),
  })
  .prefault({})
  .superRefine((v, ctx) => {
    if (v.min >= v.max) ctx.addIssue({ code: 'custom', path: ['max'], input: v.max, message: `expected an integer above volume.min (${v.min})` });
  });

const PlayerSchema = z
  .strictObject({
    id: z.string(expected('an id of a-z, 0-9 and _')).regex(/^[a-z0-9_]+$/, expected('an id of a-z, 0-9 and _')),
    name: nonEmpty('a display name'),
    device_type: z.enum(DEVICE_TYPES, oneOf(DEVICE_TYPES)).default(DEFAULTS.player.device_type),
    uuid: z
      .string(expected('a hyphenated uuid (8-4-4-4-12 hex digits) or null'))
      .regex(UUID_PATTERN, expected('a hyphenated uuid (8-4-4-4-12 hex digits) or null'))
      .nullable()
      .default(null),
    mpd: MpdSchema,
    volume: VolumeSchema,
  })
  // The uuid is filled in here so that everyone downstream reads one value.
  .transform((p) => ({ ...p, uuid: playerUuid(p) }));

/** Reports the second of two players sharing `key(player)` at players[i].<field>. */
function unique<T>(players: readonly T[], key: (p: T) => string, field: string, ctx: z.RefinementCtx): void {
  const seen = new Map<string, number>();
  players.forEach((p, i) => {
    const k = key(p);
    const first = seen.get(k);
    if (first === undefined) seen.set(k, i);
    else ctx.addIssue({ code: 'custom', path: [i, field], input: k, message: `expected a unique ${field}, players[${first}] has it too` });
  });
}

const PlayersSchema = z
  .array(PlayerSchema, expected('a list of players'))
  .min(1, expected('at least one player'))
  .superRefine((players, ctx) => {
    // A player whose own checks failed arrives untransformed: compare raw ids and derived uuids.
    unique(players, (p) => p.id, 'id', ctx);
    unique(players, (p) => playerUuid(p), 'uuid', ctx);
  });

export const ConfigSchema = z
  .strictObject({
    qobuz: QobuzSchema,
    http: HttpSchema,
    mdns: MdnsSchema,
    mqtt: MqttSchema,
    players: PlayersSchema,
  })
  .meta({
    title: 'qobuz-connect-bridge configuration',
    description: 'Configuration of qobuz-connect-bridge (YAML or JSON). See SPEC.md "Configuration" and config.example.yaml.',
  });

type DeepReadonly<T> = T extends (infer U)[] ? readonly DeepReadonly<U>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** The validated, fully defaulted, deeply frozen configuration. */
export type Config = DeepReadonly<z.output<typeof ConfigSchema>>;
export type PlayerConfig = Config['players'][number];
/** What a user may write (every default optional). */
export type ConfigInput = z.input<typeof ConfigSchema>;

/** The protocol DeviceType name for a player (`speaker` → `SPEAKER`). */
export function deviceTypeName(player: { device_type: DeviceType }): DeviceTypeName {
  return DEVICE_TYPE_NAMES[player.device_type];
}

export { playerUuid };
