#!/usr/bin/env bash
# medic against today's retry policies on every fleet of crates/medic-sim/fleets (or the files given), one row per
# fleet and policy: memory failures fixed on the first retry, all failures fixed, failure cost, retries wrongly
# disabled (as a share of failures), and whether another policy both fixes more failures and costs less than medic.
#
#   scripts/bench-fleets.sh                       # every fleet file, the five policies without right-sizing
#   scripts/bench-fleets.sh crates/medic-sim/fleets/tight.yaml
#   MEDIC_POLICIES=blind_retry,rules_only,vpa_bump,double_memory,medic,medic_prevention scripts/bench-fleets.sh
#   scripts/bench-fleets.sh crates/medic-sim/fleets/stress/*.yaml   # the stress fleets (fleets/stress/)
#   MEDIC_SEED=99 scripts/bench-fleets.sh          # every fleet with another seed: other jobs, inputs and bad luck
#
# With medic_prevention among the policies, a second table compares it with medic (remediation alone) over the last
# half of the compared days: first attempts failing for memory, recurring memory failures, executor heap requested
# over used, compute cost, failure cost against blind retry's, and the policy cheapest in all (compute and people).
#
# Uses target/release/medic (or $MEDIC_BIN); builds it when missing. Each fleet takes about a minute on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${MEDIC_BIN:-${CARGO_TARGET_DIR:-target}/release/medic}
if [ ! -x "$bin" ]; then
  cargo build --release --locked -p medic
fi
fleets=("$@")
if [ ${#fleets[@]} -eq 0 ]; then
  fleets=(crates/medic-sim/fleets/*.yaml)
fi
policies=${MEDIC_POLICIES:-blind_retry,rules_only,vpa_bump,double_memory,medic}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for fleet in "${fleets[@]}"; do
  name=$(basename "$fleet" .yaml)
  "$bin" simulate --fleet "$fleet" --json --policies "$policies" ${MEDIC_SEED:+--seed "$MEDIC_SEED"} \
    --out "$out/$name" >"$out/$name.json"
done

python3 - "$out" "${fleets[@]}" <<'EOF'
import json, os, sys
out, fleets = sys.argv[1], sys.argv[2:]
print("| fleet | policy | memory failures | fixed on 1st retry | all fixed | failure cost | wrongly disabled | dominated by |")
print("|---|---|---:|---:|---:|---:|---:|---|")
for fleet in fleets:
    name = os.path.basename(fleet)[:-len(".yaml")]
    with open(os.path.join(out, name + ".json")) as f:
        policies = json.load(f)["policies"]
    medic = policies.get("medic")
    for policy, s in policies.items():
        dominated = ""
        if policy == "medic":
            # Only today's policies: medic's own flavours are not what it competes with.
            better = [p for p, o in policies.items() if not p.startswith("medic")
                      and o["failures_fixed"] > s["failures_fixed"] and o["failure_cost"] < s["failure_cost"]]
            dominated = ", ".join(better) or "none"
        print(f"| {name} | {policy} | {s['memory_failures']} | {100 * s['memory_fixed_first_retry']:.1f} % | "
              f"{100 * s['failures_fixed']:.1f} % | ${s['failure_cost']:.2f} | "
              f"{100 * s['retries_wrongly_disabled'] / max(s['failures'], 1):.1f} % | {dominated} |")

rows = []
for fleet in fleets:
    name = os.path.basename(fleet)[:-len(".yaml")]
    with open(os.path.join(out, name + ".json")) as f:
        comparison = json.load(f)
    p = comparison.get("prevention")
    if p is None:
        continue
    policies = comparison["policies"]
    without, full = policies["medic"], policies["medic_prevention"]
    blind = policies.get("blind_retry")
    of_blind = f"{100 * full['failure_cost'] / blind['failure_cost']:.0f} %" if blind else "-"
    cheapest = min(policies, key=lambda name: policies[name]["failure_cost_with_humans"])
    recurring = p["recurring_memory_failures_without"]
    cut = f"{100 * (1 - p['recurring_memory_failures_with'] / recurring):.0f} %" if recurring else "-"
    s = p["sizing"]
    rows.append(f"| {name} | {100 * p['first_attempt_memory_failure_rate_without']:.2f} % → "
                f"{100 * p['first_attempt_memory_failure_rate_with']:.2f} % | "
                f"{recurring} → {p['recurring_memory_failures_with']} (−{cut}) | "
                f"{s['requested_over_used_before']:.2f}× → {s['requested_over_used_after']:.2f}× | "
                f"{100 * (full['total_cost'] / without['total_cost'] - 1):+.1f} % | {of_blind} | "
                f"{p['carried_fixes']} ({p['carried_fixes_revoked']}) | {cheapest} |")
if rows:
    print()
    print("| fleet | 1st attempts failing for memory | recurring memory failures | heap requested / used | "
          "compute cost vs medic | failure cost / blind retry's | carried fixes (revoked) | cheapest in all |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    print("\n".join(rows))
EOF
