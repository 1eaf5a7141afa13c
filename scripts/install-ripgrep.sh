#!/usr/bin/env bash
# Installs ripgrep (for the classification benchmark's comparison) into .cache/tools, once.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.cache/tools"
if [ -x "$tools/bin/rg" ]; then
  exit 0
fi
mkdir -p "$tools"
cargo install --locked --root "$tools" ripgrep >&2
