#!/usr/bin/env bash
# shellcheck shell=bash
# Shared by the add-on's s6 scripts (sourced, never run): paths, bashio, the MPD port check.
#
# Every path can be overridden through a QCB_* variable so that the tests run these very
# scripts with a stand-in bashio and a real s6-svscan in a temp dir; the defaults are the
# image's paths (addon/Dockerfile copies addon/rootfs/ to /).

QCB_SCRIPTS_DIR="${QCB_SCRIPTS_DIR:-/etc/s6-overlay/scripts}"
QCB_SHARE_DIR="${QCB_SHARE_DIR:-/usr/share/qobuz-connect-bridge}"
# Generated at start, never backed up: the bridge config (secrets, mode 600) and one s6
# service directory per bundled MPD.
QCB_RUN_DIR="${QCB_RUN_DIR:-/run/qobuz-connect-bridge}"
QCB_CONFIG_FILE="${QCB_CONFIG_FILE:-${QCB_RUN_DIR}/bridge.json}"
# The bridge runs as this unprivileged user (addon/Dockerfile makes it), dropped to by this
# command (a copy of s6-overlay's s6-setuidgid: its own path gives it its own AppArmor profile).
QCB_BRIDGE_USER="${QCB_BRIDGE_USER:-qcb}"
QCB_SETUIDGID="${QCB_SETUIDGID:-/usr/local/libexec/qcb-setuidgid}"
# The options the Supervisor validated (what bashio::config reads).
QCB_OPTIONS_FILE="${QCB_OPTIONS_FILE:-/data/options.json}"
# MPD state (queue, position) survives add-on restarts in /data.
QCB_MPD_DATA_DIR="${QCB_MPD_DATA_DIR:-/data/mpd}"
QCB_MPD_BIN="${QCB_MPD_BIN:-/usr/bin/mpd}"
# s6-overlay's scan directory: the bundled MPDs are linked into it at start.
QCB_SCANDIR="${QCB_SCANDIR:-/run/service}"
# How a generated service script runs ours: with the container environment (PULSE_SERVER)
# and bashio, as the static services do.
QCB_SERVICE_SHELL="${QCB_SERVICE_SHELL:-/command/with-contenv bashio}"
# Stopping the whole add-on from inside (s6-overlay): the exit code file, then halt.
QCB_EXITCODE_FILE="${QCB_EXITCODE_FILE:-/run/s6-linux-init-container-results/exitcode}"
QCB_HALT_CMD="${QCB_HALT_CMD:-/run/s6/basedir/bin/halt}"

if ! declare -F bashio::log.info >/dev/null; then
  # shellcheck disable=SC1090,SC1091 # bashio is in the image, a stand-in in the tests
  source "${QCB_BASHIO_LIB:-/usr/lib/bashio/bashio.sh}"
fi

# What answers on 127.0.0.1:PORT, on stdout: nothing (and status 1) when the port is free,
# else its first line (an MPD says "OK MPD <version>") or "(no greeting)".
# The add-on runs on the host network, so this is the host's own loopback: a port taken
# there would make the bundled MPD fail to listen and the bridge drive that other program.
qcb::port_answer() {
  local port="$1" line=""
  # A subshell, so that the descriptor closes with it, and quiet: a refused connect() is the
  # answer "free", not an error. connect() on loopback is immediate.
  if ! line="$(
    exec 2>/dev/null
    exec 3<>"/dev/tcp/127.0.0.1/${port}" || exit 1
    IFS= read -r -t 2 line <&3 || true
    printf '%s' "${line%$'\r'}"
  )"; then
    return 1
  fi
  printf '%s\n' "${line:-(no greeting)}"
}

# The log line (and fix) for a port that another program holds.
qcb::port_taken_message() {
  local port="$1" answer="$2" what="another program"
  [[ "${answer}" == "OK MPD "* ]] && what="another MPD (${answer#OK })"
  printf '%s' "MPD port ${port} on this host is already in use by ${what}. The add-on runs" \
    " on the host network, so its bundled MPD cannot listen there and the bridge would" \
    " drive that program instead. Stop it, or give this add-on's player(s) another" \
    " mpd_port (e.g. $((port + 1)))."
}

# Stops the whole add-on with an exit code (the Supervisor then shows it stopped).
qcb::halt() {
  local code="$1"
  printf '%s\n' "${code}" >"${QCB_EXITCODE_FILE}" || true
  exec ${QCB_HALT_CMD}
}
