#!/usr/bin/env bash
# AdScale benchmark (issue "foundation"): seed AdScale's own database, then run
# the shared side-by-side driver with the AdScale binary as its CMD target.
#
# usage: bench/run.sh [--reseed] [driver options] [TARGET ...]
#        bench/run.sh --idle-rss [--embedded]
#
#   TARGET ...    passed to the shared driver; default: CMD P1 P2P ACTIX
#                 (CMD = AdScale; P1/P2P/ACTIX = the shared peers and floor)
#   driver options  -r N, -w "W1 W2 W3", -d 20s, --floors, ... (see the shared
#                 driver's run.sh --help); all are passed through
#   --reseed      drop and re-create the AdScale bench database and its data
#                 (the driver's own `bench` database: run it with --reseed directly)
#   --idle-rss    start `adscale serve` on the bench database, wait 5 s after it
#                 answers /health, print its resident memory from /proc, stop it
#   --embedded    with --idle-rss: embedded mode instead (no DATABASE_URL, no
#                 REDIS_URL; SQLite in a temporary directory)
#
# Steps: cargo build --release -p adscale; database adscale_bench (created and
# seeded once: adscale migrate + adscale seed-demo --tenants 10 --campaigns 200
# --days 365 --bench-out bench/results/data, marker bench/results/data/.seeded);
# then SHARED_BENCH/run.sh with TARGET_CMD/TARGET_PORT=8080 and W1_SCRIPT /
# W2_SCRIPT = bench/w1.lua, bench/w2.lua (which hand over to the driver's own
# scripts for the peers' ports, so everything is measured in one invocation).
# Results: SHARED_BENCH/results/<timestamp>/ (not part of this repository).
#
# Environment: SHARED_BENCH (default <repo>/../shared/bench),
#   ADSCALE_BENCH_DB (adscale_bench), ADSCALE_BENCH_PORT (8080),
#   PGHOST/PGPORT/PGUSER/PGPASSWORD (127.0.0.1/5432/postgres/postgres),
#   REDIS_HOST/REDIS_PORT (127.0.0.1/6379),
#   ADSCALE_BIN (use this binary instead of building target/release/adscale).
#   Any other AdScale setting in the environment (DB_POOL_SIZE, WORKERS, ...)
#   reaches the server.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED_BENCH=${SHARED_BENCH:-$REPO/../shared/bench}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
export PGPASSWORD=${PGPASSWORD:-postgres}   # ignored by trust auth; needed by scram
export PGSSLMODE=${PGSSLMODE:-disable}      # plaintext on loopback, as the driver does
REDIS_HOST=${REDIS_HOST:-127.0.0.1} REDIS_PORT=${REDIS_PORT:-6379}
export REDIS_HOST REDIS_PORT
DB=${ADSCALE_BENCH_DB:-adscale_bench}
PORT=${ADSCALE_BENCH_PORT:-8080}
DATA=$REPO/bench/results/data
SEED_ARGS=(--tenants 10 --campaigns 200 --days 365)
REDIS_PREFIX=adscale-bench:

log() { echo "# bench: $*" >&2; }
die() { echo "bench/run.sh: $*" >&2; exit 1; }

RESEED=0 IDLE_RSS=0 EMBEDDED=0 ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --reseed) RESEED=1 ;;
    --idle-rss) IDLE_RSS=1 ;;
    --embedded) EMBEDDED=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) ARGS+=("$1") ;;
  esac
  shift
done
[ "$EMBEDDED" = 0 ] || [ "$IDLE_RSS" = 1 ] || die "--embedded only goes with --idle-rss"

# ------------------------------------------------------------------ tools
need() { command -v "$1" >/dev/null 2>&1; }
ensure_tools() {  # $@ = commands; installs the Debian packages they come from when root
  local missing=() c pkg
  for c in "$@"; do
    need "$c" && continue
    case "$c" in psql) pkg=postgresql-client ;; redis-cli) pkg=redis-tools ;; *) pkg=$c ;; esac
    missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing: ${missing[*]}; install them: sudo apt-get install -y ${missing[*]}"
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null </dev/null || {
    apt-get update -q >/dev/null </dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null </dev/null
  }
}

