#!/usr/bin/env bash
# .ci/demo.sh: the main job after the build (README command 1; docs/demo.md explains the output).
#   1. rill-lint -p BUILD over examples/: prints the findings, writes BUILD/reports/lint.sarif and
#      BUILD/reports/lint.md, and checks that every pitfall of demo_server is flagged by its check
#      and nothing else is;
#   2. starts demo_server and drives POST /hash, then POST /hash_offloaded, with loadgen while
#      probing GET /healthz; prints the before/after table (throughput, /healthz p50/p99);
#   3. prints the long-poll detector's reports from the inline run (stacks naming crypt_r and
#      the handler coroutine);
#   4. stops the server with SIGTERM (graceful shutdown) and checks it exited cleanly.
#
# Usage: .ci/demo.sh [--build DIR] [--short] [--no-enforce]
#   --build DIR    the build directory (default: build); it needs rill-lint (RILL_BUILD_LINT=ON),
#                  examples/demo_server and bench/loadgen
#   --short        4-second load phases instead of 15 (the e2e test); implies --no-enforce
#   --no-enforce   print the latency acceptance verdict but do not fail on it (the lint and
#                  detector checks and clean shutdown still decide the exit status)
# Everything runs on 127.0.0.1 and is bounded in time. Exit status 0 when every check passed.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
phase_s=15
enforce=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --short) phase_s=4; enforce=0; shift ;;
    --no-enforce) enforce=0; shift ;;
    *) echo "demo.sh: unknown argument '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done

lint_bin=$build/lint/rill-lint
server=$build/examples/demo_server/demo_server
loadgen=$build/bench/loadgen
for bin in "$lint_bin" "$server" "$loadgen"; do
  if [[ ! -x $bin ]]; then
    echo "demo.sh: $bin is missing: build with RILL_BUILD_LINT, RILL_BUILD_EXAMPLES and RILL_BUILD_BENCH on" >&2
    exit 2
  fi
done
if [[ ! -f $build/compile_commands.json ]]; then
  echo "demo.sh: $build/compile_commands.json is missing (configure with CMake first)" >&2
  exit 2
fi

reports=$build/reports
mkdir -p "$reports"
# Nothing from an earlier run may pass for this run's results.
rm -f "$reports"/{lint.sarif,lint.md,lint.stderr,hash_inline.json,hash_offloaded.json,demo_server.log}
failed=()
t_start=$(date +%s)

# ---- 1. rill-lint over examples/ -------------------------------------------------------------
echo "==> 1/4 rill-lint -p $build over examples/"
mapfile -t files < <(find examples -name '*.cpp' | sort)
lint_args=(-p "$build" -j 2 --quiet)
run_lint() {  # run_lint OUT_ARGS...: exit status 2 (input/compile error) fails the job
  local rc=0
  "$lint_bin" "${lint_args[@]}" "$@" "${files[@]}" 2>>"$reports/lint.stderr" || rc=$?
  if [[ $rc -ge 2 ]]; then
    echo "rill-lint failed (exit $rc); see $reports/lint.stderr:" >&2
    tail -20 "$reports/lint.stderr" >&2
    return 1
  fi
}
: >"$reports/lint.stderr"
if run_lint --format=sarif --output "$reports/lint.sarif" --report="markdown=$reports/lint.md"; then
  # The findings as clang-tidy prints them (file:line:col: warning: message [check]).
  python3 - "$reports/lint.sarif" <<'EOF'
import json, sys
from urllib.parse import unquote, urlparse
doc = json.load(open(sys.argv[1]))
for run in doc.get("runs", []):
    for r in run.get("results", []):
        loc = (r.get("locations") or [{}])[0].get("physicalLocation", {})
        uri = unquote(loc.get("artifactLocation", {}).get("uri", "?"))
        if uri.startswith("file:"):
            uri = urlparse(uri).path
        reg = loc.get("region", {})
        print(f"{uri}:{reg.get('startLine', 0)}:{reg.get('startColumn', 0)}: "
              f"{r.get('level', 'warning')}: {r.get('message', {}).get('text', '')} [{r.get('ruleId')}]")
EOF
  echo "  reports: $reports/lint.sarif, $reports/lint.md"
  python3 .ci/demo_report.py lint "$reports/lint.sarif" . || failed+=("lint findings")
else
  failed+=("rill-lint run")
fi
t_lint=$(date +%s)

# ---- 2. demo_server under load -----------------------------------------------------------------
echo "==> 2/4 demo_server: POST /hash, then POST /hash_offloaded, ${phase_s} s each, probing GET /healthz every 10 ms"
log=$reports/demo_server.log
"$server" --port 0 --workers 2 --long-poll-ms 10 >"$log" 2>&1 &
pid=$!
cleanup() { kill -KILL "$pid" 2>/dev/null || true; }
trap cleanup EXIT
port=
for _ in $(seq 100); do
  port=$(sed -n 's/^demo_server listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log" | head -1)
  [[ -n $port ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z $port ]]; then
  echo "demo_server did not start; its log:" >&2
  cat "$log" >&2
  exit 1
fi
grep -m1 '^demo_server listening' "$log" | sed 's/^/  /'

drive() {  # drive PATH JSON
  "$loadgen" --url "http://127.0.0.1:$port$1" --method POST --body 'correct horse battery staple' \
    -c 4 -d "$phase_s" --probe /healthz --probe-interval-ms 10 --timeout-ms 20000 --json "$2" |
    sed 's/^/  /'
  return "${PIPESTATUS[0]}"
}
off0=$(stat -c %s "$log")
drive /hash "$reports/hash_inline.json" || failed+=("loadgen /hash")
sleep 0.5  # let the detector's last Finished reports land in this run's part of the log
off1=$(stat -c %s "$log")
drive /hash_offloaded "$reports/hash_offloaded.json" || failed+=("loadgen /hash_offloaded")
sleep 0.5
off2=$(stat -c %s "$log")
echo
enforce_arg=()
[[ $enforce -eq 1 ]] && enforce_arg=(--enforce)
if [[ -f $reports/hash_inline.json && -f $reports/hash_offloaded.json ]]; then
  python3 .ci/demo_report.py table "$reports/hash_inline.json" "$reports/hash_offloaded.json" \
    "${enforce_arg[@]}" || failed+=("latency acceptance")
fi

# ---- 3. long-poll reports ----------------------------------------------------------------------
echo "==> 3/4 long-poll detector reports (threshold 10 ms) from the inline run"
python3 .ci/demo_report.py longpoll "$log" "$off0" "$off1" "$off2" --enforce --show 1 ||
  failed+=("long-poll reports")

# ---- 4. graceful shutdown ----------------------------------------------------------------------
echo "==> 4/4 stopping demo_server (SIGTERM)"
kill -TERM "$pid"
rc=0
for _ in $(seq 100); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
  echo "  demo_server did not exit 10 s after SIGTERM" >&2
  failed+=("shutdown")
else
  wait "$pid" || rc=$?
  grep -E '^demo_server: (SIGTERM|stopped|long polls)' "$log" | sed 's/^/  /' || true
  [[ $rc -eq 0 ]] || failed+=("shutdown (exit $rc)")
  echo "  demo_server exited with status $rc"
fi
trap - EXIT

t_end=$(date +%s)
echo
echo "main job: lint $((t_lint - t_start)) s, load + reports $((t_end - t_lint)) s, total $((t_end - t_start)) s"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all checks passed"
