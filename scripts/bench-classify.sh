#!/usr/bin/env bash
# The classification benchmark of docs/BENCHMARKS.md: installs ripgrep (once, into .cache/tools), then runs the
# criterion bench, which also times `rg -c -f` and `grep -E -c -f` on the same generated 1 GiB log.
# Environment knobs (see crates/medic-rules/benches/classify.rs): MEDIC_BENCH_BYTES, MEDIC_BENCH_EXTRA_RULES,
# MEDIC_BENCH_NAIVE_BYTES, MEDIC_BENCH_TOOL_RUNS.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-ripgrep.sh
cargo bench -p medic-rules --bench classify "$@"
