#!/usr/bin/env bash
# A forgotten co_await and a dropped Result must not compile silently: compiles nodiscard.cpp
# once and checks that exactly the lines marked `// must warn` draw -Wunused-result (so every
# awaitable / Result there is [[nodiscard]], and correct uses stay quiet).
set -euo pipefail
cxx=$1 inc=$2 src=$3
out=$("$cxx" -std=c++20 -fsyntax-only -Wunused-result -I"$inc" "$src" 2>&1) || {
  echo "FAIL: $src does not compile:"
  echo "$out"
  exit 1
}
name=$(basename "$src")
got=$(grep -E "$name:[0-9]+:[0-9]+: warning: .*\[-Wunused-result\]" <<<"$out" |
      sed -E "s/.*$name:([0-9]+):.*/\1/" | sort -n | uniq)
want=$(grep -nE ";[[:space:]]*// must warn" "$src" | cut -d: -f1 | sort -n)
if [[ "$got" != "$want" ]]; then
  echo "FAIL: lines with -Wunused-result differ from the lines marked '// must warn'"
  echo "marked: $(echo $want)"
  echo "warned: $(echo $got)"
  echo "$out"
  exit 1
fi
echo "ok: $(wc -w <<<"$want") discarded awaitables/Results warned, correct uses quiet"
