#!/usr/bin/with-contenv bashio
# shellcheck shell=bash
# Entry point of the Qobuz Connect Bridge add-on (README.md "Home Assistant add-on"):
#   1. reads the add-on options (/data/options.json, validated by the Supervisor),
#   2. takes the MQTT broker from the Supervisor's MQTT service unless mqtt.url is set,
#   3. writes a bridge config (JSON is valid config) with options-to-config.jq,
#   4. starts one bundled MPD per local port (players whose mpd.host is 127.0.0.1/localhost),
#   5. execs the bridge.
# Every path can be overridden through QCB_* variables so that the tests run this very
# script with a bashio shim in a temp dir; the defaults are the image's paths.
set -eo pipefail
shopt -u patsub_replacement 2>/dev/null || true # bash 5.2: "&" in ${v//p/r} is literal again

OPTIONS_FILE="${QCB_OPTIONS_FILE:-/data/options.json}" # the file bashio::config reads
CONFIG_OUT="${QCB_CONFIG_OUT:-/tmp/qobuz-connect-bridge.json}"
SHARE_DIR="${QCB_SHARE_DIR:-/usr/share/qobuz-connect-bridge}"
MAPPING="${QCB_MAPPING:-${SHARE_DIR}/options-to-config.jq}"
MPD_TEMPLATE="${QCB_MPD_TEMPLATE:-${SHARE_DIR}/mpd.conf}"
MPD_DATA_DIR="${QCB_MPD_DATA_DIR:-/data/mpd}"
MPD_BIN="${QCB_MPD_BIN:-mpd}"
BRIDGE_CMD="${QCB_BRIDGE_CMD:-node /opt/qobuz-connect-bridge/dist/src/main.js}"

if ! declare -F bashio::config >/dev/null; then
  # shellcheck disable=SC1091
  source "${QCB_BASHIO_LIB:-/usr/lib/bashio/bashio.sh}"
fi

# --- MQTT: the user's broker, else the Supervisor's MQTT service -------------------------
service=null
if bashio::config.has_value 'mqtt.url'; then
  bashio::log.info "MQTT: using the broker set in mqtt.url"
elif bashio::services.available 'mqtt'; then
  # Secrets travel through the environment, never on a command line.
  service="$(
    SVC_HOST="$(bashio::services mqtt 'host')" \
      SVC_PORT="$(bashio::services mqtt 'port')" \
      SVC_SSL="$(bashio::services mqtt 'ssl')" \
      SVC_USERNAME="$(bashio::services mqtt 'username')" \
      SVC_PASSWORD="$(bashio::services mqtt 'password')" \
      jq -n '{host: env.SVC_HOST, port: env.SVC_PORT, ssl: env.SVC_SSL,
              username: env.SVC_USERNAME, password: env.SVC_PASSWORD}'
  )"
  bashio::log.info "MQTT: using the Home Assistant MQTT service at $(jq -r '.host + ":" + .port' <<<"${service}")"
else
  bashio::log.warning "MQTT: no mqtt.url and no MQTT service; the bridge runs its embedded broker (this host only)"
fi

# --- the bridge config --------------------------------------------------------------------
umask 077 # the config holds the Qobuz secret and the MQTT password
mkdir -p "$(dirname "${CONFIG_OUT}")"
jq --argjson service "${service}" -f "${MAPPING}" "${OPTIONS_FILE}" >"${CONFIG_OUT}.tmp"
mv "${CONFIG_OUT}.tmp" "${CONFIG_OUT}"
bashio::log.info "bridge config written to ${CONFIG_OUT}"

# --- bundled MPD, one per local port --------------------------------------------------------
# Renders the template: placeholders replaced, only the chosen audio_output block kept.
render_mpd_conf() {
  local port="$1" dir="$2" password="$3" output="$4" line keep=1 password_line=""
  if [[ -n "${password}" ]]; then
    password="${password//\\/\\\\}"
    password_line="password \"${password//\"/\\\"}@read,add,control,admin\""
  fi
  while IFS= read -r line || [[ -n "${line}" ]]; do
    case "${line}" in
      '#@output '*) [[ "${line#'#@output '}" == "${output}" ]] && keep=1 || keep=0; continue ;;
      '#@end') keep=1; continue ;;
    esac
    ((keep)) || continue
    line="${line//@PORT@/${port}}"
    line="${line//@DIR@/${dir}}"
    printf '%s\n' "${line//@PASSWORD@/${password_line}}"
  done <"${MPD_TEMPLATE}"
}

mpd_output="pulse"
if bashio::config.has_value 'mpd_output'; then mpd_output="$(bashio::config 'mpd_output')"; fi

# "port<TAB>password" of every distinct local MPD (the bridge's default host is 127.0.0.1).
local_mpds="$(jq -r '
  [.players[] | .mpd // {} | select((.host // "127.0.0.1") | IN("127.0.0.1", "localhost"))
   | {port: (.port // 6600), password: (.password // "")}]
  | group_by(.port) | map(.[0]) | .[] | "\(.port)\t\(.password)"' "${CONFIG_OUT}")"

while IFS=$'\t' read -r port password; do
  [[ -n "${port}" ]] || continue
  dir="${MPD_DATA_DIR}/${port}"
  mkdir -p "${dir}"
  render_mpd_conf "${port}" "${dir}" "${password}" "${mpd_output}" >"${dir}/mpd.conf"
  "${MPD_BIN}" --no-daemon --stderr "${dir}/mpd.conf" &
  echo "$!" >"${dir}/mpd.pid"
  bashio::log.info "bundled MPD on 127.0.0.1:${port} (output ${mpd_output}, pid $!)"
done <<<"${local_mpds}"

# --- the bridge ----------------------------------------------------------------------------
if bashio::config.has_value 'log_level'; then
  LOG_LEVEL="$(bashio::config 'log_level')"
  export LOG_LEVEL
fi
bashio::log.info "starting qobuz-connect-bridge"
# shellcheck disable=SC2086 # BRIDGE_CMD is a command line on purpose
exec ${BRIDGE_CMD} --config "${CONFIG_OUT}"
