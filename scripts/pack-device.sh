#!/usr/bin/env bash
# Packs what the GPU device check needs into .device/ (git-ignored): this machine's node
# binary (the device has none), the built dist/ and the production node_modules, plus the
# check script and its GPU load. Then, with the device tool:
#   run: bash .device/device-check.sh        carry: [".device"]
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/build.mjs
mkdir -p .device
[ -f .device/node.xz ] || xz -T2 -c "$(command -v node)" > .device/node.xz
stage=$(mktemp -d)
cp -r dist package.json package-lock.json "$stage/"
find "$stage/dist" -name '*.map' -delete
cp -r node_modules "$stage/"
(cd "$stage" && npm prune --omit=dev --ignore-scripts >/dev/null 2>&1)
# Build leftovers of better-sqlite3 that the runtime does not load.
rm -rf "$stage"/node_modules/better-sqlite3/{deps,src} "$stage"/node_modules/better-sqlite3/build/Release/{obj,obj.target,*.a,test_extension.node}
tar -C "$stage" -cJf .device/app.tar.xz dist package.json node_modules
rm -rf "$stage"
cp scripts/device-check.sh scripts/gpu-load.py .device/
ls -la .device
