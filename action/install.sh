#!/usr/bin/env bash
# action.yml, step 1: installs the package (and the runtime packages asked for) into a folder of its
# own, so that the user's project and lockfile are untouched. The CLI is then
# $RC_HOME/node_modules/.bin/resnet-conformance; runtimes installed next to it are the ones it loads.
# Env: RC_PACKAGE (npm install spec), RC_RUNTIMES (space-separated), RC_HOME (default $RUNNER_TEMP/resnet-conformance).
set -euo pipefail
home="${RC_HOME:-${RUNNER_TEMP:-/tmp}/resnet-conformance}"
mkdir -p "$home"
[ -f "$home/package.json" ] || echo '{"private": true}' > "$home/package.json"
spec="${RC_PACKAGE:-resnet-conformance@0.1.0}"
# A relative tarball path is the user's (the working directory), not the tool folder's.
if [ -f "$spec" ]; then spec="$(cd "$(dirname "$spec")" && pwd)/$(basename "$spec")"; fi
read -r -a runtimes <<< "${RC_RUNTIMES:-}"
# ONNXRUNTIME_NODE_INSTALL=skip: onnxruntime-node's CPU binaries ship in its npm package; without
# it, its install script downloads the CUDA provider from NuGet (docs/onnxruntime.md).
ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL:-skip}" \
  npm install --prefix "$home" --no-audit --no-fund "$spec" "${runtimes[@]}"
echo "RC_HOME=$home" >> "${GITHUB_ENV:-/dev/null}"
"$home/node_modules/.bin/resnet-conformance" --version
