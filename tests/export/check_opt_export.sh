#!/usr/bin/env bash
# Models graft rewrites stay runnable everywhere: `graft opt --rules rules.d`
# on every shared model writes an .onnx whose fused ops are model-local
# functions (their bodies travel with the model), and that model
#  1. passes onnx.checker.check_model (full check, with shape inference);
#  2. runs on ONNX Runtime and reproduces the reference output_0.pb
#     (max |diff| / max |ref| <= 1e-4).
# Skips a part (exit 77 when nothing could run) when python3-onnx, Node.js or
# onnxruntime-node are missing.
set -uo pipefail
graft=$1; shared=$2; rules=$3; ort_dir=$4
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ran=0; failed=0; n=0

for m in "$shared"/models/*/model.onnx; do
  [ -f "$m" ] || continue
  name=$(basename "$(dirname "$m")"); dir="$tmp/$name"; mkdir -p "$dir"
  if ! "$graft" opt "$m" --rules "$rules" -o "$dir/model.onnx" > "$dir/opt.txt" 2>&1; then
    echo "FAIL opt: $name: $(head -c 300 "$dir/opt.txt")"; failed=$((failed + 1)); continue
  fi
  [ -d "$(dirname "$m")/test_data_set_0" ] && ln -s "$(dirname "$m")/test_data_set_0" "$dir/test_data_set_0"
  n=$((n + 1))
done

# 1. onnx.checker, and every graft-domain op is a call of a function the model defines.
if /usr/bin/python3 -c 'import onnx' 2>/dev/null; then
  /usr/bin/python3 - "$tmp" <<'PY'
import glob, os, sys, onnx
bad = 0; n = 0
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*", "model.onnx"))):
    name = os.path.basename(os.path.dirname(path)); n += 1
    try:
        onnx.checker.check_model(path, full_check=True)
        m = onnx.load(path)
        defined = {(f.domain, f.name) for f in m.functions}
        calls = {(x.domain, x.op_type) for x in m.graph.node if x.domain == "graft"}
        missing = calls - defined
        if missing:
            raise ValueError(f"graft ops without a function: {sorted(missing)}")
        print(f"checker: {name}: ok ({len(m.functions)} functions, "
              f"{sum(x.domain == 'graft' for x in m.graph.node)} calls)")
    except Exception as e:
        bad += 1
        print("FAIL checker:", name, str(e).splitlines()[0][:300])
sys.exit(1 if bad else 0)
PY
  rc=$?; ran=1
  [ $rc -eq 0 ] || failed=$((failed + 1))
else
  echo "SKIP checker: /usr/bin/python3 has no onnx module (Debian package python3-onnx)"
fi

# 2. ONNX Runtime against the reference outputs.
runner="$shared/tools/ort/run_ort.js"
if command -v node >/dev/null && [ -f "$runner" ] && [ -d "$ort_dir/node_modules/onnxruntime-node" ]; then
  for dir in "$tmp"/*/; do
    dir=${dir%/}; name=$(basename "$dir")
    [ -f "$dir/model.onnx" ] && [ -d "$dir/test_data_set_0" ] || continue
    out=$(ORT_DIR="$ort_dir" node "$runner" --quick "$dir" 2>&1); rc=$?
    worst=$(echo "$out" | sed -n 's/.*abs\/max|ref| \([0-9.e+-]*\)).*/\1/p' | sort -g | tail -n 1)
    ran=1
    if [ $rc -ne 0 ] || [ -z "$worst" ] || ! awk -v w="$worst" 'BEGIN { exit !(w <= 1e-4) }'; then
      echo "FAIL ort: $name (exit $rc, worst abs/max|ref| ${worst:-none})"; echo "$out" | tail -n 5
      failed=$((failed + 1))
    else
      echo "ort: $name: worst abs/max|ref| $worst"
    fi
  done
else
  echo "SKIP ort: Node.js or onnxruntime-node ($ort_dir) missing"
fi

echo "$n models rewritten; failures: $failed"
[ $ran -eq 1 ] || exit 77
[ $failed -eq 0 ]
