#!/usr/bin/env bash
# Installs the build tree into a temporary prefix, then configures, builds and runs a consumer
# that does find_package(rill) and links rill::runtime. With a GCC given as 4th argument, also
# checks that rill refuses it: find_package(rill) fails at configure time with a clear message,
# and the headers stop a direct compile with #error.
set -euo pipefail
build=$1 src=$2 cxx=$3 gxx=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
cmake -S "$src" -B "$tmp/b" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/b" >/dev/null
"$tmp/b/app"
echo "find_package(rill) consumer built and ran"

if [[ -z "$gxx" ]]; then
  echo "no GCC found: the unsupported-compiler checks were not run"
  exit 0
fi
if cmake -S "$src" -B "$tmp/g" -G Ninja -DCMAKE_CXX_COMPILER="$gxx" \
     -DCMAKE_PREFIX_PATH="$tmp/prefix" >"$tmp/g.log" 2>&1; then
  echo "FAIL: a consumer compiled with $gxx configured without an error"
  exit 1
fi
if ! grep -q "rill requires Clang >= 19" "$tmp/g.log"; then
  echo "FAIL: configuring with $gxx failed without rill's message:"
  cat "$tmp/g.log"
  exit 1
fi
echo "find_package(rill) refuses $gxx at configure time"
if "$gxx" -std=c++20 -fsyntax-only -I"$tmp/prefix/include" "$src/main.cpp" >"$tmp/h.log" 2>&1; then
  echo "FAIL: $gxx compiled rill's headers without an #error"
  exit 1
fi
if ! grep -q "rill requires Clang >= 19" "$tmp/h.log"; then
  echo "FAIL: $gxx rejected rill's headers without rill's #error:"
  cat "$tmp/h.log"
  exit 1
fi
echo "rill's headers stop $gxx with #error"
