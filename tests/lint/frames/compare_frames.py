#!/usr/bin/env python3
"""Checks rill-large-frame's AST estimate against clang's exact coroutine frame sizes.

For every coroutine that clang emits in the given files, the exact frame size (from
`rill-lint --frame-report`, i.e. LLVM CoroSplit's frame_size remark at -O0) is compared with the
estimate rill-large-frame reports when its threshold is 0. Fails (exit 1) when a frame of at
least --min-size bytes is estimated outside +-tolerance, when an exact frame has no estimate, or
when no frame of at least --min-size bytes was compared (the test must not pass vacuously).
Prints the calibration table (function, estimate, exact, error %).

Usage:
  compare_frames.py --rill-lint build/lint/rill-lint FILE... [-- COMPILE ARGS]
  compare_frames.py --estimate-cmd 'clang-tidy-19 --load=lib.so' --exact-cmd 'tool' FILE... -- ARGS
"""

import argparse
import collections
import os
import re
import shlex
import subprocess
import sys

WARN_RE = re.compile(
    r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): warning: coroutine '(?P<name>.+?)' has an "
    r"estimated frame size of (?P<size>\d+) bytes.*\[rill-large-frame\]$")
EXACT_RE = re.compile(r"^\s*(?P<size>\d+)\s+(?P<align>\d+)\s+(?P<file>\S+):(?P<line>\d+)\s+(?P<name>.*)$")


def run(cmd):
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc.returncode, proc.stdout, proc.stderr


def main():
    argv = sys.argv[1:]
    compile_args = ["-std=c++20"]
    if "--" in argv:
        i = argv.index("--")
        argv, compile_args = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rill-lint", help="path of rill-lint (used for both sides unless overridden)")
    ap.add_argument("--estimate-cmd", help="command prefix printing rill-large-frame warnings")
    ap.add_argument("--exact-cmd", help="command prefix printing the --frame-report table")
    ap.add_argument("--tolerance", type=float, default=0.10)
    ap.add_argument("--min-size", type=int, default=1024)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args(argv)
    if not (args.rill_lint or (args.estimate_cmd and args.exact_cmd)):
        ap.error("give --rill-lint or both --estimate-cmd and --exact-cmd")
    files = [os.path.abspath(f) for f in args.files]
    for f in files:
        if not os.path.exists(f):
            print(f"error: no such file: {f}", file=sys.stderr)
            return 2

    est_prefix = shlex.split(args.estimate_cmd) if args.estimate_cmd else [args.rill_lint]
    exact_prefix = shlex.split(args.exact_cmd) if args.exact_cmd else [args.rill_lint, "--frame-report"]
    config = ("{Checks: '-*,rill-large-frame', CheckOptions: {rill-large-frame.FrameSizeThreshold: 0, "
              "rill-large-frame.MaxContributors: 0}}")
    est_cmd = est_prefix + ["--checks=-*,rill-large-frame", "--config=" + config] + files + ["--"] + compile_args
    rc, out, err = run(est_cmd)
    estimates = collections.defaultdict(list)
    for line in (out + "\n" + err).splitlines():
        m = WARN_RE.match(line.strip())
        if m:
            key = (os.path.realpath(m["file"]), int(m["line"]))
            estimates[key].append((int(m["size"]), m["name"]))
    if not estimates:
        print("error: the estimate run printed no rill-large-frame warnings:\n" + " ".join(est_cmd)
              + "\n" + out + err, file=sys.stderr)
        return 1

    exact_cmd = exact_prefix + files + ["--"] + compile_args
    rc, out, err = run(exact_cmd)
    if rc != 0:
        print("error: frame report failed (exit %d):\n%s\n%s%s" % (rc, " ".join(exact_cmd), out, err),
              file=sys.stderr)
        return 1
    exact = collections.defaultdict(list)
    for line in out.splitlines():
        m = EXACT_RE.match(line)
        if m:
            exact[(os.path.realpath(m["file"]), int(m["line"]))].append((int(m["size"]), m["name"]))
    if not exact:
        print("error: the frame report listed no coroutine:\n" + out + err, file=sys.stderr)
        return 1

    rows, failures, compared = [], [], 0
    for key in sorted(exact):
        ex = sorted(exact[key])
        es = sorted(estimates.get(key, []))
        if not es:
            for size, name in ex:
                if size >= args.min_size:
                    failures.append(f"{name} ({key[0]}:{key[1]}): exact {size} bytes, no estimate")
            continue
        # Several coroutines on one line (template instantiations; identical estimates are
        # reported once): pair each exact frame with the closest estimate of that line.
        if len(es) != len(ex):
            es = [min(es, key=lambda e: abs(e[0] - x[0])) for x in ex]
        for (xs, xname), (es_size, _) in zip(ex, es):
            err_pct = 100.0 * (es_size - xs) / xs
            rows.append((xname, es_size, xs, err_pct, os.path.basename(key[0]), key[1]))
            if xs >= args.min_size:
                compared += 1
                if abs(err_pct) > 100.0 * args.tolerance:
                    failures.append(f"{xname}: estimate {es_size} vs exact {xs} ({err_pct:+.1f}%)")

    print(f"{'function':60} {'estimate':>9} {'exact':>9} {'error':>7}  location")
    for name, es_size, xs, pct, base, line in sorted(rows, key=lambda r: -r[2]):
        print(f"{name[:60]:60} {es_size:9d} {xs:9d} {pct:+6.1f}%  {base}:{line}")
    if compared == 0:
        failures.append(f"no frame of at least {args.min_size} bytes was compared")
    if failures:
        print("\nFAILED:", file=sys.stderr)
        for f in failures:
            print("  " + f, file=sys.stderr)
        return 1
    print(f"\nOK: {compared} frames >= {args.min_size} bytes within {100 * args.tolerance:.0f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
