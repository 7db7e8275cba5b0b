#!/command/with-contenv bashio
# shellcheck shell=bash
# Body of the generated s6 service mpd-<port> (see qcb-init.sh): one bundled MPD in the
# foreground, so that s6 supervises it and restarts it when it dies.
# Argument: the port.
set -eo pipefail
# shellcheck source=SCRIPTDIR/qcb-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/qcb-common.sh"
port="$1"
conf="${QCB_MPD_DATA_DIR}/${port}/mpd.conf"

# After a crash another program may have taken the port in the meantime: stop the add-on
# rather than let the bridge drive it.
if answer="$(qcb::port_answer "${port}")"; then
  bashio::log.fatal "$(qcb::port_taken_message "${port}" "${answer}")"
  bashio::log.fatal "The add-on stops."
  qcb::halt 1
fi
bashio::log.info "bundled MPD on 127.0.0.1:${port}: starting"
exec "${QCB_MPD_BIN}" --no-daemon --stderr "${conf}"
