#!/usr/bin/env bash
# Lays out the Qobuz Connect Bridge add-on as a Home Assistant *local* add-on, built on the
# Home Assistant machine from this checkout (the repository route pulls a prebuilt image
# instead, see addon/DOCS.md):
#   addon/install-local.sh /addons            (on the Home Assistant host, e.g. via the
#                                               Samba or SSH app: the "addons" share)
# creates /addons/qobuz_connect_bridge/ holding
#   - the add-on files (config.yaml, Dockerfile, DOCS.md, icons, apparmor.txt, translations/)
#     at its top, config.yaml without its `image:` line so that the Supervisor builds it, and
#   - the bridge sources the Dockerfile builds from (package*.json, tsconfig*.json, src/,
#     proto/, scripts/, addon/rootfs/ …),
# so that the folder is the "repository root" build context addon/Dockerfile expects.
# The Supervisor finds add-ons by every config.{json,yaml,yml} outside dot-folders and rootfs/,
# so exactly one such file, the manifest, ends up in the folder.
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
  "${repo}/LICENSE" "${dest}/"
cp -R "${repo}/src" "${repo}/proto" "${dest}/"
cp "${repo}/scripts/copy-generated.mjs" "${repo}/scripts/generate-proto.mjs" "${dest}/scripts/"
cp -R "${repo}/addon/rootfs" "${dest}/addon/"
# The add-on itself, at the top of its folder.
grep -v '^image:' "${repo}/addon/config.yaml" >"${dest}/config.yaml"
cp "${repo}/addon/Dockerfile" "${repo}/addon/DOCS.md" "${repo}/addon/README.md" "${repo}/addon/CHANGELOG.md" \
  "${repo}/addon/apparmor.txt" "${repo}/addon/icon.png" "${repo}/addon/logo.png" "${dest}/"
cp -R "${repo}/addon/translations" "${dest}/"

echo "Local add-on ready in ${dest}."
echo "In Home Assistant: Settings > Apps > App store > ⋮ > Check for updates, then install"
echo "\"Qobuz Connect Bridge\" from the Local apps section (the first build takes a few minutes)."
