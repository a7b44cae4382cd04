#!/usr/bin/env bash
# Diffs each shared model against ONNX Runtime's optimised version of it:
# ONNX Runtime (onnxruntime-node, see scripts/ort-setup.sh) writes the
# optimised models into a temporary folder, then `graft diff` says what it
# changed.  The replacement groups should be the fusions ONNX Runtime made.
# Usage: scripts/diff-ort.sh [BUILD_DIR] [LEVEL]   (LEVEL: extended (default) or all)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
level=${2:-extended}
models=${GRAFT_MODELS:-$here/../shared/models}
export ORT_DIR=${ORT_DIR:-$here/.cache/ort}
graft=$build/graft
[ -x "$graft" ] || { echo "diff-ort: build graft first ($graft is missing)" >&2; exit 2; }
"$here/scripts/ort-setup.sh" || { echo "diff-ort: ONNX Runtime is unavailable" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node "$models/../tools/ort/run_ort.js" --optdir "$tmp" "$models"/*/ >/dev/null
for dir in "$models"/*/; do
  name=$(basename "$dir")
  echo "== $name: graft diff model.onnx $name.$level.onnx"
  "$graft" diff "${dir%/}/model.onnx" "$tmp/$name.$level.onnx" --no-color | grep -E '^\S.*: |^  ×' || true
  echo
done
