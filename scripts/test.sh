#!/usr/bin/env bash
# The whole test suite: formatting, lints, architecture invariants, then every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build outside the clone unless told otherwise, so that CI's fresh clones reuse what earlier runs compiled (a new
# machine simply starts with an empty cache).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/medic/target}"

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
scripts/check-invariants.sh
scripts/ensure-postgres.sh
cargo test --workspace --locked
