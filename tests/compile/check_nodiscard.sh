#!/usr/bin/env bash
# A forgotten co_await and a dropped Result must not compile silently: every CASE_* of
# nodiscard.cpp must be refused under -Werror=unused-result, and the control must compile.
set -euo pipefail
cxx=$1 inc=$2 src=$3
flags=(-std=c++20 -fsyntax-only -Werror=unused-result -I"$inc")
"$cxx" "${flags[@]}" "$src" || { echo "FAIL: the control case does not compile"; exit 1; }
fail=0
for c in $(grep -o 'defined(CASE_[A-Z_]*)' "$src" | sed 's/defined(\(.*\))/\1/'); do
  if out=$("$cxx" "${flags[@]}" -D"$c" "$src" 2>&1); then
    echo "FAIL: $c compiled: the discarded value is not [[nodiscard]]"
    fail=1
  elif ! grep -q "nodiscard\|unused-result" <<<"$out"; then
    echo "FAIL: $c was refused for another reason:"
    echo "$out"
    fail=1
  else
    echo "ok: $c refused"
  fi
done
exit $fail
