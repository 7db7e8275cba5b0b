#!/command/with-contenv bashio
# shellcheck shell=bash
# finish of the generated s6 service mpd-<port>: says why the bundled MPD stopped. s6 then
# starts it again (at most once a second), unless the add-on is stopping.
# Arguments: the port, then s6's: exit code (256 = killed by a signal), signal number.
set -eo pipefail
# shellcheck source=SCRIPTDIR/qcb-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/qcb-common.sh"
port="$1" code="${2:-0}" signal="${3:-0}"

# s6 brings the service down (add-on stopping): SIGTERM, or an MPD that exited cleanly on it.
if [[ "$(s6-svstat -o wantedup . 2>/dev/null || true)" == "false" ]]; then
  bashio::log.info "bundled MPD on 127.0.0.1:${port} stopped"
  exit 0
fi
if [[ "${code}" == 256 ]]; then
  bashio::log.warning "bundled MPD on 127.0.0.1:${port} was killed by signal ${signal}; s6 restarts it"
else
  bashio::log.warning "bundled MPD on 127.0.0.1:${port} exited with code ${code}; s6 restarts it"
fi
