# Add-on options (/data/options.json, already validated by the Supervisor against the schema
# in config.yaml) -> qobuz-connect-bridge config (README.md "Configuration"). JSON is valid
# config, so the bridge reads the result as is.
#
# Run as `jq -n --slurpfile options /data/options.json -f options-to-config.jq`:
#   $options  [the options]
#   stdin     the Supervisor's MQTT service object ({host, port, ssl, username, password, …}),
#             or nothing when there is no MQTT service. qcb-init.sh pipes it in, so that the
#             broker password never appears on a command line or in the environment.
#
# "" means "not set" wherever the documentation says so; an option left out (the UI editor
# omits empty optional fields) means the same. Never use `//` on booleans here: `false //
# true` is true in jq.

def present: . != null and . != "";
def compact: with_entries(select(.value != null));
def blank_to_null: if present then . else null end;

$options[0] as $o
| ($o.mqtt // {}) as $m
| ([inputs][0] // null) as $svc
| {
    qobuz: {
      # The bridge says so when playback needs an unset app id or secret.
      app_id: ($o.qobuz.app_id | blank_to_null),
      app_secret: ($o.qobuz.app_secret | blank_to_null),
      max_quality: $o.qobuz.max_quality,
      user_auth_token: ($o.qobuz.user_auth_token | blank_to_null),
      cloud: $o.qobuz.cloud,
      join: $o.qobuz.join
    } | compact,
    http: {
      port: $o.http.port,
      # "" = the bridge's default, every address (README "Security": bind one address to narrow it).
      bind: ($o.http.bind | blank_to_null),
      advertise_address: ($o.http.advertise_address | blank_to_null)
    } | compact,
    mdns: {
      # No interface (or only blank ones) in the add-on UI means "every LAN interface".
      interfaces: ([($o.mdns.interfaces // [])[] | select(present)] | if length > 0 then . else null end)
    },
    mqtt: (
      {
        base_topic: $m.base_topic,
        discovery: $m.discovery,
        discovery_prefix: $m.discovery_prefix
      }
      + if ($m.url | present) then
          # The user's own broker wins over the Supervisor's MQTT service.
          { url: $m.url, username: ($m.username | blank_to_null), password: ($m.password | blank_to_null) }
        elif $svc != null and ($svc.host | present) then
          {
            url: ((if ($svc.ssl | tostring) == "true" then "mqtts" else "mqtt" end)
                  + "://" + $svc.host + ":" + ($svc.port | tostring)),
            username: (if ($m.username | present) then $m.username else ($svc.username | blank_to_null) end),
            password: (if ($m.password | present) then $m.password else ($svc.password | blank_to_null) end)
          }
        else
          # No broker at all: the bridge runs its embedded one (reachable from this host only).
          { username: ($m.username | blank_to_null), password: ($m.password | blank_to_null) }
        end
    ) | compact,
    # Flat add-on fields -> the bridge's nested player; what is left out takes the bridge's
    # default (speaker, 127.0.0.1:6600 = the bundled MPD, volume 0-100).
    players: [
      ($o.players // [])[]
      | {
          id: .id,
          name: .name,
          device_type: (.device_type | blank_to_null),
          uuid: (.uuid | blank_to_null),
          mpd: ({
            host: (.mpd_host | blank_to_null),
            port: .mpd_port,
            password: (.mpd_password | blank_to_null)
          } | compact),
          volume: ({ min: .volume_min, max: .volume_max } | compact)
        }
      | compact
    ]
  }
