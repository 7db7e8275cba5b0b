#!/usr/bin/env bash
# Lays out the Qobuz Connect Bridge add-on as a Home Assistant *local* add-on:
#   addon/install-local.sh /addons            (on the Home Assistant host, e.g. via the
#                                               Samba or SSH add-on: the "addons" share)
# creates /addons/qobuz_connect_bridge/ holding
#   - the add-on files (config.yaml, Dockerfile, DOCS.md, icons, translations/) at its top, and
#   - the bridge sources the Dockerfile builds from (package*.json, tsconfig*.json, src/,
#     proto/, scripts/, addon/run.sh …),
# so that the folder is the "repository root" build context addon/Dockerfile expects.
# Only one config.yaml ends up in the folder: the Supervisor finds add-ons by it.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 ADDONS_DIR   (e.g. /addons on the Home Assistant host)" >&2
  exit 2
fi
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$1/qobuz_connect_bridge"

rm -rf "${dest}"
mkdir -p "${dest}/addon" "${dest}/scripts"
# The bridge sources (what addon/Dockerfile COPYs).
cp "${repo}/package.json" "${repo}/package-lock.json" "${repo}/tsconfig.json" "${repo}/tsconfig.build.json" \
  "${repo}/config.schema.json" "${repo}/config.example.yaml" "${repo}/LICENSE" "${dest}/"
cp -R "${repo}/src" "${repo}/proto" "${dest}/"
cp "${repo}/scripts/copy-generated.mjs" "${repo}/scripts/generate-proto.mjs" "${dest}/scripts/"
cp "${repo}/addon/run.sh" "${repo}/addon/mpd.conf" "${repo}/addon/options-to-config.jq" "${dest}/addon/"
# The add-on itself, at the top of its folder.
cp "${repo}/addon/config.yaml" "${repo}/addon/Dockerfile" "${repo}/addon/DOCS.md" "${repo}/addon/README.md" \
  "${repo}/addon/CHANGELOG.md" "${repo}/addon/icon.png" "${repo}/addon/logo.png" "${dest}/"
cp -R "${repo}/addon/translations" "${dest}/"

echo "Local add-on ready in ${dest}."
echo "In Home Assistant: Settings > Add-ons > Add-on store > ⋮ > Check for updates, then install"
echo "\"Qobuz Connect Bridge\" from the Local add-ons section."
