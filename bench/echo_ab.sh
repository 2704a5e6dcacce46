#!/usr/bin/env bash
# Alternating TCP echo rounds for several servers, same pinning and CPU/msg formula as
# ../shared/peers/compare.sh's echo_round (server on CPU 0 with WORKERS=1, client on CPU 1,
# 64 connections x 64 B for 4 s, echo_load checks every byte). Prints the median server CPU per
# message and msg/s of each server. Used to bound rill's echo path against raw io_uring loops:
#   bench/echo_ab.sh 3 base=build/bench/uring_echo_baseline rill=build/bench/rill-peer-suite \
#     tokio=../shared/peers/tokio/target/release/tokio-peer-suite
# A NAME=CMD is run as `WORKERS=1 taskset -c 0 CMD echo-server 127.0.0.1:PORT`; wrap a variant
# (e.g. URING_BASELINE_RECV=multishot) in a small script.
set -euo pipefail
rounds=${1:?usage: echo_ab.sh ROUNDS NAME=CMD...}
shift
here=$(cd "$(dirname "$0")" && pwd)
# The peers directory (echo_load.c) is ../shared/peers beside the checkout; PEERS overrides it
# (e.g. from a worktree). The load client is built next to it, or in /tmp if that is read-only.
peers=${PEERS:-$here/../../shared/peers}
load=$peers/.echo_load
if [[ ! -x $load ]]; then
  [[ -w $peers ]] || load=${TMPDIR:-/tmp}/rill-echo_load
  [[ -x $load ]] || gcc -O2 -o "$load" "$peers/echo_load.c"
fi
port=$((7500 + RANDOM % 1000))
declare -A cpu msgs
for _ in $(seq "$rounds"); do
  for spec in "$@"; do
    name=${spec%%=*} cmd=${spec#*=}
    port=$((port + 1))
    WORKERS=1 taskset -c 0 $cmd echo-server "127.0.0.1:$port" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
    t0=$(awk '{print $14+$15}' "/proc/$pid/stat")
    rate=$(taskset -c 1 "$load" 127.0.0.1 "$port" 64 64 4 | awk '/^bench/ {print $3}')
    t1=$(awk '{print $14+$15}' "/proc/$pid/stat")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    cpu[$name]="${cpu[$name]:-} $(awk -v a="$t0" -v b="$t1" -v r="${rate:-0}" -v hz="$(getconf CLK_TCK)" \
      'BEGIN{ printf "%.0f", (r > 0 ? (b - a) / hz * 1e9 / (r * 4) : 0) }')"
    msgs[$name]="${msgs[$name]:-} ${rate:-0}"
  done
done
for spec in "$@"; do
  name=${spec%%=*}
  python3 - "$name" "${cpu[$name]}" "${msgs[$name]}" <<'PY'
import statistics, sys
name, c, m = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
print(f"{name:12} cpu/msg median {statistics.median(c):6.0f} ns {c}   msg/s median {statistics.median(m):8.0f}")
PY
done
