#!/usr/bin/env bash
# Installs npm dependencies (from the lockfile) when missing and compiles TypeScript to dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/tsc ]; then npm ci --no-audit --no-fund --loglevel=error; fi
rm -rf dist
node_modules/.bin/tsc -p .
