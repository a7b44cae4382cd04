#!/usr/bin/env bash
# Models graft exports are valid ONNX and compute the same thing:
#  1. every shared model and every model.onnx of ONNX's backend test data,
#     converted by `graft convert X.onnx -o Y.onnx` (and through .gir), passes
#     onnx.checker.check_model (full check, with shape inference);
#  2. each shared model exported by graft runs on ONNX Runtime and reproduces
#     its reference output_0.pb (max |diff| / max |ref| <= 1e-5).
# Skips a part (exit 77 when nothing could run) when python3-onnx, Node.js or
# onnxruntime-node are missing.
set -uo pipefail
graft=$1; shared=$2; testdata=$3; ort_dir=$4
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ran=0; failed=0

models=()
for m in "$shared"/models/*/model.onnx; do [ -f "$m" ] && models+=("$m"); done
for set in node pytorch-converted pytorch-operator simple; do
  for m in "$testdata/$set"/*/model.onnx; do [ -f "$m" ] && models+=("$m"); done
done

# 1. convert everything, then check it all in one Python process.
list="$tmp/list.txt"; : > "$list"
i=0
for m in "${models[@]}"; do
  i=$((i + 1)); out="$tmp/c$i"; mkdir -p "$out"
  if ! "$graft" convert "$m" -o "$out/model.onnx" 2>"$out/err"; then
    echo "FAIL convert: $m: $(head -c 300 "$out/err")"; failed=$((failed + 1)); continue
  fi
  if [ $i -le 4 ] || [ $((i % 10)) -eq 0 ]; then      # a sample also goes through .gir
    if ! "$graft" convert "$m" -o "$out/m.gir" 2>>"$out/err" ||
       ! "$graft" convert "$out/m.gir" -o "$out/model_gir.onnx" 2>>"$out/err"; then
      echo "FAIL .gir: $m: $(head -c 300 "$out/err")"; failed=$((failed + 1))
    else
      echo "$m	$out/model_gir.onnx" >> "$list"
    fi
  fi
  echo "$m	$out/model.onnx" >> "$list"
done

if /usr/bin/python3 -c 'import onnx' 2>/dev/null; then
  /usr/bin/python3 - "$list" > "$tmp/checker.txt" <<'PY'
import sys, onnx
bad = 0; n = 0
for line in open(sys.argv[1]):
    src, out = line.rstrip('\n').split('\t')
    n += 1
    try:
        onnx.checker.check_model(out, full_check=True)
    except Exception as e:
        # The exporter must be no worse than the input: skip models ONNX's own checker rejects.
        try:
            onnx.checker.check_model(src, full_check=True)
        except Exception:
            continue
        bad += 1
        print("FAIL checker:", src, str(e).splitlines()[0][:300])
print(f"checker: {n - bad} of {n} exported models accepted")
sys.exit(1 if bad else 0)
PY
  rc=$?; cat "$tmp/checker.txt"; ran=1
  [ $rc -eq 0 ] || failed=$((failed + 1))
else
  echo "SKIP checker: /usr/bin/python3 has no onnx module (Debian package python3-onnx)"
fi

# 2. ONNX Runtime on the shared models graft exported.
runner="$shared/tools/ort/run_ort.js"
if command -v node >/dev/null && [ -f "$runner" ] && [ -d "$ort_dir/node_modules/onnxruntime-node" ]; then
  for m in "$shared"/models/*/model.onnx; do
    [ -f "$m" ] || continue
    name=$(basename "$(dirname "$m")"); dir="$tmp/ort/$name"; mkdir -p "$dir"
    "$graft" convert "$m" -o "$dir/model.onnx" || { failed=$((failed + 1)); continue; }
    ln -s "$(dirname "$m")/test_data_set_0" "$dir/test_data_set_0"
    out=$(ORT_DIR="$ort_dir" node "$runner" --quick "$dir" 2>&1); rc=$?
    echo "$out" | grep -E '^\S+ test_data_set_0 \[disabled\]'
    worst=$(echo "$out" | sed -n 's/.*abs\/max|ref| \([0-9.e+-]*\)).*/\1/p' | sort -g | tail -n 1)
    ran=1
    if [ $rc -ne 0 ] || [ -z "$worst" ] || ! awk -v w="$worst" 'BEGIN { exit !(w <= 1e-5) }'; then
      echo "FAIL ort: $name (exit $rc, worst abs/max|ref| ${worst:-none})"; echo "$out" | tail -n 5
      failed=$((failed + 1))
    fi
  done
else
  echo "SKIP ort: Node.js or onnxruntime-node ($ort_dir) missing"
fi

echo "$((${#models[@]})) models exported; failures: $failed"
[ $ran -eq 1 ] || exit 77
[ $failed -eq 0 ]
