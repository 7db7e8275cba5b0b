/**
 * Every configuration default, in one place (docs/conventions.md principle 10). The schema
 * in config-schema.ts reads its defaults from here and nowhere else, and the README's
 * "Configuration reference" is generated from that schema.
 */
export const DEFAULTS = {
  qobuz: {
    max_quality: 'hires_192',
    /** Only with a user token (README "Own Qobuz identity"). */
    cloud: true,
    join: 'controller',
    api_base_url: 'https://www.qobuz.com/api.json/0.2',
    allowed_endpoint_hosts: ['*.qobuz.com'],
  },
  http: {
    port: 8689,
    bind: '0.0.0.0',
    advertise_address: 'auto',
  },
  mdns: {
    /** null = advertise on every LAN interface. */
    interfaces: null,
  },
  mqtt: {
    embedded_port: 1883,
    embedded_bind: '127.0.0.1',
    base_topic: 'qobuz-connect',
    discovery: true,
    discovery_prefix: 'homeassistant',
    tls_reject_unauthorized: true,
  },
  diagnostics: {
    /** README "Reporting a problem": the wire recorder is off unless asked. */
    record: false,
    record_file: 'qobuz-connect-recording.jsonl',
    record_max_bytes: 10 * 1024 * 1024,
    record_files: 3,
  },
  player: {
    device_type: 'speaker',
    mpd: { host: '127.0.0.1', port: 6600 },
    volume: { mode: 'mpd', min: 0, max: 100, report_timeout_ms: 5000, snapcast: { host: '127.0.0.1', port: 1705 } },
  },
} as const;
