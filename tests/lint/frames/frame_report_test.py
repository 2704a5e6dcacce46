#!/usr/bin/env python3
"""Tests `rill-lint --frame-report` (exact coroutine frame sizes).

1. On calibration.cpp the report lists exactly the coroutines and frame sizes that clang++-19
   prints itself with -Rpass=coro-split (an independent run of the compiler), sorted by size,
   largest first, with file:line and demangled names; exit 0.
2. A TU that fails to compile: exit 2, the compiler's error is shown, and the other TU given on the
   same command line is still reported.
3. A missing file: exit 2 with a clear error.

Usage: frame_report_test.py --rill-lint build/lint/rill-lint [--clang clang++-19]
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROW_RE = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\S+):(\d+)\s+(.+)$")


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def rows(text):
    return [(int(m[1]), int(m[2]), m[3], int(m[4]), m[5]) for m in map(ROW_RE.match, text.splitlines()) if m]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rill-lint", required=True)
    ap.add_argument("--clang", default="clang++-19")
    args = ap.parse_args()
    failures = []
    calib = os.path.join(HERE, "calibration.cpp")
    broken = os.path.join(HERE, "broken_tu.cpp")

    # 1. exact sizes equal to clang's own -Rpass=coro-split remarks.
    rc, out, err = run([args.rill_lint, "--frame-report", calib, "--", "-std=c++20"])
    got = rows(out)
    if rc != 0:
        failures.append(f"--frame-report on calibration.cpp exited {rc}: {err}")
    rc2, _, remarks = run([args.clang, "-std=c++20", "-O0", "-c", calib, "-o", os.devnull, "-Rpass=coro-split"])
    want = sorted((int(m[3]), int(m[4]), int(m[2])) for m in re.finditer(
        r"^(.+?):(\d+):\d+: remark: Split '.*?' \(frame_size=(\d+), align=(\d+)\)", remarks, re.M)
        if os.path.realpath(m[1]) == os.path.realpath(calib))
    if rc2 != 0 or not want:
        failures.append(f"reference run of {args.clang} -Rpass=coro-split failed ({rc2})")
    have = sorted((size, align, line) for size, align, f, line, _ in got)
    if have != want:
        failures.append(f"frame report differs from clang's remarks:\n  report: {have}\n  clang:  {want}")
    sizes = [r[0] for r in got]
    if sizes != sorted(sizes, reverse=True):
        failures.append(f"frame report is not sorted by size, descending: {sizes}")
    if not any(r[4].startswith("cal::one_big_buffer(int)") and r[0] == 65568 for r in got):
        failures.append("frame report lacks the demangled 'cal::one_big_buffer(int)' with 65568 bytes")
    if any(os.path.realpath(r[2]) != os.path.realpath(calib) for r in got):
        failures.append("frame report rows do not name calibration.cpp as their file")

    # 2. a TU that fails to compile.
    rc, out, err = run([args.rill_lint, "--frame-report", broken, calib, "--", "-std=c++20"])
    if rc != 2:
        failures.append(f"broken TU: expected exit 2, got {rc}")
    if "undeclared_awaitable" not in err or "broken_tu.cpp" not in err:
        failures.append(f"broken TU: compiler error not shown on stderr:\n{err}")
    if len(rows(out)) != len(got) or not got:
        failures.append("broken TU: the other TU was not reported")

    # 3. a missing file.
    missing = os.path.join(HERE, "does-not-exist.cpp")
    rc, out, err = run([args.rill_lint, "--frame-report", missing, "--", "-std=c++20"])
    if rc != 2 or "does-not-exist.cpp" not in (err + out):
        failures.append(f"missing file: expected exit 2 and an error naming it, got {rc}: {err}")

    if failures:
        for f in failures:
            print("FAIL: " + f, file=sys.stderr)
        return 1
    print(f"PASS: {len(got)} coroutine frames, identical to clang's remarks; error cases exit 2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
