#!/usr/bin/env bash
# The trade-off right-sizing's margin makes for the full medic (remediation, carried fixes, right-sizing down and
# up): a smaller margin asks for less memory over what the jobs use, and lets more first attempts run out of it.
# Runs `medic simulate --policies medic,medic_prevention` once per margin (with the default spread and without it),
# prints one table row per run and draws the curve (executor heap requested / used against first attempts failing
# for memory, over the last half of the compared days) as an SVG.
#
#   scripts/bench-tradeoff.sh                                    # default fleet, docs/prevention-tradeoff.svg
#   scripts/bench-tradeoff.sh crates/medic-sim/fleets/noisy.yaml /tmp/noisy-tradeoff.svg
#
# Uses target/release/medic (or $MEDIC_BIN); builds it when missing. Each point takes about half a minute.
set -euo pipefail
cd "$(dirname "$0")/.."

fleet=${1:-crates/medic-sim/fleets/default.yaml}
svg=${2:-docs/prevention-tradeoff.svg}
margins=${MEDIC_MARGINS:-0 0.05 0.1 0.2 0.3}
bin=${MEDIC_BIN:-${CARGO_TARGET_DIR:-target}/release/medic}
if [ ! -x "$bin" ]; then
  cargo build --release --locked -p medic
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for spread in 1.5 0; do
  for margin in $margins; do
    name="margin-$margin-spread-$spread"
    printf 'margin: %s\nspread: %s\n' "$margin" "$spread" >"$out/$name.yaml"
    "$bin" simulate --fleet "$fleet" --json --policies medic,medic_prevention \
      --rightsize-policy "$out/$name.yaml" --out "$out/$name" >"$out/$name.json"
  done
done

python3 - "$out" "$svg" "$fleet" $margins <<'EOF'
import json, os, sys
out, svg, fleet, margins = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
series = {}
print(f"fleet {fleet}, medic_prevention against medic over the last half of the compared days")
print()
print("| margin | spread | heap requested / used | 1st attempts failing for memory | recurring memory failures | "
      "compute cost vs medic (last half) | failure cost (compute) | carried fixes (revoked) |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
for spread in ["1.5", "0"]:
    for margin in margins:
        with open(os.path.join(out, f"margin-{margin}-spread-{spread}.json")) as f:
            comparison = json.load(f)
        p, s = comparison["prevention"], comparison["prevention"]["sizing"]
        full = comparison["policies"]["medic_prevention"]
        ratio, rate = s["requested_over_used_after"], 100 * p["first_attempt_memory_failure_rate_with"]
        series.setdefault(spread, []).append((margin, ratio, rate))
        print(f"| {margin} | {spread} | {ratio:.2f}× | {rate:.2f} % | {p['recurring_memory_failures_with']} | "
              f"{-100 * s['cost_saved_fraction']:+.1f} % | ${full['failure_cost']:.2f} | "
              f"{p['carried_fixes']} ({p['carried_fixes_revoked']}) |")

# The curve, drawn by hand: one SVG, no plotting library to install.
width, height, left, bottom, top, right = 640, 420, 70, 60, 40, 30
points = [pt for pts in series.values() for pt in pts]
x_lo, x_hi = min(p[1] for p in points) - 0.05, max(p[1] for p in points) + 0.05
y_hi = max(max(p[2] for p in points) * 1.15, 0.1)
def x(v): return left + (v - x_lo) / (x_hi - x_lo) * (width - left - right)
def y(v): return height - bottom - v / y_hi * (height - bottom - top)
parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
         '<rect width="100%" height="100%" fill="white"/>',
         f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="14">full medic: margin against memory failures and over-provisioning ({os.path.basename(fleet)})</text>',
         f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="black"/>',
         f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>',
         f'<text x="{(left + width - right) / 2}" y="{height - 20}" text-anchor="middle">executor heap requested / used (last half of the compared days)</text>',
         f'<text transform="translate(18,{(top + height - bottom) / 2}) rotate(-90)" text-anchor="middle">first attempts failing for memory (%)</text>']
for i in range(6):
    xv, yv = x_lo + i * (x_hi - x_lo) / 5, i * y_hi / 5
    parts.append(f'<text x="{x(xv)}" y="{height - bottom + 16}" text-anchor="middle">{xv:.2f}×</text>')
    parts.append(f'<text x="{left - 6}" y="{y(yv) + 4}" text-anchor="end">{yv:.2f}</text>')
for (spread, pts), colour in zip(series.items(), ["#1f77b4", "#d62728"]):
    path = " ".join(f"{x(r):.1f},{y(f):.1f}" for _, r, f in pts)
    parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
    for margin, r, f in pts:
        parts.append(f'<circle cx="{x(r):.1f}" cy="{y(f):.1f}" r="4" fill="{colour}"/>')
        parts.append(f'<text x="{x(r) + 6:.1f}" y="{y(f) - 6:.1f}" fill="{colour}">{margin}</text>')
    legend_y = top + 16 * (list(series).index(spread) + 1)
    parts.append(f'<text x="{width - right - 10}" y="{legend_y}" text-anchor="end" fill="{colour}">spread {spread} (labels: margin)</text>')
parts.append("</svg>")
with open(svg, "w") as f:
    f.write("\n".join(parts) + "\n")
print()
print(f"curve: {svg}")
EOF
