#!/usr/bin/env bash
# The bundled example end to end, on a fresh machine: install the simulators if missing, build
# bramble, compress the digits MLP, score the golden model against the float network (no numpy),
# generate the accelerator for a PYNQ-Z2 (xc7z020) and check it bit-exact under Icarus and Verilator.
# Works from any directory: OUT (default: target/digits in the repository) may be relative to the
# directory you run it from, and so may BRAMBLE_SIM_CACHE.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd -P)"
out="${OUT:-$root/target/digits}"
need=()
for t in verilator iverilog yosys g++ make python3; do command -v "$t" >/dev/null || need+=("$t"); done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q verilator iverilog yosys g++ make zlib1g-dev python3
  else
    echo "missing: ${need[*]}; install them, e.g. sudo apt-get install verilator iverilog yosys g++ make python3" >&2
    exit 1
  fi
fi
# BRAMBLE_BIN: use an already built (or installed) bramble instead of building one here.
if [ -n "${BRAMBLE_BIN:-}" ]; then
  bramble="$BRAMBLE_BIN"
else
  cargo build --release -q -p bramble --manifest-path "$root/Cargo.toml"
  bramble="${CARGO_TARGET_DIR:-$root/target}/release/bramble"
fi
mkdir -p "$out"
ex="$root/examples/digits"
"$bramble" compress "$ex/digits.yaml" -o "$out/digits.model" --force
"$bramble" inspect "$out/digits.model"
"$bramble" infer "$out/digits.model" --input "$ex/test_x.npy" --json > "$out/infer.json"
# Accuracy without Python: the float network and the fixed-point golden model side by side.
"$bramble" compare "$ex/digits.yaml" --input "$ex/test_x.npy" --labels "$ex/test_y.npy"
"$bramble" generate "$out/digits.model" --part xc7z020 --tb-input "$ex/test_x.npy" -o "$out/bundle" --force
"$bramble" verify "$out/bundle"
"$bramble" sim "$out/bundle" --input "$ex/test_x.npy" --json > "$out/sim.json"
python3 - "$out/infer.json" "$out/sim.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
same = a["raw"] == b["raw"]
c = b["cycles"]
print(f"simulated hardware vs golden model: {'identical' if same else 'DIFFERENT'} raw outputs on {len(c)} inputs; cycles per inference {min(c)}..{max(c)}")
sys.exit(0 if same else 1)
PY
