#!/usr/bin/env bash
# Installs what the tests need beyond npm (real Mosquitto, real MPD, flac, jq, iproute2, Snapcast's
# snapserver and snapclient; s6
# and apparmor_parser for the add-on's service scripts and AppArmor profile) on a
# Debian machine, when missing. As root it installs with apt-get; otherwise it stops with the
# exact command to run. Runs before `npm test` (the `pretest` script) and from .ci/run.
set -euo pipefail
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_passwd >/dev/null 2>&1 || [ -x /usr/bin/mosquitto_passwd ] || need+=(mosquitto)
command -v mpd >/dev/null 2>&1 || [ -x /usr/bin/mpd ] || need+=(mpd)
command -v mpc >/dev/null 2>&1 || need+=(mpc)
command -v flac >/dev/null 2>&1 || need+=(flac)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v jq >/dev/null 2>&1 || need+=(jq)
# Issue #23: the multi-room end-to-end test runs a real snapserver and two snapclients.
command -v snapserver >/dev/null 2>&1 || [ -x /usr/bin/snapserver ] || need+=(snapserver)
command -v snapclient >/dev/null 2>&1 || [ -x /usr/bin/snapclient ] || need+=(snapclient)
command -v s6-svscan >/dev/null 2>&1 || need+=(s6)
command -v apparmor_parser >/dev/null 2>&1 || [ -x /usr/sbin/apparmor_parser ] || [ -x /sbin/apparmor_parser ] || need+=(apparmor)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
if [ "$(id -u)" -ne 0 ]; then
  echo "The tests need: ${need[*]}. Install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "Installing test dependencies: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The tests start their own snapserver and snapclients on free loopback ports; the Debian
# packages' services (a server on every interface, a client playing to the sound card) are
# not wanted on a machine that got them only for the tests.
for svc in snapserver snapclient; do
  if printf '%s\n' "${need[@]}" | grep -qx "${svc}" && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now "${svc}" >/dev/null 2>&1 || true
  fi
done
