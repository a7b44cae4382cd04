#!/usr/bin/env bash
# The graft binary under valgrind (memcheck, full leak check): every run must
# be free of memory errors and leaks, and end with the expected exit status,
# on good input (convert, info, sim, diff in their output forms) and on bad
# input (a diagnostic, exit 2, no output file left behind).
# Usage: valgrind_cli.sh GRAFT SHARED_DIR ONNX_TESTDATA SANITIZED
# Exit 77 (skipped) without valgrind, or when GRAFT is a sanitizer build.
set -uo pipefail
graft=$1; shared=$2; testdata=$3; sanitized=${4:-OFF}

if ! command -v valgrind >/dev/null; then
  echo "skipped: valgrind is not installed"; exit 77
fi
case "$sanitized" in ON|on|1|TRUE|true) echo "skipped: $graft is a sanitizer build"; exit 77;; esac

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export OPENBLAS_NUM_THREADS=1
passed=0; failed=0

# check WANT_STATUS ARGS...: runs graft ARGS under valgrind.
check() {
  local want=$1; shift
  valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect,possible \
    --error-exitcode=99 "$graft" "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ $got -eq 99 ]; then
    echo "FAIL (memory error or leak): graft $*"; grep '^==' "$tmp/err" | head -40
    failed=$((failed + 1))
  elif [ $got -ne "$want" ]; then
    echo "FAIL (exit $got, want $want): graft $*"; head -c 1000 "$tmp/err"; echo
    failed=$((failed + 1))
  elif [ "$want" -eq 2 ] && ! grep -q 'error:' "$tmp/err"; then
    echo "FAIL (exit 2 without a diagnostic): graft $*"; head -c 1000 "$tmp/err"; echo
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
}

# no_file PATH...: fails when a bad run left PATH (or a temporary beside it).
no_file() {
  for p in "$@"; do
    if ls "$p"* >/dev/null 2>&1; then
      echo "FAIL: a failed run left $p behind"; failed=$((failed + 1))
    fi
  done
}

# ---- small inputs written here, so that the test runs without the models
cat >"$tmp/add.gir" <<'EOF'
graft 1
graph @g(%a: f32[2,3], %b: f32[3]) -> (%y) {
  %s = Add(%a, %b)
  %y = Relu(%s) @act
}
EOF
sed 's/Relu(%s)/Sigmoid(%s)/' "$tmp/add.gir" >"$tmp/add2.gir"
printf 'graft 1\ngraph @g(%%x: f32[4]) -> (%%y) {\n  %%y = Relu(%%x : f32[4]\n}\n' >"$tmp/syntax.gir"
printf 'graft 1\ngraph @g(%%a: f32[3], %%b: f32[4]) -> (%%y) {\n  %%y = Add(%%a, %%b)\n}\n' >"$tmp/shape.gir"
printf 'graft 1\ngraph @g(%%a: f32[3]) -> (%%y) {\n  %%y = NoSuchOp(%%a) : f32[3] @odd\n}\n' >"$tmp/opaque.gir"
printf 'name: broken\nclock_mhz: fast\n' >"$tmp/bad_hw.yaml"
head -c 3000 /dev/urandom >"$tmp/random.onnx"
: >"$tmp/empty.onnx"

check 0 convert "$tmp/add.gir" -o "$tmp/add.onnx"
check 0 convert "$tmp/add.onnx" -o "$tmp/add_back.gir"
check 0 convert "$tmp/add.gir" -o "$tmp/add.dot"
check 0 convert "$tmp/add.onnx" -o -
check 0 info "$tmp/add.onnx"
check 0 info --json "$tmp/add.gir"
check 0 sim "$tmp/add.gir" -o "$tmp/simout" --json
check 0 sim "$tmp/add.gir" --expect "$tmp/simout" --mode cube --hw tensorcore-4x4x4
check 1 diff "$tmp/add.gir" "$tmp/add2.gir"
check 1 diff "$tmp/add.gir" "$tmp/add2.gir" --json
check 1 diff "$tmp/add.gir" "$tmp/add2.gir" --dot
check 1 diff "$tmp/add.gir" "$tmp/add2.gir" --stat
check 1 diff "$tmp/add.gir" "$tmp/add2.gir" --html "$tmp/d.html"

for bad in random.onnx empty.onnx syntax.gir shape.gir missing.onnx missing.gir; do
  check 2 convert "$tmp/$bad" -o "$tmp/out_$bad.gir"
  check 2 info --json "$tmp/$bad"
  check 2 sim "$tmp/$bad" -o "$tmp/simbad_$bad"
  check 2 diff "$tmp/add.gir" "$tmp/$bad" --html "$tmp/dbad_$bad.html"
  no_file "$tmp/out_$bad.gir" "$tmp/simbad_$bad" "$tmp/dbad_$bad.html"
done
check 2 sim "$tmp/opaque.gir"
check 2 sim "$tmp/add.gir" --hw "$tmp/bad_hw.yaml"
check 2 sim "$tmp/add.gir" --hw "$tmp/missing.yaml"
check 2 sim "$tmp/add.gir" --input nosuch="$tmp/simout/output_0.pb"
check 2 sim "$tmp/add.gir" --input a="$tmp/simout/output_0.pb" --input b="$tmp/add.onnx"
check 2 convert "$tmp/add.gir" -o "$tmp/no/such/dir/x.onnx"
check 2 sim "$tmp/add.gir" -o "$tmp/no/such/dir"
check 2 diff "$tmp/add.gir" "$tmp/add2.gir" --html "$tmp/no/such/dir/d.html"

# ---- real models (the shared folder): one small CNN end to end
m=$shared/models/squeezenet1_1
if [ -f "$m/model.onnx" ]; then
  head -c 100000 "$m/model.onnx" >"$tmp/trunc.onnx"
  check 0 convert "$m/model.onnx" -o "$tmp/sq.gir"
  check 0 convert "$tmp/sq.gir" -o "$tmp/sq.onnx"
  check 0 info --json "$tmp/sq.gir"
  check 0 sim "$m/model.onnx" --inputs "$m/test_data_set_0" --expect "$m/test_data_set_0" -o "$tmp/sqout"
  check 0 sim "$tmp/sq.gir" --no-run --hw tensorcore-4x4x4 --json
  sed '0,/= Relu(/s//= Sigmoid(/' "$tmp/sq.gir" >"$tmp/sq2.gir"
  cp "$tmp/sq.gir.bin" "$tmp/sq2.gir.bin"
  check 1 diff "$m/model.onnx" "$tmp/sq2.gir" --html "$tmp/sq.html"
  check 2 convert "$tmp/trunc.onnx" -o "$tmp/trunc.gir"
  check 2 sim "$m/model.onnx" --input input="$tmp/simout/output_0.pb"
  no_file "$tmp/trunc.gir"
else
  echo "note: $m is absent: the real-model runs were skipped"
fi

# ---- an ONNX backend test model (opset coverage beyond the CNNs)
t=$testdata/node/test_conv_with_strides_padding
if [ -d "$t" ]; then
  check 0 sim "$t/model.onnx" --inputs "$t/test_data_set_0" --expect "$t/test_data_set_0" --mode cube
fi

echo "valgrind_cli: $passed passed, $failed failed"
[ $failed -eq 0 ]
