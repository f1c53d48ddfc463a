#!/usr/bin/env bash
# Installs the system packages Berth's tests and benchmarks need, then checks
# that each one really works. Idempotent: when everything is already present it
# only runs the checks (no apt-get update), so CI can call it every time.
#
# As root: installs what is missing with apt-get.
# Otherwise: exits non-zero naming every missing package and the command to run.
set -euo pipefail

PACKAGES=(python3 python3-django python3-flask uwsgi uwsgi-plugin-python3
          gunicorn wrk nginx-light curl procps chromium media-types tmux
          prometheus python3-prometheus-client)
# supervisord: the tests that run Berth as a supervisor program (test/cli/supervisor.test.ts), and
# berth ctl's exit codes compared with supervisorctl's (test/supervise/ctl-exit-codes.test.ts).
PACKAGES+=(supervisor)
# openssl: the TLS tests make their own CA and certificates (test/master/tls-listeners.test.ts, test/e2e/nginx-suwsgi.test.ts).
PACKAGES+=(openssl)
# systemd: systemd-analyze verify checks the unit `berth systemd-unit` prints (offline, no running
# systemd), and systemd-socket-activate hands Berth its listeners (test/cli/systemd-unit.test.ts,
# test/master/socket-activation.test.ts).
PACKAGES+=(systemd)
# The multi-host e2e test (test/e2e/multi-host.test.ts): a MariaDB server the test runs itself in a
# network namespace (the last seed's shared MySQL database), Django's MySQL driver, and iproute2
# for `ip netns` and veth pairs.
PACKAGES+=(mariadb-server python3-mysqldb iproute2)
UWSGI_PY3_PLUGIN=/usr/lib/uwsgi/plugins/python3_plugin.so

log() { printf 'install-test-deps: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

is_installed() {
  local status
  status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]]
}

# apt-get refuses to run while another apt/dpkg holds the lock; rather than fail
# we wait (up to ~10 minutes) because CI images often run unattended upgrades.
apt_retry() {
  local attempt
  for attempt in $(seq 1 60); do
    if apt-get -o DPkg::Lock::Timeout=10 "$@"; then return 0; fi
    log "apt-get $1 failed (attempt $attempt/60), probably the dpkg lock; retrying in 10 s"
    sleep 10
  done
  die "apt-get $* kept failing"
}

command -v dpkg-query >/dev/null || die "dpkg-query not found: this script supports Debian/Ubuntu (apt) only"

missing=()
for pkg in "${PACKAGES[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    log "missing packages: ${missing[*]}"
    log "install them with:"
    log "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
  fi
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_retry update
  # Packages with a service (supervisor, prometheus, nginx) must not start it: the tests start
  # their own instances on free loopback ports. policy-rc.d tells invoke-rc.d to leave them.
  added_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && added_policy=1
  fi
  apt_retry install -y --no-install-recommends "${missing[@]}"
  ((added_policy == 0)) || rm -f /usr/sbin/policy-rc.d
else
  log "all packages already installed"
fi

# Verify loudly: a package being "installed" is not proof the tool works.
fail=0
check() {
  local what=$1; shift
  local out
  if out=$("$@" 2>&1); then
    log "ok   $what: $(printf '%s' "$out" | head -n1)"
  else
    log "FAIL $what: $* -> $(printf '%s' "$out" | tail -n3)"
    fail=1
  fi
}
check "python3 + django + flask" /usr/bin/python3 -c 'import sys, django, flask; print(sys.version.split()[0], "django", django.__version__, "flask", flask.__version__)'
check "uwsgi" uwsgi --version
check "uwsgi python3 plugin" ls "$UWSGI_PY3_PLUGIN"
check "gunicorn" gunicorn --version
check "wrk" bash -c 'command -v wrk'
check "nginx" bash -c 'nginx -v 2>&1'
check "openssl (TLS test certificates)" bash -c 'openssl version'
check "curl" bash -c 'curl --version | head -n1'
check "procps (ps)" bash -c 'command -v ps'
check "chromium (headless browser e2e)" bash -c 'chromium --version 2>/dev/null'
check "tmux (berth top e2e)" tmux -V
check "supervisor (supervisord, supervisorctl)" bash -c 'supervisord --version && command -v supervisorctl'
check "systemd-analyze (unit verification)" systemd-analyze --version
check "systemd-socket-activate (socket activation)" bash -c 'systemd-socket-activate --version | head -n1'
check "npm (install test: npm pack, npm install -g; ships with Node.js)" npm --version
check "promtool (metrics format)" bash -c 'promtool --version 2>&1 | head -n1'
check "mariadb-server (mariadbd, mariadb-install-db)" bash -c 'command -v mariadb-install-db >/dev/null && /usr/sbin/mariadbd --version'
check "python3-mysqldb (Django's MySQL driver)" /usr/bin/python3 -c 'import MySQLdb; print("MySQLdb", MySQLdb.__version__)'
check "iproute2 (ip netns, veth; ss: who holds a connection)" bash -c 'ip -V && ss -V'
check "python3-prometheus-client (metrics parser)" /usr/bin/python3 -c 'import prometheus_client.parser; print("prometheus_client ok")'

((fail == 0)) || die "some test dependencies do not work (see FAIL lines above)"
log "all test dependencies present"
