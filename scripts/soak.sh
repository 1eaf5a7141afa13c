#!/usr/bin/env bash
# The soak at length: crates/medic/tests/soak.rs with CYCLES kill -9 cycles (default 20) of CYCLE_MS milliseconds
# (default 3000) on each backend; prints acknowledged against lost for each. CI runs 2 short cycles as part of the
# test suite. The debug build the test suite makes is enough: the soak measures what survives, not speed.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/medic/target}"
scripts/ensure-postgres.sh
SOAK_CYCLES="${1:-20}" SOAK_CYCLE_MS="${2:-3000}" \
  cargo test --locked -q -p medic --test soak -- --nocapture --test-threads 1 2>&1 | grep -oE 'soak \(.*|panicked.*|FAILED.*|test result.*'
