#!/usr/bin/env bash
# Ingestion benchmark (issue "ingestion"): 10 ad accounts × 200 campaigns ×
# 5 ads × 90 days = 900,000 daily insight rows served by a local fake Graph
# API (pre-rendered pages of 500, async report runs), synced end to end into
# PostgreSQL (bronze pages, silver upserts, gold refresh) by the production
# code path, then synced again (the re-run must change nothing).
#
# usage: bench/ingest.sh            (PostgreSQL + Redis, as in production)
#        BENCH_CONCURRENCY=4 bench/ingest.sh
#
# Environment: PGHOST/PGPORT/PGUSER (127.0.0.1/5432/postgres), ADSCALE_INGEST_DB
# (adscale_ingest; dropped and re-created each run), REDIS_URL
# (redis://127.0.0.1:6379; set to "none" for no Redis), BENCH_ACCOUNTS,
# BENCH_CAMPAIGNS, BENCH_DAYS, BENCH_CONCURRENCY (default 2, like WORKER_CONCURRENCY).
set -euo pipefail
cd "$(dirname "$0")/.."

PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
DB=${ADSCALE_INGEST_DB:-adscale_ingest}
export PGHOST PGPORT PGUSER
psql -q -d postgres -c "DROP DATABASE IF EXISTS ${DB}" -c "CREATE DATABASE ${DB}"
export BENCH_DATABASE_URL="postgres://${PGUSER}@${PGHOST}:${PGPORT}/${DB}"
redis=${REDIS_URL:-redis://127.0.0.1:6379}
if [ "$redis" != none ]; then export BENCH_REDIS_URL="$redis"; fi
cargo bench -p adscale --bench ingestion
