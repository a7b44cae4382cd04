#!/usr/bin/env bash
# Installs what graft needs to build and test (Debian bookworm, as root or
# with sudo), then configures and builds it.  Idempotent: installs only what
# is missing.  Usage: scripts/setup.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
shift || true

pkgs=(gcc make cmake pkg-config libc6-dev
      libyaml-dev libpcre2-dev libcriterion-dev
      protobuf-c-compiler libprotobuf-c-dev libonnx-dev libopenblas-dev
      libonnx-testdata graphviz python3-onnx python3-numpy chromium valgrind)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
