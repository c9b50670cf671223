#!/usr/bin/env bash
# Bring up everything the test suite talks to, on loopback, on a fresh Debian machine:
#   PostgreSQL 127.0.0.1:5432 (database `test`, user `postgres`, trust auth), Redis 127.0.0.1:6379,
#   Debian's chromium / espeak-ng / sox / docker-compose, and a livekit-server binary built from the Go
#   module proxy (cached; the tests start their own servers from it).
# Idempotent: whatever already answers is left alone. Used by `make services` (and so `make test`, `.ci/run`).
#
#   scripts/services.sh up          # all of the above
#   scripts/services.sh livekit     # only build (or find) livekit-server; prints its path
#   scripts/services.sh down        # stop the PostgreSQL and Redis this script started
set -euo pipefail

LIVEKIT_VERSION="${MOCKLINE_LIVEKIT_VERSION:-v1.13.5}"
STATE="${MOCKLINE_SERVICES_DIR:-/var/tmp/mockline-services}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/mockline"
PG_PORT=5432
REDIS_PORT=6379

log() { printf 'services: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

ensure_packages() {
  local need=()
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
  command -v sox >/dev/null 2>&1 || need+=(sox)
  command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)  # validates docker-compose.yml
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
  pg_bin >/dev/null 2>&1 || need+=(postgresql)
  command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || need+=(golang-go)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing Debian packages: ${need[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

pg_bin() {  # the directory holding initdb/pg_ctl of the newest installed PostgreSQL
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$d" ] && [ -x "$d/pg_ctl" ] && echo "$d"
}

as_pg() {  # PostgreSQL refuses to run as root
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

wait_for() {  # wait_for WHAT SECONDS CMD...: poll a readiness command (not a sleep as synchronisation)
  local what=$1 limit=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then log "$what did not answer within ${limit}s"; return 1; fi
    sleep 0.2
  done
}

pg_ready() { "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p $PG_PORT; }

start_postgres() {
  local bin data
  bin=$(pg_bin)
  data="$STATE/pg"
  if ! pg_ready; then
    mkdir -p "$STATE"
    if [ ! -s "$data/PG_VERSION" ]; then
      log "initialising PostgreSQL in $data"
      mkdir -p "$data"
      [ "$(id -u)" = 0 ] && chown postgres: "$data"
      as_pg "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    [ "$(id -u)" = 0 ] && chown postgres: "$STATE" "$data"
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k /tmp -c fsync=off -c max_connections=200" start >/dev/null
  fi
  wait_for PostgreSQL 60 pg_ready
  if ! psql -h 127.0.0.1 -p $PG_PORT -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1; then
    psql -h 127.0.0.1 -p $PG_PORT -U postgres -qc 'CREATE DATABASE test' >/dev/null
  fi
}

redis_ready() { redis-cli -h 127.0.0.1 -p $REDIS_PORT ping | grep -q PONG; }

start_redis() {
  if ! redis_ready; then
    mkdir -p "$STATE/redis"
    log "starting Redis on 127.0.0.1:$REDIS_PORT"
    redis-server --bind 127.0.0.1 --port $REDIS_PORT --daemonize yes --save '' --appendonly no \
      --dir "$STATE/redis" --logfile "$STATE/redis/redis.log" --pidfile "$STATE/redis/redis.pid"
  fi
  wait_for Redis 30 redis_ready
}

livekit_binary() {  # build once per machine (about 2-3 minutes on 2 cores), then reuse
  local out="$CACHE/livekit-server-$LIVEKIT_VERSION"
  if [ ! -x "$out" ]; then
    local go=go
    command -v go >/dev/null 2>&1 || go=/usr/local/go/bin/go
    local tmp
    tmp=$(mktemp -d)
    log "building livekit-server $LIVEKIT_VERSION from the Go module proxy (cached in $CACHE)"
    mkdir -p "$CACHE"
    GOBIN="$tmp" GOFLAGS=-trimpath "$go" install "github.com/livekit/livekit-server/cmd/server@$LIVEKIT_VERSION"
    mv "$tmp/server" "$out"
    rmdir "$tmp"
  fi
  echo "$out"
}

stop_all() {
  local bin
  bin=$(pg_bin || true)
  if [ -n "$bin" ] && [ -s "$STATE/pg/postmaster.pid" ]; then as_pg "$bin/pg_ctl" -D "$STATE/pg" -m fast stop || true; fi
  if [ -s "$STATE/redis/redis.pid" ]; then kill "$(cat "$STATE/redis/redis.pid")" 2>/dev/null || true; fi
}

case "${1:-up}" in
  up)
    ensure_packages
    start_postgres
    start_redis
    livekit_binary >/dev/null
    log "ready: PostgreSQL 127.0.0.1:$PG_PORT/test, Redis 127.0.0.1:$REDIS_PORT, $(livekit_binary)"
    ;;
  livekit) livekit_binary ;;
  down) stop_all ;;
  *) echo "usage: $0 [up|livekit|down]" >&2; exit 2 ;;
esac
