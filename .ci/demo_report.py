#!/usr/bin/env python3
"""Checks and renders the main job's results (used by .ci/demo.sh and tests/e2e).

  demo_report.py lint SARIF ROOT            findings per example function; exit 1 unless every
                                            pitfall in demo_server is flagged by its check and
                                            nothing else in examples/ is flagged
  demo_report.py table INLINE.json OFFLOADED.json [--enforce]
                                            the before/after table from two loadgen --json files;
                                            with --enforce, exit 1 unless /healthz p99 > 50 ms
                                            inline and < 5 ms offloaded
  demo_report.py longpoll LOG START MID END [--enforce] [--show N]
                                            the long-poll reports demo_server wrote to LOG in
                                            [START, MID) (inline run) and [MID, END) (offloaded);
                                            with --enforce, exit 1 unless the inline run has a
                                            captured report naming crypt_r and hash_inline
"""
import json
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

# The pitfall functions of examples/demo_server/handlers.cpp and the check that must flag each;
# their fixes, which must stay clean.
PITFALLS = {
    "hash_inline": "rill-blocking-call",
    "config_inline": "rill-blocking-call",
    "lookup_inline": "rill-blocking-call",
    "fanout_inline": "rill-unbounded-fanout",
    "counter_inline": "rill-lock-across-await",
    "report_inline": "rill-large-frame",
}
FIXES = {
    "hash_inline": ("hash_offloaded", "/hash", "/hash_offloaded"),
    "config_inline": ("config_async", "/config", "/config_async"),
    "lookup_inline": ("lookup_async", "/lookup", "/lookup_async"),
    "fanout_inline": ("fanout_bounded", "/fanout", "/fanout_bounded"),
    "counter_inline": ("counter_scoped", "/counter", "/counter_scoped"),
    "report_inline": ("report_heap", "/report", "/report_heap"),
}
HANDLERS = "examples/demo_server/handlers.cpp"
# Examples that must have no finding besides the pitfalls above (written to be clean; other
# examples' findings are listed but do not decide the verdict).
STRICT_DIRS = ("examples/demo_server/", "examples/echo_server/", "examples/fanout_crawler/")
HEALTHZ_INLINE_MIN_MS = 50.0
HEALTHZ_OFFLOADED_MAX_MS = 5.0


def function_extents(path):
    """(name, first line, last line) of every top-level `rill::Task<...> name(` definition."""
    lines = Path(path).read_text().splitlines()
    out = []
    start = name = None
    for i, line in enumerate(lines, 1):
        m = re.match(r"^rill::Task<[^>]*> (\w+)\(", line)
        if m:
            start, name = i, m.group(1)
        elif start and line == "}":
            out.append((name, start, i))
            start = name = None
    return out


def sarif_findings(sarif_path, root):
    doc = json.loads(Path(sarif_path).read_text())
    root = Path(root).resolve()
    found = []
    for run in doc.get("runs", []):
        bases = {}
        for k, v in (run.get("originalUriBaseIds") or {}).items():
            bases[k] = Path(unquote(urlparse(v.get("uri", "")).path))
        for res in run.get("results", []):
            loc = (res.get("locations") or [{}])[0].get("physicalLocation", {})
            art = loc.get("artifactLocation", {})
            uri = unquote(art.get("uri", ""))
            p = Path(urlparse(uri).path) if uri.startswith("file:") else Path(uri)
            if not p.is_absolute():
                p = bases.get(art.get("uriBaseId"), root) / p
            try:
                rel = str(p.resolve().relative_to(root))
            except ValueError:
                rel = str(p)
            line = loc.get("region", {}).get("startLine", 0)
            col = loc.get("region", {}).get("startColumn", 0)
            found.append((rel, line, col, res.get("ruleId", "?"),
                          res.get("message", {}).get("text", "")))
    return found


