import { z } from 'zod';
import { DEVICE_TYPE_NAMES, DEVICE_TYPES, QUALITIES, type DeviceType, type DeviceTypeName } from '../core/product.js';
import { PLAYER_ID_PATTERN, RESERVED_PLAYER_IDS } from '../core/player-id.js';
import { DEFAULTS } from './defaults.js';
import { playerUuid, UUID_PATTERN } from './player-uuid.js';
import { checkUniquePlayers } from './check-unique-players.js';
import { expected, intRange, ipAddress, ipv4, nonEmpty, oneOf, optionalText, topic } from './schema-parts.js';

/**
 * The one configuration schema (README.md "Configuration", docs/conventions.md principle 10).
 * Keys keep the file's snake_case spelling: this is the config's wire format.
 * Every object is strict (unknown keys are errors), every default comes from
 * defaults.ts, every "expected …" text below is what `check-config` prints.
 * config.schema.json is generated from this file (`npm run schema`).
 */

const JOIN_MODES = ['controller', 'renderer'] as const;
export type { DeviceType, DeviceTypeName } from '../core/product.js';

const QobuzSchema = z
  .strictObject({
    /** Required for playback (not for check-config or discovery); users supply their own. */
    app_id: optionalText('a string (the Qobuz application id)').describe(
      'Qobuz application id; required for playback. Supply your own: none ships with the bridge.',
    ),
    /** Required for playback: signs stream-URL requests. */
    app_secret: optionalText().describe(
      'Qobuz application secret; required for playback (signs stream-URL requests).',
    ),
    max_quality: z
      .enum(QUALITIES, oneOf(QUALITIES))
      .default(DEFAULTS.qobuz.max_quality)
      .describe('Highest streaming quality.'),
    user_auth_token: optionalText().describe('Qobuz user token; null = the token the Qobuz app hands over.'),
    cloud: z
      .boolean(expected('true or false'))
      .default(DEFAULTS.qobuz.cloud)
      .describe(
        "With user_auth_token: each player joins the account's Qobuz Connect session at start, visible in the Qobuz app from any network.",
      ),
    join: z
      .enum(JOIN_MODES, oneOf(JOIN_MODES))
      .default(DEFAULTS.qobuz.join)
      .describe('How the bridge joins a session: controller (61 + 63) or renderer (21).'),
    api_base_url: z
      .url({ protocol: /^https?$/, ...expected('an http(s) URL') })
      .default(DEFAULTS.qobuz.api_base_url)
      .describe('Qobuz REST API base URL; change it for tests only.'),
    allowed_endpoint_hosts: z
      .array(
        z
          .string()
          .regex(
            /^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/,
            expected('a host name, optionally starting with "*."'),
          ),
        expected('a list of host names'),
      )
      .default(() => [...DEFAULTS.qobuz.allowed_endpoint_hosts])
      .describe('WebSocket hosts the Qobuz app may send the bridge to ("*." = any subdomain).'),
  })
  .prefault({});

const HttpSchema = z
  .strictObject({
    port: intRange(0, 65535)
      .default(DEFAULTS.http.port)
      .describe('Port of the one HTTP server for all players; 0 = any free port.'),
    bind: ipAddress().default(DEFAULTS.http.bind).describe('Address the HTTP server listens on.'),
    advertise_address: z
      .union([z.literal('auto'), ipv4('"auto" or ')], expected('"auto" or an IPv4 address'))
      .default(DEFAULTS.http.advertise_address)
      .describe('IPv4 address the Qobuz app and MPD reach the bridge on; auto = detect.'),
  })
  .prefault({});

const MdnsSchema = z
  .strictObject({
    interfaces: z
      .array(nonEmpty('an interface name'), expected('a list of interface names or null'))
      .min(1, expected('at least one interface name, or null for all'))
      .nullable()
      .default(DEFAULTS.mdns.interfaces)
      .describe('Interfaces to advertise on; null = every LAN interface.'),
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
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        input: null,
        message: 'expected a file path: a client certificate needs both cert and key',
      });
    }
  });

