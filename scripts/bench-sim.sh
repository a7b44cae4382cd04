#!/usr/bin/env bash
# Compares the speed of graft's reference simulator (the fp32 numerics that
# `graft sim --mode fp32` runs) with ONNX Runtime's CPU inference on the same
# models, in the same run, and prints the ratio per model (target: no worse
# than 3x).  Two thread counts, the same on both sides:
#   1 thread:  OPENBLAS_NUM_THREADS=1 (the simulator's only threads are
#              OpenBLAS's) and ONNX Runtime intraOpNumThreads=1;
#   N threads: N = THREADS (default nproc), OPENBLAS_NUM_THREADS=N and
#              intraOpNumThreads=N.
# ONNX Runtime runs sequentially (interOpNumThreads=1) with its default graph
# optimisations ('all'); the simulator runs the graph as it is.  Each of
# ROUNDS rounds runs every side once per thread count, one after the other,
# so both sides see the same machine load; each run reports the median and
# the fastest of its timed runs.  The table shows the median over the rounds
# and their ratio (the figure the target is about), and the ratio of the
# fastest runs seen on either side (what a quiet machine would show).  The
# cycle model's own time (the median) is listed too.
#
# Usage: scripts/bench-sim.sh [BUILD_DIR] [MODELDIR...]
#   BUILD_DIR defaults to build/ (a Release build is what to measure);
#   models default to ../shared/models/*/.  ROUNDS (default 5) and RUNS
#   (timed runs per side and round, default 10) come from the environment.
# Needs Node.js; installs onnxruntime-node with scripts/ort-setup.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
shift || true
if [ $# -eq 0 ]; then
  set -- "$here"/../shared/models/*/
fi
export ORT_DIR=${ORT_DIR:-$here/.cache/ort}
rounds=${ROUNDS:-5}
runs=${RUNS:-10}
threads=${THREADS:-$(nproc)}

cmake --build "$build" --target bench_sim >/dev/null
if ! "$here/scripts/ort-setup.sh"; then
  echo "bench-sim: ONNX Runtime is unavailable; nothing to compare with" >&2
  exit 2
fi

echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), load average" \
  "$(cut -d' ' -f1-3 /proc/loadavg) before the run"

# Lines "TAG NAME key=value ...", TAG = side and thread count.
samples() {
  for _ in $(seq "$rounds"); do
    for t in $(printf '1\n%s\n' "$threads" | sort -un); do
      OPENBLAS_NUM_THREADS=$t "$build/bench/bench_sim" --runs "$runs" "$@" | sed "s/^/S$t /"
      node "$here/bench/ort_bench.js" --runs "$runs" --threads "$t" "$@" | sed "s/^/O$t /"
    done
  done
}

samples "$@" | awk -v n="$threads" -v rounds="$rounds" '
  function val(s) { sub(/^[A-Za-z0-9_]+=/, "", s); return s + 0 }
  function median(key,   k, i, j, t, v) {
    k = cnt[key]
    for (i = 1; i <= k; i++) v[i] = x[key, i]
    for (i = 2; i <= k; i++)
      for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
  }
  function add(key, value) { x[key, ++cnt[key]] = value }
  function low(key, value) { if (!(key in best) || value < best[key]) best[key] = value }
  {
    if (!($2 in names)) order[++nm] = $2
    names[$2] = 1
    add($1 SUBSEP $2, val($3))
    low($1 SUBSEP $2, val($4))
    if ($1 == "S1") add("C" SUBSEP $2, val($5))
  }
  function row(m, t,   s, o) {
    s = median("S" t SUBSEP m); o = median("O" t SUBSEP m)
    if (s / o > worst[t]) worst[t] = s / o
    return sprintf(" %9.2f %9.2f %6.2fx %6.2fx", s, o, s / o, best["S" t SUBSEP m] / best["O" t SUBSEP m])
  }
  END {
    printf "%d rounds; times in ms (medians); ratio = sim / ort, best = fastest sim / fastest ort\n", rounds
    printf "%-14s %9s %9s %7s %7s %9s %9s %7s %7s %8s\n", "model", "sim 1t", "ort 1t", "ratio", "best",
           "sim " n "t", "ort " n "t", "ratio", "best", "cost"
    for (i = 1; i <= nm; i++) {
      m = order[i]
      printf "%-14s%s%s %8.3f\n", m, row(m, 1), row(m, n), median("C" SUBSEP m)
    }
    printf "worst ratio: %.2fx at 1 thread, %.2fx at %d threads; target (<= 3x) %s\n", worst[1], worst[n], n,
           worst[1] <= 3 && worst[n] <= 3 ? "met" : "missed"
  }'
