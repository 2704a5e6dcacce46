#!/usr/bin/env python3
"""Compares rill-lock-across-await with clang-tidy 19's misc-coroutine-hostile-raii and
cppcoreguidelines-no-suspend-with-lock on a fixture whose cases are marked
`// case flag: ...` (must be reported) and `// case ok: ...` (must not be reported).

A warning counts for the case whose marker precedes it. Prints true/false positives per check;
with --require-rill-perfect, exits 1 unless rill-lock-across-await flags every flag case and no
ok case (and 2 when a tool cannot be run).

Usage: upstream_lock_comparison.py --rill-lint build/lint/rill-lint FIXTURE [-v]
       upstream_lock_comparison.py --plugin build/lint/librill-tidy.so FIXTURE
"""
import argparse
import re
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rill-lint", help="rill-lint binary")
    ap.add_argument("--plugin", help="librill-tidy.so, loaded into --clang-tidy instead of rill-lint")
    ap.add_argument("--clang-tidy", default="clang-tidy-19")
    ap.add_argument("--require-rill-perfect", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("fixture")
    args = ap.parse_args()
    if not args.rill_lint and not args.plugin:
        ap.error("give --rill-lint or --plugin")

    lines = open(args.fixture, encoding="utf-8").read().split("\n")
    cases, case_of = [], {}
    for i, text in enumerate(lines, 1):
        m = re.match(r"\s*// case (flag|ok): (.*)", text)
        if m:
            cases.append((m.group(1), m.group(2)))
        case_of[i] = len(cases) - 1 if cases else None

    def hits(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True).stdout
        except OSError as e:
            print(f"error: cannot run {cmd[0]}: {e}", file=sys.stderr)
            sys.exit(2)
        found = set()
        for text in out.splitlines():
            m = re.match(r"^(.+?):(\d+):(\d+): warning: ", text)
            if m and m.group(1).endswith(args.fixture.split("/")[-1]):
                c = case_of.get(int(m.group(2)))
                if c is not None:
                    found.add(c)
        return found

    rill_cmd = ([args.rill_lint] if args.rill_lint else [args.clang_tidy, f"--load={args.plugin}"])
    runs = [
        ("rill-lock-across-await", rill_cmd + ["--checks=-*,rill-lock-across-await"]),
        ("misc-coroutine-hostile-raii", [args.clang_tidy, "--checks=-*,misc-coroutine-hostile-raii"]),
        ("cppcoreguidelines-no-suspend-with-lock",
         [args.clang_tidy, "--checks=-*,cppcoreguidelines-no-suspend-with-lock"]),
    ]
    n_flag = sum(1 for k, _ in cases if k == "flag")
    n_ok = len(cases) - n_flag
    status = 0
    for name, cmd in runs:
        found = hits(cmd + [args.fixture, "--", "-std=c++20"])
        tp = sum(1 for c, (k, _) in enumerate(cases) if k == "flag" and c in found)
        fp = sum(1 for c, (k, _) in enumerate(cases) if k == "ok" and c in found)
        print(f"{name:40} TP {tp:2}/{n_flag}  FP {fp:2}/{n_ok}")
        if args.verbose:
            for c, (k, d) in enumerate(cases):
                print(f"    {'HIT ' if c in found else '    '}{k:4} {d}")
        if name == "rill-lock-across-await" and args.require_rill_perfect and (tp != n_flag or fp):
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
