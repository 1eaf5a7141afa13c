#!/usr/bin/env bash
# The whole test suite: formatting, lints, architecture invariants, then every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
scripts/check-invariants.sh
scripts/ensure-postgres.sh
cargo test --workspace --locked
