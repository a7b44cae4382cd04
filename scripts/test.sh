#!/usr/bin/env bash
# Sets everything up and runs graft's whole test suite twice: a Release build
# and an AddressSanitizer+UndefinedBehaviorSanitizer build.
# Usage: scripts/test.sh [--quick]   (--quick: Release build only)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
quick=0
[ "${1:-}" = "--quick" ] && quick=1

"$here/scripts/setup.sh" "$here/build"
"$here/scripts/ort-setup.sh" || echo "test: ONNX Runtime unavailable; tests that need it will skip"

jobs=$(nproc)
echo "== Release build: ctest"
(cd "$here/build" && ctest --output-on-failure -j"$jobs")

if [ $quick -eq 0 ]; then
  echo "== ASan+UBSan build: ctest"
  cmake -S "$here" -B "$here/build-asan" -DCMAKE_BUILD_TYPE=Debug -DGRAFT_SANITIZE=ON >/dev/null
  cmake --build "$here/build-asan" -j"$jobs"
  # abort_on_error: a leak found when a Criterion test's process exits then
  # fails the test binary (with exit-time reports alone it still passes).
  (cd "$here/build-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 ctest --output-on-failure -j"$jobs")
fi
