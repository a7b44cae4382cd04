#!/usr/bin/env bash
# The rule engine's speed (docs/engine.md, section 9, and docs/benchmarks.md):
# builds graft in Release (link-time optimised with gcc) and runs
# bench/bench_engine, which prints
#   1. a rule set of 23 rules (rules.d + bench/bench_rules.yaml) on synthetic
#      graphs of 10,000 to 1,000,000 nodes, a dense mix (40% of the nodes
#      rewritten, BatchNorms folded) and a sparse one: wall and CPU time of
#      the rewrite, time per node, graph size and memory;
#   2. per model of ../shared/models, graft's rewrite phase against ONNX
#      Runtime's graph optimisation (session creation at `extended` minus
#      `disabled`, in process), and a whole `graft opt` process against a
#      whole process that loads the model in ONNX Runtime, optimises it at
#      `extended` and saves it; ratios above 1 mean graft is faster.
# Targets: 1,000,000 nodes under 1 s with near-linear growth; rewrite phase
# >= 3x and whole process >= 5x faster than ONNX Runtime on every model.
# Timings are medians of RUNS runs; a busy machine inflates them (the load
# average is printed first).
#
# Usage: scripts/bench-engine.sh [BUILD_DIR] [bench_engine options...]
#   BUILD_DIR defaults to build-release/ (configured as a Release build);
#   options: --sizes N,N,... --mix dense|sparse --no-models --no-ort.
#   RUNS (timed runs per measurement, default 9) comes from the environment.
# ONNX Runtime comes from scripts/ort-setup.sh (Node.js); without it only
# graft's side is measured.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$here/build-release
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  build=$1
  shift
fi
runs=${RUNS:-9}

cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target graft bench_engine >/dev/null
ort=()
if ! "$here/scripts/ort-setup.sh"; then
  echo "bench-engine: ONNX Runtime is unavailable: graft's side only" >&2
  ort=(--no-ort)
fi
echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), load average" \
  "$(cut -d' ' -f1-3 /proc/loadavg) before the run"
"$build/bench/bench_engine" --runs "$runs" "${ort[@]}" "$@"