check_peers() {
  # The shared driver records the peers' versions at every start and stops when
  # they are missing, whatever the targets: install them as its README says.
  local missing=()
  [ -x "$SHARED_BENCH/p1/.venv/bin/uvicorn" ] || missing+=("cd $SHARED_BENCH/p1 && python3 -m venv .venv && .venv/bin/pip install -r requirements.lock.txt")
  [ -d "$SHARED_BENCH/p2/node_modules" ] || missing+=("cd $SHARED_BENCH/p2 && npm ci")
  [ ${#missing[@]} -eq 0 ] && return 0
  die "the shared driver's peers are not installed (see $SHARED_BENCH/README.md, Install):
$(printf '  %s\n' "${missing[@]}")"
}

has_target() {  # true when ARGS name a target (anything the driver would not take as an option)
  local a prev=""
  for a in "${ARGS[@]}"; do
    case "$prev" in -w|-r|-d) prev=""; continue ;; esac
    prev=$a
    case "$a" in -*) ;; *) return 0 ;; esac
  done
  return 1
}
has_arg() { local a; for a in "${ARGS[@]}"; do [ "$a" = "$1" ] && return 0; done; return 1; }

# ------------------------------------------------------------------ binary
build() {
  if [ -n "${ADSCALE_BIN:-}" ]; then
    BIN=$ADSCALE_BIN
    [ -x "$BIN" ] || die "ADSCALE_BIN=$BIN is not executable"
    return 0
  fi
  log "cargo build --release -p adscale"
  (cd "$REPO" && cargo build --release -p adscale)
  BIN=${CARGO_TARGET_DIR:-$REPO/target}/release/adscale
  case "$BIN" in /*) ;; *) BIN=$REPO/$BIN ;; esac
  [ -x "$BIN" ] || die "no binary at $BIN"
}

# ------------------------------------------------------------------ database
DATABASE_URL_BENCH="postgres://${PGUSER}:${PGPASSWORD}@${PGHOST}:${PGPORT}/${DB}?sslmode=disable"
REDIS_URL_BENCH="redis://${REDIS_HOST}:${REDIS_PORT}/0"

run_adscale() {  # the binary against the bench database, quiet
  env -u OTEL_EXPORTER_OTLP_ENDPOINT DATABASE_URL="$DATABASE_URL_BENCH" REDIS_URL="$REDIS_URL_BENCH" \
    REDIS_KEY_PREFIX="$REDIS_PREFIX" JWT_SECRET="$JWT_SECRET" RUST_LOG="${RUST_LOG:-warn}" "$BIN" "$@"
}

ensure_seeded() {
  local marker=$DATA/.seeded want exists
  want="db=$DB ${SEED_ARGS[*]}"
  exists=$(psql -X -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB'")
  if [ "$RESEED" = 1 ] || [ "$exists" != 1 ] || [ ! -s "$DATA/bench.json" ] \
     || [ ! -s "$DATA/jwt.secret" ] || [ "$(cat "$marker" 2>/dev/null)" != "$want" ]; then
    log "creating database $DB and seeding it (adscale seed-demo ${SEED_ARGS[*]})"
    rm -rf "$DATA"
    mkdir -p "$DATA"
    psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "SET client_min_messages = warning" \
      -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" -c "CREATE DATABASE \"$DB\"" >/dev/null
    # one secret for seeding and serving (API keys or tokens may depend on it)
    od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$DATA/jwt.secret"
    JWT_SECRET=$(cat "$DATA/jwt.secret")
    run_adscale migrate
    local t0=$SECONDS
    run_adscale seed-demo "${SEED_ARGS[@]}" --bench-out "$DATA"
    [ -s "$DATA/bench.json" ] || die "seed-demo wrote no $DATA/bench.json"
    echo "$want" >"$marker"
    log "seeded in $((SECONDS - t0)) s; data file $DATA/bench.json"
  else
    JWT_SECRET=$(cat "$DATA/jwt.secret")
    log "database $DB already seeded ($marker); applying pending migrations"
    run_adscale migrate
  fi
}

# Environment of the measured server (production mode).
server_env() {
  SERVER_ENV=(
    DATABASE_URL="$DATABASE_URL_BENCH"
    REDIS_URL="$REDIS_URL_BENCH"
    REDIS_KEY_PREFIX="$REDIS_PREFIX"
    JWT_SECRET="$JWT_SECRET"
    BIND_ADDR="127.0.0.1:$PORT"
    RATE_LIMIT_PER_MINUTE=100000000
    RUN_MIGRATIONS=false
    RUST_LOG=warn
    LOG_FORMAT=text
  )
}

port_busy() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/health"; }

# ------------------------------------------------------------------ --idle-rss
idle_rss() {
  local pid dir="" logf i mode
  port_busy && die "port $PORT already answers; stop that server first"
  if [ "$EMBEDDED" = 1 ]; then
    mode="embedded (SQLite, in-memory cache)"
    dir=$(mktemp -d "${TMPDIR:-/tmp}/adscale-idle.XXXXXX")
    logf=$dir.log
    (cd "$dir" && exec env -u DATABASE_URL -u REDIS_URL -u JWT_SECRET -u OTEL_EXPORTER_OTLP_ENDPOINT \
      SQLITE_PATH="$dir/data/adscale.db" BIND_ADDR="127.0.0.1:$PORT" RUN_MIGRATIONS=true RUST_LOG=warn \
      "$BIN" serve) >"$logf" 2>&1 &
  else
    mode="production (PostgreSQL $DB, Redis)"
    logf=$DATA/idle-rss.log
    server_env
    env -u OTEL_EXPORTER_OTLP_ENDPOINT "${SERVER_ENV[@]}" "$BIN" serve >"$logf" 2>&1 &
  fi
  pid=$!
  # shellcheck disable=SC2064  # expand now: pid and dir are local
  trap "kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; [ -z '$dir' ] || rm -rf '$dir' '$dir.log'" EXIT
  for i in $(seq 1 600); do
    port_busy && break
    kill -0 "$pid" 2>/dev/null || { cat "$logf" >&2; die "adscale serve exited"; }
    [ "$i" -lt 600 ] || die "adscale serve did not answer /health within 60 s"
    sleep 0.1
  done
  sleep 5
  awk -v mode="$mode" '
    /^VmRSS:/ { rss = $2 } /^VmHWM:/ { hwm = $2 } /^Threads:/ { th = $2 }
    END { printf "adscale serve idle RSS after 5 s: %.1f MB (peak %.1f MB, %d threads; %s)\n",
                 rss / 1024, hwm / 1024, th, mode }' "/proc/$pid/status"
}

# ------------------------------------------------------------------ main
if [ "$IDLE_RSS" = 1 ]; then
  ensure_tools curl
  if [ "$EMBEDDED" = 0 ]; then
    ensure_tools psql
    "$REPO/scripts/ensure-services.sh"
    mkdir -p "$DATA"
  fi
  build
  [ "$EMBEDDED" = 1 ] || ensure_seeded
  idle_rss
  exit 0
fi

[ -x "$SHARED_BENCH/run.sh" ] || die "shared driver not found at $SHARED_BENCH/run.sh (set SHARED_BENCH)"
SHARED_BENCH=$(cd "$SHARED_BENCH" && pwd)
if ! has_target && ! has_arg --check && ! has_arg --profile && ! has_arg -h && ! has_arg --help; then
  ARGS+=(CMD P1 P2P ACTIX)
fi
check_peers
ensure_tools psql redis-cli curl wrk python3
"$REPO/scripts/ensure-services.sh"
build
ensure_seeded
server_env

# The driver starts this with `setsid bash -c "$TARGET_CMD"` and stops its process
# group. It exports its own DATABASE_URL/REDIS_URL (its `bench` database), so ours
# are set here. AdScale's bench keys in Redis are dropped first, so every start
# fills the cache itself, as the driver does for the peers.
printf -v flush 'redis-cli -h %q -p %q --scan --pattern %q | xargs -r redis-cli -h %q -p %q DEL >/dev/null' \
  "$REDIS_HOST" "$REDIS_PORT" "${REDIS_PREFIX}*" "$REDIS_HOST" "$REDIS_PORT"
printf -v start 'exec env -u OTEL_EXPORTER_OTLP_ENDPOINT%s %q serve' "$(printf ' %q' "${SERVER_ENV[@]}")" "$BIN"
export TARGET_CMD="$flush; $start"
export TARGET_PORT=$PORT
export W1_SCRIPT=$REPO/bench/w1.lua W2_SCRIPT=$REPO/bench/w2.lua
export BENCH_JSON=$DATA/bench.json
export PEER_W1_SCRIPT=$SHARED_BENCH/wrk/w1.lua PEER_W2_SCRIPT=$SHARED_BENCH/wrk/w2.lua

log "shared driver: $SHARED_BENCH/run.sh ${ARGS[*]}"
log "results: $SHARED_BENCH/results/"
exec "$SHARED_BENCH/run.sh" "${ARGS[@]}"
