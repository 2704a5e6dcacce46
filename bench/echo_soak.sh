#!/usr/bin/env bash
# echo_soak.sh: the long echo soak (the ctest soak is the short one): the rill echo server under
# ../shared/peers/echo_load with many connections for a while, on both I/O backends. echo_load
# checks every echoed byte and exits 1 on any mismatch, reset or short close; the server must
# survive and keep serving.
#   bench/echo_soak.sh PATH/TO/rill-peer-suite [CONNS=10000] [SECONDS=30] [SIZE=256]
# Environment: WORKERS (server worker threads, default 2), BACKENDS (default "auto epoll").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
suite=${1:?usage: echo_soak.sh PATH/TO/rill-peer-suite [CONNS] [SECONDS] [SIZE]}
conns=${2:-10000}
secs=${3:-30}
size=${4:-256}
src=$here/../../shared/peers/echo_load.c
[[ -f $src ]] || src=$here/../shared/peers/echo_load.c
load=$(mktemp -d)/echo_load
gcc -O2 -o "$load" "$src"
ulimit -n "$(ulimit -Hn)"
status=0
for backend in ${BACKENDS:-auto epoll}; do
  port=$((7800 + RANDOM % 1000))
  if [[ $backend == epoll ]]; then export RILL_IO_BACKEND=epoll; else unset RILL_IO_BACKEND; fi
  WORKERS=${WORKERS:-2} "$suite" echo-server "127.0.0.1:$port" >/dev/null &
  pid=$!
  for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  if "$load" 127.0.0.1 "$port" "$conns" "$size" "$secs"; then
    echo "soak $backend: OK ($conns connections, $secs s)"
  else
    echo "soak $backend: FAILED"; status=1
  fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "soak $backend: server died"; status=1; fi
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done
exit $status
