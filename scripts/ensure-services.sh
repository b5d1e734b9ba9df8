#!/usr/bin/env bash
# Make sure the services the tests talk to are up: PostgreSQL and Redis on
# their local default ports (taken from TEST_DATABASE_URL / TEST_REDIS_URL),
# and the test database exists.
#
#   scripts/ensure-services.sh
#
# Idempotent. A service that already answers is left exactly as it is (its
# auth and configuration are not touched). A missing one is installed from
# Debian's packages (apt-get update runs at most once) and started without
# systemd:
#   PostgreSQL: pg_ctlcluster --skip-systemctl-redirect <version> main start,
#               then the URL's role gets the URL's password (local TCP auth on
#               a fresh Debian install is scram-sha-256)
#   Redis:      redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
# Needs root (or password-less sudo) only when something must be installed or
# started; otherwise prints what to run and exits 1.
# Prints one line per service saying what it found or did; apt-get's output
# goes to $ENSURE_SERVICES_LOG (default /tmp/adscale-ensure-services.log).
set -euo pipefail

PG_URL=${TEST_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/adscale_test}
REDIS_URL_=${TEST_REDIS_URL:-redis://127.0.0.1:6379}
LOG=${ENSURE_SERVICES_LOG:-${TMPDIR:-/tmp}/adscale-ensure-services.log}
PG_WAIT_SECS=60
REDIS_WAIT_SECS=30

die() { echo "ensure-services: $*" >&2; exit 1; }

# ------------------------------------------------------------------ URLs
re='^postgres(ql)?://([^:@/]+)(:([^@/]*))?@([^:/?]+)(:([0-9]+))?/([^?]+)'
[[ $PG_URL =~ $re ]] || die "cannot parse TEST_DATABASE_URL ($PG_URL); expected postgres://user:password@host:port/database"
PG_USER=${BASH_REMATCH[2]} PG_PASS=${BASH_REMATCH[4]} PG_HOST=${BASH_REMATCH[5]}
PG_PORT=${BASH_REMATCH[7]:-5432} PG_DB=${BASH_REMATCH[8]}

re='^rediss?://([^@/]*@)?([^:/]+)(:([0-9]+))?'
[[ $REDIS_URL_ =~ $re ]] || die "cannot parse TEST_REDIS_URL ($REDIS_URL_); expected redis://host:port"
R_HOST=${BASH_REMATCH[2]} R_PORT=${BASH_REMATCH[4]:-6379}

is_local() { case "$1" in 127.0.0.1|localhost|::1|'[::1]') return 0 ;; *) return 1 ;; esac; }

# ------------------------------------------------------------------ privileges
if [ "$(id -u)" = 0 ]; then AS_ROOT=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then AS_ROOT="sudo -n"
else AS_ROOT="none"
fi
need_root() {  # $1 = what is missing, $2 = the command that would fix it
  [ "$AS_ROOT" != none ] || die "$1, and this is not root. Run as root:
  $2
or run this script as root: sudo $0"
}
as_postgres() {  # run a command as the postgres OS user (peer auth on the Unix socket)
  if [ -z "$AS_ROOT" ]; then (cd / && runuser -u postgres -- "$@")
  else (cd / && sudo -n -u postgres "$@")
  fi
}

run_logged() {
  # shellcheck disable=SC2086  # AS_ROOT is empty or "sudo -n"
  if ! $AS_ROOT "$@" >>"$LOG" 2>&1 </dev/null; then
    echo "ensure-services: failed: $*; last lines of $LOG:" >&2
    tail -n 30 "$LOG" >&2
    exit 1
  fi
}
APT_UPDATED=0
apt_install() {
  need_root "missing Debian package(s): $*" "apt-get update && apt-get install -y $*"
  if [ "$APT_UPDATED" = 0 ]; then run_logged apt-get update; APT_UPDATED=1; fi
  run_logged env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"
}

join() { local out="" x; for x in "$@"; do out="${out:+$out; }$x"; done; echo "$out"; }
wait_for() {  # $1 = seconds, rest = command; polls every 0.5 s
  local tries=$(($1 * 2)); shift
  while [ "$tries" -gt 0 ]; do
    if "$@"; then return 0; fi
    sleep 0.5; tries=$((tries - 1))
  done
  return 1
}

# ------------------------------------------------------------------ PostgreSQL
pg_ready() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 3
  else
    # shellcheck disable=SC2016  # expanded by the inner bash
    timeout 3 bash -c ': >"/dev/tcp/$0/$1"' "$PG_HOST" "$PG_PORT" 2>/dev/null
  fi
}
psql_tcp() {
  PGPASSWORD="$PG_PASS" PGCONNECT_TIMEOUT=5 psql -X -q -v ON_ERROR_STOP=1 \
    -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$@"
}
# shellcheck disable=SC2012  # version directories: plain names
pg_version() {  # newest installed major version, from its cluster config or its binaries
  local v
  v=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
  [ -n "$v" ] || v=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)
  echo "$v"
}

