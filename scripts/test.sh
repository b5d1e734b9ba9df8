#!/usr/bin/env bash
# The project's test command:
#
#   ./scripts/test.sh [runner args...]      e.g. ./scripts/test.sh -E 'test(kpi)'
#
# 1. scripts/ensure-services.sh: PostgreSQL and Redis up, database adscale_test
#    present (set SKIP_ENSURE_SERVICES=1 to skip, e.g. with remote services);
# 2. exports the test connection settings (defaults below, override either);
# 3. runs the whole workspace once with cargo-nextest (installed with
#    `cargo install cargo-nextest --locked` when missing), or with
#    `cargo test` if nextest cannot be had. Extra args go to the runner.
# Ends with the runner's summary line; exits with the runner's status.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/adscale_test}
export TEST_REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379}

if [ "${SKIP_ENSURE_SERVICES:-0}" != 1 ]; then
  ./scripts/ensure-services.sh
fi

have_nextest() { cargo nextest --version >/dev/null 2>&1; }
if ! have_nextest; then
  echo "test.sh: cargo-nextest not found; installing it: cargo install cargo-nextest --locked" >&2
  cargo install cargo-nextest --locked \
    || echo "test.sh: could not install cargo-nextest; falling back to cargo test" >&2
fi

# Output is also kept in a file to find the summary line; keep colours on a terminal.
if [ -t 1 ] && [ -z "${CARGO_TERM_COLOR:-}" ]; then export CARGO_TERM_COLOR=always; fi
log=$(mktemp "${TMPDIR:-/tmp}/adscale-test.XXXXXX")
trap 'rm -f "$log"' EXIT
plain() { sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$log"; }

rc=0
if have_nextest; then
  cargo nextest run --workspace --all-features "$@" 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}
  summary=$(plain | grep -E '^[[:space:]]*Summary \[' | tail -n 1 | sed 's/^[[:space:]]*//' || true)
else
  cargo test --workspace --all-features "$@" 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}
  # cargo test prints one "test result:" line per test binary; add them up
  summary=$(plain | awk '/^test result:/ {
      for (i = 1; i <= NF; i++) {
        if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i
      } n++ }
    END { if (n) printf "summary: %d passed, %d failed, %d skipped\n", p, f, s }')
fi

# The summary is the closing line; repeat it when the runner printed more after it.
last=$(plain | grep -v '^[[:space:]]*$' | tail -n 1 | sed 's/^[[:space:]]*//' || true)
if [ -z "$summary" ]; then
  echo "test.sh: the runner printed no summary line (exit status $rc)" >&2
elif [ "$summary" != "$last" ]; then
  echo "$summary"
fi
exit "$rc"