const MqttSchema = z
  .strictObject({
    /** Absent (or null): the bridge runs its embedded broker. */
    url: z
      .url({ protocol: /^(mqtts?|wss?)$/, ...expected('an mqtt://, mqtts://, ws:// or wss:// URL') })
      .nullable()
      .default(null)
      .describe('Broker URL; absent = run the embedded broker.'),
    embedded_port: intRange(1, 65535)
      .default(DEFAULTS.mqtt.embedded_port)
      .describe('Port of the embedded broker (only without url).'),
    embedded_bind: ipAddress()
      .default(DEFAULTS.mqtt.embedded_bind)
      .describe('Address of the embedded broker (only without url).'),
    username: optionalText().describe('MQTT user name.'),
    password: optionalText().describe('MQTT password.'),
    base_topic: topic().default(DEFAULTS.mqtt.base_topic).describe('Prefix of every topic of the bridge.'),
    discovery: z
      .boolean(expected('true or false'))
      .default(DEFAULTS.mqtt.discovery)
      .describe('Publish Home Assistant MQTT discovery.'),
    discovery_prefix: topic()
      .default(DEFAULTS.mqtt.discovery_prefix)
      .describe('Home Assistant discovery prefix.'),
    tls: TlsSchema.nullable().default(null).describe('TLS files for an mqtts:// or wss:// broker.'),
  })
  .superRefine((m, ctx) => {
    // README "Security" (issue #26): the embedded broker takes both or neither. A user name alone
    // would be the whole credential (an empty password), and a password alone is not MQTT 3.1.1.
    if (m.url !== null || (m.username === null) === (m.password === null)) return;
    const missing = m.password === null ? 'password' : 'username';
    ctx.addIssue({
      code: 'custom',
      path: [missing],
      input: null,
      message: `expected a ${missing === 'password' ? 'password' : 'user name'}: the embedded broker (no mqtt.url) needs mqtt.username and mqtt.password together`,
    });
  })
  .prefault({});

/** README "Reporting a problem": the wire recorder and the /diagnostics bundle. */
const DiagnosticsSchema = z
  .strictObject({
    record: z
      .boolean(expected('true or false'))
      .default(DEFAULTS.diagnostics.record)
      .describe(
        "Record every player's wire traffic (QConnect messages, Qobuz REST calls, MPD commands; redacted) from the start. Also --record FILE, or {\"record\": true} on a player's MQTT set topic.",
      ),
    record_file: nonEmpty('a file path')
      .default(DEFAULTS.diagnostics.record_file)
      .describe('The recording (JSON Lines), relative to the working directory; rotated files get .1 (newest), .2 …'),
    record_max_bytes: intRange(65_536, 1_073_741_824)
      .default(DEFAULTS.diagnostics.record_max_bytes)
      .describe('A recording file is rotated before it grows past this many bytes.'),
    record_files: intRange(1, 20)
      .default(DEFAULTS.diagnostics.record_files)
      .describe('Recording files kept, the current one included.'),
    token: optionalText().describe(
      'Token that lets a client other than this host fetch GET /diagnostics (Authorization: Bearer <token>); null = this host only.',
    ),
  })
  .prefault({});

const MpdSchema = z
  .strictObject({
    host: nonEmpty('a host name or IP address')
      .default(DEFAULTS.player.mpd.host)
      .describe('MPD host; MPD must reach the bridge on http.advertise_address.'),
    port: intRange(1, 65535).default(DEFAULTS.player.mpd.port).describe('MPD port.'),
    password: optionalText().describe('MPD password.'),
    config_file: optionalText('a file path').describe(
      "MPD's own config file as the bridge sees it (e.g. /etc/mpd.conf), read for its outputs' format and mixer: the Audio format sensor's bit_perfect and the format reported to Qobuz (README \"The true format\"); null = bit_perfect unknown.",
    ),
  })
  .prefault({});

const SnapcastSchema = z.strictObject({
  host: nonEmpty('a host name or IP address')
    .default(DEFAULTS.player.volume.snapcast.host)
    .describe("Snapcast server's host (snapserver)."),
  port: intRange(1, 65535)
    .default(DEFAULTS.player.volume.snapcast.port)
    .describe("Snapcast server's JSON-RPC TCP port (snapserver's tcp.port)."),
  group: optionalText('a Snapcast group id or name').describe(
    'Follow this Snapcast group (its id or its name); give group or stream.',
  ),
  stream: optionalText('a Snapcast stream id').describe(
    "Follow every group that plays this Snapcast stream (the source's name=, e.g. the FIFO MPD writes to); give group or stream.",
  ),
});

const VOLUME_MODES = ['mpd', 'fixed', 'external', 'snapcast'] as const;

