#!/usr/bin/env bash
# README's second command (`npm test`): installs what the tests need (apt, as root), builds,
# runs the Python worker's unit tests under Debian's python3 and every node:test file.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
bash scripts/build.sh
echo "== python worker unit tests (/usr/bin/python3)"
/usr/bin/python3 -m unittest discover -s test/python -p 'test_*.py'
if command -v python3 >/dev/null && [ "$(command -v python3)" != /usr/bin/python3 ]; then
  echo "== python worker unit tests ($(command -v python3))"
  python3 -m unittest discover -s test/python -p 'test_*.py'
fi
echo "== node tests"
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
if [ "${#files[@]}" -eq 0 ]; then echo "no test files found under dist/test" >&2; exit 1; fi
exec node --test --test-concurrency=2 --test-timeout=300000 "${files[@]}"
