#!/usr/bin/env bash
# Alternating TCP echo rounds for several servers, same pinning and CPU/msg formula as
# ../shared/peers/compare.sh's echo_round (server on CPU 0 with WORKERS=1, client on CPU 1,
# 64 connections x 64 B for 4 s, echo_load checks every byte). Prints, per server, the median
# server CPU per message, msg/s and share of its CPU used, and, for every server after the first,
# the median of its per-round ratios to the first one (rounds are back to back, so a ratio compares
# two servers in the same host state; the medians alone mix states on a host that changes speed).
# A server using well under 100% of its CPU while the client saturates its own is client-bound:
# then msg/s measures the client's cost per message as much as the server's. Used to bound rill's
# echo path against raw io_uring loops:
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
declare -A cpu msgs util
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
    util[$name]="${util[$name]:-} $(awk -v a="$t0" -v b="$t1" -v hz="$(getconf CLK_TCK)" \
      'BEGIN{ printf "%.3f", (b - a) / hz / 4 }')"
  done
done
first=${1%%=*}
for spec in "$@"; do
  name=${spec%%=*}
  python3 - "$name" "$first" "${cpu[$name]}" "${msgs[$name]}" "${util[$name]}" \
    "${cpu[$first]}" "${msgs[$first]}" <<'PY'
import statistics, sys
name, first = sys.argv[1], sys.argv[2]
c, m, u, c0, m0 = ([float(x) for x in a.split()] for a in sys.argv[3:8])
line = (f"{name:12} cpu/msg median {statistics.median(c):6.0f} ns {c}   msg/s median "
        f"{statistics.median(m):8.0f}   server CPU used {statistics.median(u):.0%}")
if name != first:
    rc = [a / b for a, b in zip(c, c0) if a > 0 and b > 0]
    rm = [a / b for a, b in zip(m, m0) if b > 0]
    if rc and rm:
        line += (f"\n{'':12} per-round vs {first}: cpu/msg x{statistics.median(rc):.3f} "
                 f"[{', '.join(f'{x:.3f}' for x in rc)}]   msg/s x{statistics.median(rm):.3f}")
print(line)
PY
done
