#!/usr/bin/env bash
# Sets graft up (scripts/setup.sh) and runs its main job on the example the
# repo ships: apply the rule library rules.d/ to examples/resblock.gir (a
# ResNet basic block: Conv+BatchNormalization+Relu, Conv+BatchNormalization,
# a residual Add, Relu, Identity), show what changed, and check on the
# simulator that the rewritten graph computes the same outputs, cheaper.
# Outputs go to ${GRAFT_DEMO_OUT:-/tmp/graft-demo}.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh" "$here/build"
graft=$here/build/graft
out=${GRAFT_DEMO_OUT:-/tmp/graft-demo}
mkdir -p "$out"
model=$here/examples/resblock.gir
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step "$graft" info "$model"
step "$graft" convert "$model" -o "$out/resblock.onnx"
step "$graft" opt "$out/resblock.onnx" --rules "$here/rules.d" -o "$out/resblock.opt.onnx"
set +e
step "$graft" diff "$out/resblock.onnx" "$out/resblock.opt.onnx"
rc=$?
set -e
[ $rc -eq 1 ] || { echo "demo: expected graft diff to report differences (exit 1), got $rc"; exit 1; }
step "$graft" sim "$out/resblock.onnx" --seed 1 -o "$out/before" --top 5
step "$graft" sim "$out/resblock.opt.onnx" --seed 1 -o "$out/after" --top 5 --expect "$out/before" --tolerance 1e-4
echo
echo "demo: the rewritten model is $out/resblock.opt.onnx; it reproduces the original's outputs (above)."
