#!/usr/bin/env bash
# Alternating A/B run of several peer-suite binaries (rill's and Tokio's print the same
# 'bench NAME VALUE UNIT' lines): each round runs every binary once, in the order given; the
# medians over the rounds are compared with the first binary's.
# usage: bench/peer_ab.sh ROUNDS OUTDIR NAME=COMMAND...
#   e.g. bench/peer_ab.sh 5 /tmp/ab tokio=../shared/peers/tokio/target/release/tokio-peer-suite \
#          new=build/bench/rill-peer-suite old=/tmp/old-peer-suite new2=build/bench/rill-peer-suite
# Prints a table of medians (µs/iter) and first/NAME ratios (> 1: NAME is faster than the
# first), then the geometric mean over the nine scheduler benchmarks for each binary. Give a
# binary twice to see the run's noise.
set -euo pipefail
rounds=${1:?usage: peer_ab.sh ROUNDS OUTDIR NAME=COMMAND...}
out=${2:?usage: peer_ab.sh ROUNDS OUTDIR NAME=COMMAND...}
shift 2
mkdir -p "$out"
rm -f "$out"/*.txt
for _ in $(seq "$rounds"); do
  for spec in "$@"; do
    name=${spec%%=*}
    cmd=${spec#*=}
    # shellcheck disable=SC2086
    env $cmd 2>/dev/null | grep '^bench' >>"$out/$name.txt" || true
  done
done
python3 - "$out" "$@" <<'PY'
import collections, math, statistics, sys
out = sys.argv[1]
names = [s.split('=', 1)[0] for s in sys.argv[2:]]
def load(p):
    d = collections.defaultdict(list)
    for line in open(p):
        f = line.split()
        if len(f) == 4:
            d[f[1]].append(float(f[2]))
    return {k: statistics.median(v) for k, v in d.items()}
ds = [load(f"{out}/{n}.txt") for n in names]
print(f"{'bench':24}" + "".join(f"{n:>14}" for n in names) +
      "".join(f"{n + '/' + names[0]:>16}" for n in names[1:]))
for k in ds[0]:
    print(f"{k:24}" + "".join(f"{d.get(k, 0) / 1e3:14.0f}" for d in ds) +
          "".join(f"{ds[0][k] / d[k] if d.get(k) else 0:16.3f}" for d in ds[1:]))
sched = ["spawn_many_local", "spawn_many_remote_idle", "yield_many", "ping_pong", "chained_spawn",
         "mpsc_bounded", "timeout_churn", "sleep_many", "spawn_blocking_many"]
for n, d in zip(names[1:], ds[1:]):
    sp = [ds[0][k] / d[k] for k in sched if k in d and k in ds[0] and d[k] > 0]
    if sp:
        print(f"scheduler geomean {n} vs {names[0]}: "
              f"{math.exp(sum(map(math.log, sp)) / len(sp)):.3f} ({len(sp)} benches)")
PY