def cmd_lint(sarif_path, root):
    findings = sarif_findings(sarif_path, root)
    extents = function_extents(Path(root) / HANDLERS)

    def owner(rel, line):
        if rel != HANDLERS:
            return None
        for name, a, b in extents:
            if a <= line <= b:
                return name
        return None

    by_fn = {}
    unexpected = []
    elsewhere = []
    for rel, line, col, rule, msg in findings:
        fn = owner(rel, line)
        by_fn.setdefault(fn, []).append(rule)
        if fn in PITFALLS:
            continue
        if any(rel.startswith(d) for d in STRICT_DIRS):
            unexpected.append(f"{rel}:{line}:{col}: {rule}: {msg}")
        else:
            elsewhere.append(f"{rel}:{line}:{col}: {rule}")

    ok = True
    print(f"rill-lint over examples/: {len(findings)} findings from "
          f"{len({f[3] for f in findings})} checks")
    print(f"  {'endpoints':<30} {'pitfall: expected check':<44} {'fix':<26}")
    for fn, check in PITFALLS.items():
        fix, path_a, path_b = FIXES[fn]
        hits = by_fn.get(fn, [])
        got = check in hits
        fix_hits = by_fn.get(fix, [])
        ok = ok and got and not fix_hits
        mark = "found" if got else "MISSING"
        fixmark = "clean" if not fix_hits else "FLAGGED: " + ",".join(sorted(set(fix_hits)))
        print(f"  {path_a + ' vs ' + path_b:<30} {fn + ': ' + check + ' ' + mark:<44} "
              f"{fix + ': ' + fixmark:<26}")
    fired = {f[3] for f in findings}
    missing_checks = set(PITFALLS.values()) - fired
    if missing_checks:
        ok = False
        print(f"  checks that did not fire: {', '.join(sorted(missing_checks))}")
    if elsewhere:
        print("  findings in the other examples (not part of the demo's verdict):")
        for e in elsewhere:
            print(f"    {e}")
    if unexpected:
        ok = False
        print("  findings outside the pitfall functions of demo_server / echo_server / "
              "fanout_crawler (should be none):")
        for u in unexpected:
            print(f"    {u}")
    print("  lint verdict: " + ("PASS (every pitfall flagged, no fix flagged)" if ok else "FAIL"))
    return 0 if ok else 1


def cmd_table(inline_path, offloaded_path, enforce):
    a = json.loads(Path(inline_path).read_text())
    b = json.loads(Path(offloaded_path).read_text())
    rows = [("POST /hash (bcrypt inline)", a), ("POST /hash_offloaded (spawn_blocking)", b)]
    print(f"  {'variant':<38} {'hash req/s':>10} {'errors':>7} {'/healthz p50':>13} "
          f"{'/healthz p99':>13} {'/healthz max':>13}")
    for name, r in rows:
        ld, pr = r["load"], r["probe"]
        print(f"  {name:<38} {ld['rps']:>10.1f} {ld['errors'] + pr['errors']:>7} "
              f"{pr['p50_ms']:>10.2f} ms {pr['p99_ms']:>10.2f} ms {pr['max_ms']:>10.2f} ms")
    p99_in, p99_off = a["probe"]["p99_ms"], b["probe"]["p99_ms"]
    c1 = p99_in > HEALTHZ_INLINE_MIN_MS
    c2 = p99_off < HEALTHZ_OFFLOADED_MAX_MS
    errors = sum(r[k]["errors"] for _, r in rows for k in ("load", "probe"))
    print(f"  acceptance: inline /healthz p99 {p99_in:.2f} ms > {HEALTHZ_INLINE_MIN_MS:.0f} ms: "
          f"{'PASS' if c1 else 'FAIL'};  offloaded /healthz p99 {p99_off:.2f} ms < "
          f"{HEALTHZ_OFFLOADED_MAX_MS:.0f} ms: {'PASS' if c2 else 'FAIL'};  "
          f"failed requests: {errors}")
    if enforce and not (c1 and c2 and errors == 0):
        return 1
    return 0


def read_reports(log, start, end):
    data = Path(log).read_bytes()[start:end].decode("utf-8", "replace")
    return re.findall(r"\[long-poll\] (.*?)\[/long-poll\]\n", data, re.S)


def cmd_longpoll(log, start, mid, end, enforce, show):
    inline = read_reports(log, start, mid)
    offloaded = read_reports(log, mid, end)
    naming = [r for r in inline if "crypt_r" in r and "hash_inline" in r]
    print(f"  long-poll reports: {len(inline)} during the inline run "
          f"({len(naming)} with stacks naming crypt_r and hash_inline), "
          f"{len(offloaded)} during the offloaded run")
    for r in naming[:show]:
        print("  ---")
        for line in r.rstrip("\n").splitlines():
            print("  " + line)
    if naming[:show]:
        print("  ---")
    ok = bool(naming)
    if ok:
        print("  detector verdict: PASS")
    else:
        print("  detector verdict: FAIL (no report names crypt_r and hash_inline)")
    return 0 if (ok or not enforce) else 1


def main(argv):
    if len(argv) >= 3 and argv[0] == "lint":
        return cmd_lint(argv[1], argv[2])
    if len(argv) >= 3 and argv[0] == "table":
        return cmd_table(argv[1], argv[2], "--enforce" in argv)
    if len(argv) >= 5 and argv[0] == "longpoll":
        show = 1
        if "--show" in argv:
            show = int(argv[argv.index("--show") + 1])
        return cmd_longpoll(argv[1], int(argv[2]), int(argv[3]), int(argv[4]),
                            "--enforce" in argv, show)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
