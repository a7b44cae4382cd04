#!/usr/bin/env bash
# Compares the speed of graft's reference simulator (the fp32 numerics that
# `graft sim --mode fp32` runs) with ONNX Runtime's CPU inference on the same
# models, in the same run, and prints the ratio (target: no worse than 3x).
# Both run with one thread (OPENBLAS_NUM_THREADS=1, intraOpNumThreads 1), then
# with their defaults.  The cycle model's own time is listed too.
#
# Usage: scripts/bench-sim.sh [BUILD_DIR] [MODELDIR...]
#   BUILD_DIR defaults to build/ (a Release build is what to measure);
#   models default to ../shared/models/*/.
# Needs Node.js; installs onnxruntime-node with scripts/ort-setup.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
shift || true
if [ $# -eq 0 ]; then
  set -- "$here"/../shared/models/*/
fi
export ORT_DIR=${ORT_DIR:-$here/.cache/ort}

cmake --build "$build" --target bench_sim >/dev/null
if ! "$here/scripts/ort-setup.sh"; then
  echo "bench-sim: ONNX Runtime is unavailable; nothing to compare with" >&2
  exit 2
fi

sim1=$(OPENBLAS_NUM_THREADS=1 "$build/bench/bench_sim" "$@")
simn=$("$build/bench/bench_sim" "$@")
ort=$(node "$here/bench/ort_bench.js" "$@")

# Lines are "NAME key=value ...": join the three runs by NAME.
{
  echo "$sim1" | sed 's/^/S1 /'
  echo "$simn" | sed 's/^/SN /'
  echo "$ort" | sed 's/^/O /'
} | awk '
  function val(s) { sub(/^[A-Za-z0-9_]+=/, "", s); return s + 0 }
  $1 == "S1" { names[$2] = 1; s1[$2] = val($3); cost[$2] = val($4) }
  $1 == "SN" { sn[$2] = val($3) }
  $1 == "O"  { o1[$2] = val($3); on[$2] = val($4) }
  END {
    printf "%-16s %12s %12s %7s %12s %12s %7s %9s\n", "model", "sim 1t ms", "ort 1t ms", "ratio",
           "sim ms", "ort ms", "ratio", "cost ms"
    worst = 0
    for (m in names) {
      r1 = s1[m] / o1[m]; rn = sn[m] / on[m]
      if (r1 > worst) worst = r1
      printf "%-16s %12.2f %12.2f %6.2fx %12.2f %12.2f %6.2fx %9.3f\n", m, s1[m], o1[m], r1, sn[m], on[m], rn, cost[m]
    }
    printf "worst single-thread ratio %.2fx: target (<= 3x) %s\n", worst, worst <= 3 ? "met" : "missed"
  }'
