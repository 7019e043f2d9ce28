#!/usr/bin/env bash
# Make sure what `make test` needs is installed and answering: PostgreSQL, Redis, Chromium,
# and gettext's msgfmt for the translations.
# Installs missing Debian packages (needs root) and starts stopped services. Idempotent.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need_packages=()
command -v pg_ctlcluster >/dev/null 2>&1 || need_packages+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need_packages+=(redis-server)
[ -x /usr/bin/chromium ] || need_packages+=(chromium)
# msgfmt compiles the translations (locale/*/LC_MESSAGES/*.po → .mo) for `make run` and `make test`.
command -v msgfmt >/dev/null 2>&1 || need_packages+=(gettext)
if [ ${#need_packages[@]} -gt 0 ]; then
  echo "Installing ${need_packages[*]}…"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_packages[@]}" >/dev/null
fi

pg_answers() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if ! pg_answers; then
  echo "Starting PostgreSQL…"
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_answers && break; sleep 0.5; done
  pg_answers || { echo "PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }
fi

redis_answers() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
if ! redis_answers; then
  echo "Starting Redis…"
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 20); do redis_answers && break; sleep 0.25; done
  redis_answers || { echo "Redis does not answer on 127.0.0.1:6379" >&2; exit 1; }
fi

# The tests connect as the user in TEST_DATABASE_URL (postgres by default); trust auth is
# expected on 127.0.0.1 as on the project's machines.
psql -h 127.0.0.1 -U postgres -d postgres -tAc "select 1" >/dev/null 2>&1 \
  || psql -h 127.0.0.1 -U root -d postgres -tAc "select 1" >/dev/null \
  || { echo "Cannot connect to PostgreSQL as postgres or root" >&2; exit 1; }
echo "Services ready: PostgreSQL, Redis, Chromium, gettext."
