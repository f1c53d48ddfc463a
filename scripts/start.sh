#!/usr/bin/env bash
# README's first command (`npm start`): build if needed, then serve examples/hello on port 8000.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v python3 >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3
  else
    echo "berth: python3 is needed to run the example app: sudo apt-get install python3" >&2; exit 1
  fi
fi
bash scripts/build.sh
exec node bin/berth.js --ini examples/hello/berth.ini "$@"
