#!/usr/bin/env bash
# Measures rill-lint's wall time against `clang++-19 -fsyntax-only` over the same translation
# units (target: ratio <= 1.2). Both sides get the same compile flags and the same parallelism.
#
# Usage: bench/lint_timing.sh [-l RILL_LINT] [-p BUILD_DIR] [-j N] [-r REPS] [--check] [FILES...]
#   -l  rill-lint binary (default: $RILL_LINT, else build/lint/rill-lint of the repo)
#   -p  directory with compile_commands.json (default: build/ of the repo when it exists);
#       without one, the lint fixtures tests/lint/rill-*.cpp are timed with -std=c++20
#   -j  parallel jobs for both sides (default 1); -r repetitions, the minimum counts (default 3)
#   --check  exit 1 when the ratio exceeds 1.2
# FILES restricts the TUs (default: every file of the database / every fixture).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
lint="${RILL_LINT:-}"
build=""
jobs=1
reps=3
check=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    -l) lint="$2"; shift 2 ;;
    -p) build="$2"; shift 2 ;;
    -j) jobs="$2"; shift 2 ;;
    -r) reps="$2"; shift 2 ;;
    --check) check=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
if [[ -z "$lint" ]]; then
  lint="$repo/build/lint/rill-lint"
fi
[[ -x "$lint" ]] || { echo "lint_timing: rill-lint not found (use -l)" >&2; exit 2; }
if [[ -z "$build" && -f "$repo/build/compile_commands.json" ]]; then build="$repo/build"; fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# One line per TU: directory<TAB>file<TAB>shell-quoted clang args for -fsyntax-only.
python3 - "$build" "$repo" "$tmp/tus" "$@" <<'PY'
import json, os, shlex, sys, glob
build, repo, out, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
rows = []
if build:
    db = json.load(open(os.path.join(build, "compile_commands.json")))
    for e in db:
        f = os.path.normpath(os.path.join(e["directory"], e["file"]))
        if not f.endswith((".cpp", ".cc", ".cxx")):
            continue
        if files and not any(os.path.realpath(f) == os.path.realpath(x) for x in files):
            continue
        args = e.get("arguments") or shlex.split(e["command"])
        keep, skip = [], False
        for a in args[1:]:
            if skip:
                skip = False
                continue
            if a in ("-c", "-o", "-MF", "-MT", "-MQ"):
                skip = a != "-c"
                continue
            if a in ("-MD", "-MMD") or a == e["file"] or os.path.normpath(os.path.join(e["directory"], a)) == f:
                continue
            keep.append(a)
        rows.append((e["directory"], f, keep))
else:
    for f in files or sorted(glob.glob(os.path.join(repo, "tests/lint/rill-*.cpp"))):
        rows.append((os.path.dirname(os.path.abspath(f)), os.path.abspath(f), ["-std=c++20"]))
with open(out, "w") as o:
    for d, f, a in rows:
        o.write(f"{d}\t{f}\t{shlex.join(a)}\n")
PY
n=$(wc -l < "$tmp/tus")
[[ "$n" -gt 0 ]] || { echo "lint_timing: no translation units" >&2; exit 2; }

# Scripts run by xargs: one TU per invocation, same flags for both tools.
cat > "$tmp/clang.sh" <<'SH'
IFS=$'\t' read -r dir file args <<< "$1"
cd "$dir" && eval "clang++-19 $args -fsyntax-only -w \"\$file\"" >/dev/null 2>&1 || true
SH
cat > "$tmp/lint.sh" <<SH
IFS=\$'\t' read -r dir file args <<< "\$1"
cd "\$dir" && eval "'$lint' --quiet \"\\\$file\" -- \$args" >/dev/null 2>&1 || true
SH

time_run() {  # $1 = script; prints seconds (min over reps)
  local best=""
  for ((i = 0; i < reps; i++)); do
    local s e
    s=$(date +%s.%N)
    tr '\n' '\0' < "$tmp/tus" | xargs -0 -P "$jobs" -I{} bash "$1" {}
    e=$(date +%s.%N)
    local t
    t=$(echo "$e - $s" | bc)
    if [[ -z "$best" ]] || (( $(echo "$t < $best" | bc) )); then best=$t; fi
  done
  echo "$best"
}

echo "lint_timing: $n TUs, -j $jobs, best of $reps, rill-lint = $lint"
[[ -n "$build" ]] && echo "lint_timing: compile database: $build/compile_commands.json" \
  || echo "lint_timing: no compile database; timing the lint fixtures"
tc=$(time_run "$tmp/clang.sh")
tl=$(time_run "$tmp/lint.sh")
ratio=$(echo "scale=3; $tl / $tc" | bc)
printf 'clang++-19 -fsyntax-only: %6.2f s\nrill-lint (default checks rill-*): %6.2f s\nratio: %s (target <= 1.2)\n' "$tc" "$tl" "$ratio"
if [[ "$check" == 1 ]] && (( $(echo "$ratio > 1.2" | bc) )); then
  echo "lint_timing: FAIL ratio $ratio > 1.2"
  exit 1
fi
