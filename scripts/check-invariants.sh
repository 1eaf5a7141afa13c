#!/usr/bin/env bash
# Architecture invariants that the compiler does not enforce (see ARCHITECTURE.md, "Invariants").
#
# 1. Dependencies by allow-list: every workspace crate says which workspace crates and which I/O-bearing or engine
#    crates (the WATCHED list) it may reach, directly or not. A new crate, or a new edge to a watched crate, fails
#    here until it is added to the table on purpose (and to ARCHITECTURE.md).
# 2. Source greps for what dependencies cannot show: no I/O where a crate claims none, no clock reads outside
#    medic-core's clock, no HTTP route types in the binary.
#
# Any failure of `cargo tree` or `cargo metadata` fails the check: an invariant that cannot be checked is broken.
set -euo pipefail
cd "$(dirname "$0")/.."

fail=0
broken() {
  echo "invariant broken: $*" >&2
  fail=1
}

# Crates whose reach is an architectural decision: runtimes, databases, HTTP, engines, the binary's own tools.
WATCHED='tokio sqlx axum hyper tower http ureq candle-core egobox-ego regex flate2 walkdir zstd plotters anyhow
clap indicatif mimalloc tracing-subscriber prometheus-client utoipa'

# crate | workspace crates it may reach | watched crates it may reach (default features, normal dependencies)
ALLOWED=$(cat <<'EOF'
medic-core       |                                                        |
medic-api        | medic-core                                             |
medic-rules      | medic-core                                             | regex flate2 walkdir
medic-store      | medic-core                                             | sqlx tokio
medic-model      | medic-core                                             | candle-core
medic-recommend  | medic-core medic-model                                 | candle-core egobox-ego regex anyhow clap flate2
medic-scheduler  | medic-core                                             |
medic-spark      | medic-core medic-scheduler medic-collect               | zstd ureq http
medic-bench      | medic-core medic-scheduler                             |
medic-sim        | medic-core medic-rules medic-scheduler                 | regex flate2 walkdir
medic-rightsize  | medic-core medic-store                                 | sqlx tokio
medic-training   | medic-core medic-model medic-store                     | sqlx tokio candle-core plotters
medic-service    | medic-core medic-api medic-model medic-recommend medic-rules medic-store | sqlx tokio candle-core egobox-ego regex anyhow clap flate2 walkdir
medic-client     | medic-core medic-api medic-rules medic-scheduler       | ureq http regex flate2 walkdir
medic-collect    | medic-core                                             | ureq http
medic-compare    | medic-core medic-api medic-client medic-model medic-recommend medic-rightsize medic-rules medic-scheduler medic-service medic-sim medic-store medic-training | sqlx tokio candle-core egobox-ego regex anyhow clap flate2 walkdir ureq http plotters
medic-print      | medic-core medic-api medic-bench medic-client medic-compare medic-model medic-recommend medic-rightsize medic-rules medic-scheduler medic-service medic-sim medic-store medic-training | sqlx tokio candle-core egobox-ego regex anyhow clap flate2 walkdir ureq http plotters
medic-server     | medic-core medic-api medic-client medic-model medic-recommend medic-rules medic-scheduler medic-service medic-store | axum hyper tower http tokio sqlx ureq candle-core egobox-ego regex anyhow clap flate2 walkdir prometheus-client utoipa
medic            | * | *
EOF
)
# Why some of those: egobox-ego brings anyhow, regex, clap and flate2 with it (medic's own code in medic-recommend
# uses none of them); ureq brings http. `*`: the binary is where everything meets.

members=$(cargo metadata --no-deps --format-version 1 --locked |
  python3 -c 'import json,sys; print("\n".join(sorted(p["name"] for p in json.load(sys.stdin)["packages"])))')
[ -n "$members" ] || { echo "cannot list the workspace's crates" >&2; exit 1; }

for crate in $members; do
  line=$(echo "$ALLOWED" | awk -F'|' -v c="$crate" '{name = $1; gsub(/ /, "", name)} name == c')
  if [ -z "$line" ]; then
    broken "$crate is not in scripts/check-invariants.sh's table: say which crates it may depend on"
    continue
  fi
  allowed_ws=$(echo "$line" | cut -d'|' -f2 | xargs)
  allowed_watched=$(echo "$line" | cut -d'|' -f3 | xargs)
  if ! tree=$(cargo tree --locked -p "$crate" -e normal --prefix none --format '{p}' 2>&1); then
    echo "$tree" >&2
    broken "cargo tree -p $crate failed"
    continue
  fi
  reached=$(echo "$tree" | awk '{print $1}' | sort -u | grep -vx "$crate" || true)
  for dep in $reached; do
    if echo "$members" | grep -qx "$dep"; then
      [ "$allowed_ws" = "*" ] || echo " $allowed_ws " | grep -q " $dep " ||
        broken "$crate depends on $dep, which its row in the table does not allow"
    elif echo " $WATCHED " | tr '\n' ' ' | grep -q " $dep "; then
      [ "$allowed_watched" = "*" ] || echo " $allowed_watched " | grep -q " $dep " ||
        broken "$crate reaches $dep, which its row in the table does not allow"
    fi
  done
done

# anyhow belongs to the binary only: no library names it as a dependency of its own.
if grep -l --include=Cargo.toml -r '^anyhow' crates | grep -v '^crates/medic/Cargo.toml$'; then
  broken "only crates/medic may depend on anyhow"
fi

# Source greps. `forbid_in PATHS PATTERN REASON`: no line of the Rust files under PATHS matches PATTERN.
forbid_in() {
  local paths=$1 pattern=$2 reason=$3 found
  # shellcheck disable=SC2086
  found=$(grep -rnE --include='*.rs' "$pattern" $paths || true)
  if [ -n "$found" ]; then
    echo "$found" >&2
    broken "$reason"
  fi
}
IO='std::(fs|net|process)|File::(open|create)|std::io::(stdin|stdout|stderr)|TcpStream|Command::new'
forbid_in 'crates/medic-core/src crates/medic-api/src crates/medic-print/src' "$IO|println!|eprintln!" \
  'medic-core, medic-api and medic-print do no I/O: callers open files and sockets and pass readers, writers or values'
forbid_in 'crates/medic-rightsize/src/plan.rs crates/medic-rightsize/src/estimate.rs' "$IO|\.now\(\)" \
  "planning a right-size does no I/O and reads no clock: the store's clock, read by the caller, says what now is"
CLOCK='SystemTime::now|OffsetDateTime::now_(utc|local)|Utc::now|Local::now'
found=$(grep -rnE --include='*.rs' "$CLOCK" crates/*/src | grep -v '^crates/medic-core/src/clock.rs:' || true)
if [ -n "$found" ]; then
  echo "$found" >&2
  broken "the wall clock is read only in medic-core's clock module; everything else takes a Clock"
fi
forbid_in 'crates/medic/src' 'medic_server::routes|axum' \
  'the binary calls libraries: it serves medic_server::app and never reaches into the routes or axum'

exit $fail
