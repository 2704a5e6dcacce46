#!/usr/bin/env python3
"""Runs rill-lint on a fixture and compares its diagnostics with the inline expectations.

Expectations use clang-tidy's check_clang_tidy.py syntax:
    // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: <substring of the message> [check-name]
    // CHECK-NOTES: :[[@LINE-1]]:3: note: <substring of the note>
The line is [[@LINE]], [[@LINE+N]], [[@LINE-N]] (relative to the comment) or a number.

Rules (this is what makes the must-not-flag cases real):
  * every expectation must match a diagnostic at the same line, column and level whose text
    contains the expected text;
  * every warning/error rill-lint prints for the fixture file must be matched by an expectation;
  * notes are matched strictly (unexpected notes fail) when the fixture has a CHECK-NOTES line.

Directives (optional, anywhere in the file):
    // FIXTURE-ARGS: <extra rill-lint arguments, shell syntax>
    // FIXTURE-COMPILE-ARGS: <compiler arguments after '--' (default: -std=c++20)>
    // FIXTURE-CHECKS: <value for --checks (default: -*,<check named by the file name>);
                       'none' passes no --checks (configuration files decide)>
    // FIXTURE-RUN-<SUFFIX>: <more rill-lint arguments for one more run of the same file>
A fixture with FIXTURE-RUN-<SUFFIX> directives runs once as usual and once per suffix with the
run's arguments added, like check_clang_tidy.py's -check-suffixes: plain CHECK-MESSAGES and
CHECK-NOTES lines are expected in every run, CHECK-MESSAGES-<SUFFIX> and CHECK-NOTES-<SUFFIX>
only in that suffix's run (so one file holds the same code checked with two configurations).
The default check is the longest rill check name that prefixes the fixture's file name
(rill-large-frame-calibration.cpp -> rill-large-frame).

Exit status: 0 when everything matches, 1 otherwise (with a report on stderr).
"""
import argparse
import os
import re
import shlex
import subprocess
import sys

DIAG_RE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<level>warning|error|note): (?P<msg>.*)$")
EXPECT_RE = re.compile(
    r"//\s*CHECK-(?P<kind>MESSAGES|NOTES)(?:-(?P<suffix>[A-Z0-9]+))?:\s*(?P<file>[^\s:]*):(?P<line>\[\[@LINE(?P<off>[+-]\d+)?\]\]|\d+):"
    r"(?P<col>\d+):\s*(?P<level>warning|error|note):\s*(?P<text>.*?)\s*$")


def parse_expectations(lines):
    expects = []
    for idx, text in enumerate(lines, start=1):
        m = EXPECT_RE.search(text)
        if not m:
            if re.search(r"//\s*CHECK-(MESSAGES|NOTES)", text):
                raise SystemExit(f"line {idx}: malformed expectation: {text.strip()}")
            continue
        if m.group("line").startswith("[[@LINE"):
            line = idx + int(m.group("off") or 0)
        else:
            line = int(m.group("line"))
        expects.append({
            "kind": m.group("kind"), "line": line, "col": int(m.group("col")),
            "level": m.group("level"), "text": m.group("text"), "src": idx,
            "suffix": m.group("suffix") or "",
        })
    return expects


def directive(lines, name):
    for text in lines:
        m = re.search(r"//\s*" + re.escape(name) + r":\s*(.*)$", text)
        if m:
            return m.group(1).strip()
    return None


def known_checks(rill_lint):
    out = subprocess.run([rill_lint, "--checks=-*,rill-*", "--list-checks"],
                         capture_output=True, text=True, check=False).stdout
    return [l.strip() for l in out.splitlines() if l.strip().startswith("rill-")]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rill-lint", required=True)
    ap.add_argument("fixture")
    ap.add_argument("extra", nargs="*", help="extra rill-lint arguments (before the fixture)")
    args = ap.parse_args()

    fixture = os.path.realpath(args.fixture)
    with open(fixture, encoding="utf-8") as f:
        lines = f.read().splitlines()
    all_expects = parse_expectations(lines)

    checks = directive(lines, "FIXTURE-CHECKS")
    if checks is None:
        base = os.path.basename(fixture)
        names = [c for c in known_checks(args.rill_lint) if base.startswith(c)]
        checks = "-*," + (max(names, key=len) if names else "rill-*")
    compile_args = shlex.split(directive(lines, "FIXTURE-COMPILE-ARGS") or "-std=c++20")
    extra = shlex.split(directive(lines, "FIXTURE-ARGS") or "") + args.extra

    check_args = [] if checks == "none" else [f"--checks={checks}"]
    runs = [("", [])]
    for text in lines:
        m = re.search(r"//\s*FIXTURE-RUN-([A-Z0-9]+):\s*(.*)$", text)
        if m:
            runs.append((m.group(1), shlex.split(m.group(2))))
    unknown = {e["suffix"] for e in all_expects} - {suffix for suffix, _ in runs}
    if unknown:
        raise SystemExit(f"expectations for runs without FIXTURE-RUN-<SUFFIX>: {sorted(unknown)}")
    failed = 0
    for suffix, run_args in runs:
        expects = [e for e in all_expects if e["suffix"] in ("", suffix)]
        cmd = [args.rill_lint, *check_args, *extra, *run_args, fixture, "--", *compile_args]
        failed |= check_run(fixture, suffix, cmd, expects)
    return failed


def check_run(fixture, suffix, cmd, expects):
    strict_notes = any(e["kind"] == "NOTES" for e in expects)
    name = os.path.basename(fixture) + (f" (run {suffix})" if suffix else "")
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=os.path.dirname(fixture))
    actual = []
    for text in proc.stdout.splitlines():
        m = DIAG_RE.match(text)
        if m and os.path.realpath(m.group("file")) == fixture:
            actual.append({"line": int(m.group("line")), "col": int(m.group("col")),
                           "level": m.group("level"), "msg": m.group("msg"), "used": False})

    problems = []
    for e in expects:
        match = next((a for a in actual if not a["used"] and a["line"] == e["line"]
                      and a["col"] == e["col"] and a["level"] == e["level"] and e["text"] in a["msg"]), None)
        if match:
            match["used"] = True
        else:
            near = [a for a in actual if a["line"] == e["line"] and a["level"] == e["level"]]
            hint = "".join(f"\n      got {a['line']}:{a['col']}: {a['level']}: {a['msg']}" for a in near)
            problems.append(f"missing (expectation on line {e['src']}): {e['line']}:{e['col']}: "
                            f"{e['level']}: {e['text']}{hint}")
    for a in actual:
        if a["used"] or (a["level"] == "note" and not strict_notes):
            continue
        problems.append(f"unexpected: {a['line']}:{a['col']}: {a['level']}: {a['msg']}")
    if proc.returncode not in (0, 1):
        problems.append(f"rill-lint exited with {proc.returncode}:\n{proc.stderr}")

    n_warn = sum(1 for e in expects if e["level"] != "note")
    if problems:
        sys.stderr.write(f"FAIL {name}\n  command: {shlex.join(cmd)}\n")
        for p in problems:
            sys.stderr.write(f"  {p}\n")
        return 1
    print(f"PASS {name}: {n_warn} expected diagnostics, "
          f"{sum(1 for e in expects if e['level'] == 'note')} notes, no unexpected ones")
    return 0


if __name__ == "__main__":
    sys.exit(main())
