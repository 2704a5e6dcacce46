#!/usr/bin/env bash
# rill-lint under CMake's CXX_CLANG_TIDY, as installed: installs the build tree into a temporary
# prefix, then builds tests/lint/cmake_tidy (which takes rill::lint from find_package(rill))
#   1. as is: clean, the build must succeed with the lint run on every TU;
#   2. with CMAKE_CXX_CLANG_TIDY=<prefix>/bin/rill-lint;--warnings-as-errors=rill-* given on the
#      command line and a planted blocking call: the build must fail on rill-blocking-call.
set -euo pipefail
build=$1 src=$2 cxx=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
lint="$tmp/prefix/bin/rill-lint"
test -x "$lint" || { echo "FAIL: $lint not installed"; exit 1; }

cmake -S "$src" -B "$tmp/clean" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" >"$tmp/clean.cfg" 2>&1 || { cat "$tmp/clean.cfg"; exit 1; }
grep -q "rill::lint = $lint" "$tmp/clean.cfg" || { cat "$tmp/clean.cfg"; echo "FAIL: rill::lint is not the installed rill-lint"; exit 1; }
if ! cmake --build "$tmp/clean" -v >"$tmp/clean.log" 2>&1; then
  cat "$tmp/clean.log"; echo "FAIL: clean project did not build under CXX_CLANG_TIDY"; exit 1
fi
grep -q -- "--tidy=.*rill-lint" "$tmp/clean.log" || { cat "$tmp/clean.log"; echo "FAIL: rill-lint did not run"; exit 1; }
if grep -q ": error:" "$tmp/clean.log"; then cat "$tmp/clean.log"; echo "FAIL: errors in the clean build"; exit 1; fi

cmake -S "$src" -B "$tmp/planted" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" -DRILL_PLANT=ON \
  "-DCMAKE_CXX_CLANG_TIDY=$lint;--warnings-as-errors=rill-*" >/dev/null
if cmake --build "$tmp/planted" >"$tmp/planted.log" 2>&1; then
  cat "$tmp/planted.log"; echo "FAIL: build with a planted finding succeeded"; exit 1
fi
grep -q "planted.cpp:6:3: error: blocking sleep 'sleep' in coroutine 'stalls'.*\[rill-blocking-call,-warnings-as-errors\]" "$tmp/planted.log" \
  || { cat "$tmp/planted.log"; echo "FAIL: expected rill-blocking-call error"; exit 1; }
if grep -q "cannot specify -o" "$tmp/planted.log"; then cat "$tmp/planted.log"; echo "FAIL: -o error"; exit 1; fi
echo "CXX_CLANG_TIDY with the installed rill-lint: clean build passes, planted finding fails the build"