const VolumeSchema = z
  .strictObject({
    mode: z
      .enum(VOLUME_MODES, oneOf(VOLUME_MODES))
      .default(DEFAULTS.player.volume.mode)
      .describe(
        'mpd: Qobuz and Home Assistant set MPD\'s volume; fixed: MPD\'s volume is never touched, the app hides its slider and volume commands are refused (ERR_VOLUME_FIXED); external: volume intents are published on B/<player>/volume/request for an automation to drive the amplifier, which reports its level back with {"volume_report": n}; snapcast: the volume is the Snapcast group\'s (README "Multi-room with Snapcast").',
      ),
    report_timeout_ms: intRange(100, 60_000)
      .default(DEFAULTS.player.volume.report_timeout_ms)
      .describe('external: how long a volume request waits for the amplifier\'s volume_report before it counts as not applied.'),
    snapcast: SnapcastSchema.nullable()
      .default(null)
      .describe('snapcast: the Snapcast server and the group or stream whose volume is this player\'s.'),
    min: intRange(0, 100).default(DEFAULTS.player.volume.min),
    max: intRange(0, 100).default(DEFAULTS.player.volume.max),
  })
  .prefault({})
  .superRefine((v, ctx) => {
    if (v.mode === 'snapcast' && v.snapcast === null)
      ctx.addIssue({ code: 'custom', path: ['snapcast'], input: v.snapcast, message: 'expected { host, port, group or stream } with mode snapcast' });
    if (v.mode !== 'snapcast' && v.snapcast !== null)
      ctx.addIssue({ code: 'custom', path: ['snapcast'], input: v.snapcast, message: `expected null: snapcast is for mode snapcast (mode is ${v.mode})` });
    if (v.snapcast !== null && (v.snapcast.group === null) === (v.snapcast.stream === null))
      ctx.addIssue({ code: 'custom', path: ['snapcast', 'group'], input: v.snapcast.group, message: 'expected exactly one of group and stream' });
    if (v.min >= v.max)
      ctx.addIssue({
        code: 'custom',
        path: ['max'],
        input: v.max,
        message: `expected an integer above volume.min (${v.min})`,
      });
  });

const PlayerSchema = z
  .strictObject({
    id: z
      .string(expected('an id of a-z, 0-9 and _'))
      .regex(new RegExp(`^${PLAYER_ID_PATTERN}$`), expected('an id of a-z, 0-9 and _'))
      .refine((id) => !RESERVED_PLAYER_IDS.includes(id), expected('an id other than bridge or session (the bridge\'s own topics)'))
      .describe('Stable player id, used in topics and Home Assistant unique ids.'),
    name: nonEmpty('a display name').describe('Name shown in the Qobuz app and Home Assistant.'),
    device_type: z
      .enum(DEVICE_TYPES, oneOf(DEVICE_TYPES))
      .default(DEFAULTS.player.device_type)
      .describe('Device type shown in the Qobuz app.'),
    uuid: z
      .string(expected('a hyphenated uuid (8-4-4-4-12 hex digits) or null'))
      .regex(UUID_PATTERN, expected('a hyphenated uuid (8-4-4-4-12 hex digits) or null'))
      .nullable()
      .default(null)
      .describe('Device uuid; null = derived from the id (and mqtt.base_topic when not the default), stable across restarts.'),
    mpd: MpdSchema.describe('The MPD that plays for this player.'),
    max_quality: z
      .enum(QUALITIES, oneOf(QUALITIES))
      .nullable()
      .default(null)
      .describe('Highest streaming quality for this player (a DAC that cannot take 24/192), capped by qobuz.max_quality; null = qobuz.max_quality.'),
    volume: VolumeSchema.describe('Who owns the volume (mode), and the MPD volume range that Qobuz 0-100 maps onto.'),
  });

const PlayersSchema = z
  .array(PlayerSchema, expected('a list of players'))
  .min(1, expected('at least one player'))
  // Runs even when some player is broken, so that a repeated id is reported in the same pass.
  .superRefine(checkUniquePlayers, { when: (payload) => Array.isArray(payload.value) });

export const ConfigSchema = z
  .strictObject({
    qobuz: QobuzSchema,
    http: HttpSchema,
    mdns: MdnsSchema,
    mqtt: MqttSchema,
    diagnostics: DiagnosticsSchema.describe('Wire recorder and bug-report bundle (README "Reporting a problem").'),
    players: PlayersSchema,
  })
  .meta({
    title: 'qobuz-connect-bridge configuration',
    description:
      'Configuration of qobuz-connect-bridge (YAML or JSON). See README.md "Configuration" and config.example.yaml.',
  })
  // Every player's uuid is filled in here so that everyone downstream reads one value; a derived one
  // depends on the base topic (README "Home Assistant entities": several bridges on one broker).
  .transform((c) => ({ ...c, players: c.players.map((p) => ({ ...p, uuid: playerUuid(p, c.mqtt.base_topic) })) }));

type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** The validated, fully defaulted, deeply frozen configuration. */
export type Config = DeepReadonly<z.output<typeof ConfigSchema>>;
export type PlayerConfig = Config['players'][number];

/** The protocol DeviceType name for a player (`speaker` → `SPEAKER`). */
export function deviceTypeName(player: { device_type: DeviceType }): DeviceTypeName {
  return DEVICE_TYPE_NAMES[player.device_type];
}

export { playerUuid };