ensure_postgres() {
  local did=() started=0 ver=""
  if ! pg_ready; then
    is_local "$PG_HOST" || die "PostgreSQL at $PG_HOST:$PG_PORT does not answer (not a local address, so not starting one)"
    ver=$(pg_version)
    if [ -z "$ver" ] || [ ! -x "/usr/lib/postgresql/$ver/bin/postgres" ]; then
      apt_install postgresql postgresql-client
      did+=("installed postgresql")
      ver=$(pg_version)
      [ -n "$ver" ] || die "postgresql installed but no version found under /etc/postgresql"
    fi
    # the package's own start may already have brought it up
    if ! pg_ready; then
      need_root "PostgreSQL is not running" "pg_ctlcluster --skip-systemctl-redirect $ver main start"
      if [ ! -d "/etc/postgresql/$ver/main" ]; then
        run_logged pg_createcluster "$ver" main
        did+=("created cluster $ver/main")
      fi
      # exit status 2 = already running (e.g. still starting up): the wait below decides
      # shellcheck disable=SC2086
      $AS_ROOT pg_ctlcluster --skip-systemctl-redirect "$ver" main start >>"$LOG" 2>&1 </dev/null || true
      did+=("started cluster $ver/main")
    fi
    if ! wait_for "$PG_WAIT_SECS" pg_ready; then
      echo "ensure-services: PostgreSQL $ver did not accept connections on $PG_HOST:$PG_PORT within ${PG_WAIT_SECS}s" >&2
      tail -n 20 "/var/log/postgresql/postgresql-$ver-main.log" >&2 2>/dev/null || true
      pg_lsclusters >&2 2>/dev/null || true
      exit 1
    fi
    started=1
  fi

  if ! command -v psql >/dev/null 2>&1 || ! command -v pg_isready >/dev/null 2>&1; then
    apt_install postgresql-client
    did+=("installed postgresql-client")
  fi

  # A server we installed or started ourselves: give the URL's role its password,
  # so password (scram) auth over TCP works as the tests expect.
  if [ "$started" = 1 ] && [ -n "$PG_PASS" ]; then
    need_root "the role $PG_USER needs its password" "runuser -u postgres -- psql -c \"ALTER ROLE $PG_USER PASSWORD '...'\""
    if ! as_postgres psql -X -q -v ON_ERROR_STOP=1 -v role="$PG_USER" -v pw="$PG_PASS" >>"$LOG" 2>&1 <<'SQL'
SELECT format('CREATE ROLE %I LOGIN SUPERUSER', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
ALTER ROLE :"role" PASSWORD :'pw';
SQL
    then
      die "could not set the password of role $PG_USER (see $LOG)"
    fi
    did+=("set the password of role $PG_USER")
  fi

  local exists
  if ! exists=$(psql_tcp -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" 2>>"$LOG"); then
    die "PostgreSQL on $PG_HOST:$PG_PORT answers but the query as $PG_USER failed: $(tail -n 1 "$LOG")
If this server's TCP auth wants a password, give the role the one in TEST_DATABASE_URL:
  runuser -u postgres -- psql -c \"ALTER ROLE $PG_USER PASSWORD '<password>'\""
  fi
  if [ "$exists" = 1 ]; then
    did+=("database $PG_DB exists")
  else
    psql_tcp -d postgres -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
    did+=("created database $PG_DB")
  fi

  local state="already running"
  [ "$started" = 0 ] || state="now running"
  echo "postgresql: $state on $PG_HOST:$PG_PORT; $(join "${did[@]}")"
}

# ------------------------------------------------------------------ Redis
redis_ping() {
  if command -v redis-cli >/dev/null 2>&1; then
    [ "$(timeout 5 redis-cli -u "$REDIS_URL_" ping 2>/dev/null)" = PONG ]
  else  # no client: say PING over bash's /dev/tcp
    # shellcheck disable=SC2016  # expanded by the inner bash
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
      printf "PING\r\n" >&3; IFS= read -r reply <&3; [ "${reply%$'"'\r'"'}" = +PONG ]' \
      "$R_HOST" "$R_PORT" 2>/dev/null
  fi
}

ensure_redis() {
  local did=()
  if redis_ping; then
    echo "redis: already running on $R_HOST:$R_PORT"
    return 0
  fi
  is_local "$R_HOST" || die "Redis at $R_HOST:$R_PORT does not answer (not a local address, so not starting one)"
  if ! command -v redis-server >/dev/null 2>&1; then
    apt_install redis-server
    did+=("installed redis-server")
  fi
  if ! redis_ping; then  # the package's own start may already have brought it up
    need_root "Redis is not running" "redis-server --daemonize yes --bind 127.0.0.1 --port $R_PORT --save \"\" --appendonly no"
    run_logged redis-server --daemonize yes --bind 127.0.0.1 --port "$R_PORT" --save "" --appendonly no
    did+=("started redis-server")
  fi
  wait_for "$REDIS_WAIT_SECS" redis_ping \
    || die "Redis did not answer PING on $R_HOST:$R_PORT within ${REDIS_WAIT_SECS}s (see $LOG)"
  echo "redis: now running on $R_HOST:$R_PORT; $(join "${did[@]}")"
}

ensure_postgres
ensure_redis
