# Add-on options (/data/options.json, already validated by the Supervisor against the schema
# in config.yaml) -> qobuz-connect-bridge config (README.md "Configuration"). JSON is valid
# config, so the bridge reads the result as is.
#
# Arguments:
#   $service  the MQTT service of the Supervisor as {host, port, ssl, username, password}
#             (strings, as bashio::services prints them), or null when there is none.
#
# Never use `//` on booleans here: `false // true` is true in jq.

def present: . != null and . != "";
def compact: with_entries(select(.value != null));
def blank_to_null: if present then . else null end;

. as $o
| ($o.mqtt // {}) as $m
| {
    qobuz: {
      # "" means "not set" for the bridge as well; the bridge says so when playback needs them.
      app_id: ($o.qobuz.app_id | blank_to_null),
      app_secret: ($o.qobuz.app_secret | blank_to_null),
      max_quality: $o.qobuz.max_quality,
      user_auth_token: ($o.qobuz.user_auth_token | blank_to_null),
      join: $o.qobuz.join
    } | compact,
    http: {
      port: $o.http.port,
      advertise_address: ($o.http.advertise_address | blank_to_null)
    } | compact,
    mdns: {
      # An empty list in the add-on UI means "every LAN interface" (null for the bridge).
      interfaces: (if (($o.mdns.interfaces // []) | length) > 0 then $o.mdns.interfaces else null end)
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
        elif $service != null and ($service.host | present) then
          {
            url: ((if ($service.ssl | tostring) == "true" then "mqtts" else "mqtt" end)
                  + "://" + $service.host + ":" + ($service.port | tostring)),
            username: (if ($m.username | present) then $m.username else ($service.username | blank_to_null) end),
            password: (if ($m.password | present) then $m.password else ($service.password | blank_to_null) end)
          }
        else
          # No broker at all: the bridge runs its embedded one (reachable from this host only).
          { username: ($m.username | blank_to_null), password: ($m.password | blank_to_null) }
        end
    ) | compact,
    players: [
      $o.players[]
      | {
          id: .id,
          name: .name,
          device_type: .device_type,
          uuid: (.uuid | blank_to_null),
          mpd: ((.mpd // {}) | with_entries(select(.value | present))),
          volume: (.volume // {})
        }
      | compact
    ]
  }
