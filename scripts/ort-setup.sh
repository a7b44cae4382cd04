#!/usr/bin/env bash
# Installs ONNX Runtime for Node (npm package onnxruntime-node, CPU only) into
# .cache/ort, for the tests and benchmarks that compare with it.  Needs
# Node.js and npm (installed with apt-get when missing).  Exits non-zero when
# it cannot be had; callers treat ONNX Runtime as optional.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${ORT_DIR:-$here/.cache/ort}
version=1.30.0
if [ -f "$dir/node_modules/onnxruntime-node/package.json" ]; then
  exit 0
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm >/dev/null
fi
mkdir -p "$dir"
cd "$dir"
[ -f package.json ] || npm init -y >/dev/null
ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --silent "onnxruntime-node@$version" >/dev/null
