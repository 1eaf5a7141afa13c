#!/usr/bin/env bash
# Architecture invariants that the compiler does not enforce (see ARCHITECTURE.md, "Invariants").
set -euo pipefail
cd "$(dirname "$0")/.."

fail=0
forbid() { # crate, regex of dependency names it must not reach, reason
  local crate=$1 pattern=$2 reason=$3 found
  found=$(cargo tree --locked -p "$crate" -e normal --prefix none --format '{p}' 2>/dev/null | awk '{print $1}' | sort -u | grep -E "^($pattern)$" || true)
  if [ -n "$found" ]; then
    echo "invariant broken: $crate depends on $(echo "$found" | tr '\n' ' ')— $reason" >&2
    fail=1
  fi
}

forbid medic-core 'regex|regex-automata|tokio|sqlx|axum|anyhow|serde-saphyr|walkdir|flate2|utoipa' \
  'medic-core holds domain types only: no I/O, no engines'
forbid medic-rules 'anyhow|tokio|sqlx|axum|hyper|tower|http|utoipa|candle-core' \
  'the rule engine is a pure library: typed errors, no runtime, no database, no model'

forbid medic-store 'anyhow|axum|hyper|tower|http|candle-core|regex|utoipa' \
  'the store persists data: no HTTP (status codes live in the server), no model, no rule engine'

forbid medic-model 'anyhow|tokio|sqlx|axum|hyper|regex' \
  'the model learns from records and answers predictions: no runtime, no database, no HTTP, no rule engine'

forbid medic-recommend 'tokio|sqlx|axum|hyper|medic-store|medic-rules' \
  'the recommender searches a model: no runtime, no database, no HTTP, no rule engine (callers classify); egobox brings anyhow and regex, which medic code does not use'

forbid medic-scheduler 'anyhow|tokio|sqlx|axum|hyper|candle-core|regex|medic-model|medic-store' \
  'the scheduler runs jobs and asks a Remediator: it knows neither the model nor the store nor HTTP'

forbid medic-spark 'anyhow|tokio|sqlx|axum|hyper|tower|http|ureq|utoipa|candle-core|regex|medic-model|medic-store|medic-server|medic-rules|medic-recommend' \
  'the Spark runner submits jobs and reads event logs: it knows neither HTTP nor the store nor the model nor the rule engine (the remediator classifies)'

forbid medic-sim 'anyhow|tokio|sqlx|axum|hyper|tower|http|ureq|utoipa|candle-core|medic-model|medic-store|medic-server|medic-recommend|medic-spark' \
  'the simulator runs policies through the scheduler: medic reaches it only as a Remediator, never as the store, the model or the recommender'

forbid medic-rightsize 'anyhow|axum|hyper|tower|http|ureq|utoipa|candle-core|regex|medic-model|medic-server|medic-rules|medic-recommend|medic-scheduler|medic-sim|medic-spark' \
  'right-sizing reads attempts and writes patches through the store: no HTTP, no model, no recommender, no rule engine, no scheduler'

# anyhow belongs to the binary only.
if grep -rl --include=Cargo.toml '^anyhow' crates | grep -v '^crates/medic/Cargo.toml$'; then
  echo "invariant broken: only crates/medic may depend on anyhow" >&2
  fail=1
fi

exit $fail
