#!/usr/bin/env bash
# Installs npm dependencies (from the lockfile) when missing, compiles TypeScript to dist/, and
# byte-compiles the Python runtime package so no worker compiles source at start.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/tsc ]; then npm ci --no-audit --no-fund --loglevel=error; fi
rm -rf dist
node_modules/.bin/tsc -p .
# Each interpreter writes its own cache tag (cpython-311 ...); the one on PATH may be another build.
compiled=()
for python in /usr/bin/python3 "$(command -v python3 || true)"; do
  [ -n "$python" ] && [ -x "$python" ] || continue
  real="$(readlink -f "$python")"
  case " ${compiled[*]-} " in *" $real "*) continue ;; esac
  compiled+=("$real")
  if ! "$python" -m compileall -q python/berth_runtime; then
    echo "build: $python could not compile python/berth_runtime (see above)" >&2
    exit 1
  fi
done
