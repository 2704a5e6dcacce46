#!/usr/bin/env python3
"""Integration tests of the rill-lint command line (and of librill-tidy.so in clang-tidy-19).

Usage: test_cli.py --rill-lint PATH --plugin PATH --rules-dir DIR GROUP
Groups: formats plugin bad_input parse_error p_workflow exit_codes rules_files.
Every test works in a fresh temporary directory and fails with a message naming the assertion.
"""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ARGS = None
FAILURES = []

TASK = r"""
#include <coroutine>
struct Task {
  struct promise_type {
    Task get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
};
namespace rill { inline int spawn(int) { return 0; } }
extern "C" unsigned sleep(unsigned);
"""

SAMPLE = TASK + r"""
void helper() { sleep(1); }
Task blocking(int n) {
  sleep(2);
  helper();
  for (int i = 0; i < n; ++i) rill::spawn(i);
  co_return;
}
"""

CLEAN = TASK + r"""
Task clean() { co_return; }
"""


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print(f"  FAIL: {what}")
    return cond


def run(args, cwd, **kw):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, **kw)


def lint(args, cwd):
    return run([ARGS.rill_lint, *args], cwd)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


DIAG = re.compile(r"^(.+?):(\d+):(\d+): (warning|error|note): (.*)$", re.M)


def diags(text, level=None):
    out = []
    for m in DIAG.finditer(text):
        if level and m.group(4) != level:
            continue
        out.append((os.path.basename(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4), m.group(5)))
    return out


# ------------------------------------------------------------------------------------------------
def test_formats(tmp):
    write(f"{tmp}/sample.cpp", SAMPLE)
    base = ["sample.cpp", "--", "-std=c++20"]
    text = lint(base, tmp)
    check(text.returncode == 0, f"text: exit 0 for warnings (got {text.returncode}: {text.stderr})")
    warns = diags(text.stdout, "warning")
    check(len(warns) == 3, f"text: 3 warnings expected, got {warns}")
    check(any("[rill-blocking-call]" in w[4] for w in warns) and any("[rill-unbounded-fanout]" in w[4] for w in warns),
          "text: both checks reported")
    check(re.search(r"^\s+\d+ \|", text.stdout, re.M) is not None, "text: clang-tidy style source snippet")
    # --output FILE: same text, nothing on stdout.
    out = lint([*base[:1], "--output", "report.txt", *base[1:]], tmp)
    with open(f"{tmp}/report.txt", encoding="utf-8") as f:
        saved = f.read()
    check(out.stdout == "", "text --output: stdout empty")
    check(diags(saved) == diags(text.stdout), "text --output: file has the same diagnostics")

    # SARIF
    sar = lint(["--format=sarif", *base], tmp)
    check(sar.returncode == 0, f"sarif: exit 0 (got {sar.returncode})")
    log = json.loads(sar.stdout)
    check(log.get("version") == "2.1.0", "sarif: version 2.1.0")
    check("sarif" in log.get("$schema", "") and "2.1.0" in log.get("$schema", ""), "sarif: $schema")
    run0 = log["runs"][0]
    driver = run0["tool"]["driver"]
    check(driver["name"] == "rill-lint", "sarif: tool.driver.name")
    rule_ids = [r["id"] for r in driver["rules"]]
    check(sorted(rule_ids) == ["rill-blocking-call", "rill-unbounded-fanout"], f"sarif: rule ids {rule_ids}")
    for r in driver["rules"]:
        check(r["shortDescription"]["text"] and r["fullDescription"]["text"] and r["help"]["text"],
              f"sarif: rule {r['id']} has descriptions and help")
    results = run0["results"]
    check(len(results) == 3, f"sarif: 3 results, got {len(results)}")
    text_lines = sorted((w[1], w[2]) for w in warns)
    sarif_lines = []
    fps = set()
    for res in results:
        check(driver["rules"][res["ruleIndex"]]["id"] == res["ruleId"], "sarif: ruleIndex matches ruleId")
        check(res["level"] == "warning", "sarif: level warning")
        check(res["message"]["text"] and "[" not in res["message"]["text"][-1:], "sarif: message text")
        loc = res["locations"][0]["physicalLocation"]
        check(loc["artifactLocation"]["uri"] == "sample.cpp", f"sarif: relative uri {loc['artifactLocation']}")
        check(loc["artifactLocation"].get("uriBaseId") == "%SRCROOT%", "sarif: uriBaseId")
        sarif_lines.append((loc["region"]["startLine"], loc["region"]["startColumn"]))
        pf = res["partialFingerprints"]
        check("primaryLocationLineHash" in pf and "rillFingerprint/v1" in pf, "sarif: partialFingerprints")
        fps.add(pf["rillFingerprint/v1"])
    check(sorted(sarif_lines) == text_lines, f"sarif: locations {sorted(sarif_lines)} == text {text_lines}")
    check(len(fps) == 3, "sarif: fingerprints are unique")
    transitive = [r for r in results if "reached through" in r["message"]["text"]]
    check(len(transitive) == 1 and len(transitive[0].get("relatedLocations", [])) == 1,
          "sarif: the transitive finding carries its note as a relatedLocation")
    check(run0["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file:///"), "sarif: %SRCROOT% base")
    # Fingerprints survive a line shift; locations move.
    write(f"{tmp}/sample.cpp", "\n\n\n" + SAMPLE)
    moved = json.loads(lint(["--format=sarif", *base], tmp).stdout)["runs"][0]["results"]
    check({r["partialFingerprints"]["rillFingerprint/v1"] for r in moved} == fps,
          "sarif: fingerprints stable under a line shift")
    check(sorted(r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in moved) ==
          sorted(l + 3 for l, _ in sarif_lines), "sarif: start lines moved by 3")
    write(f"{tmp}/sample.cpp", SAMPLE)

    # Markdown
    md = lint(["--format=markdown", *base], tmp).stdout
    check(md.startswith("## rill-lint report"), "markdown: title")
    check("| `rill-blocking-call` | 2 |" in md and "| `rill-unbounded-fanout` | 1 |" in md,
          "markdown: counts per check")
    check("| `sample.cpp` | 3 |" in md, "markdown: counts per file")
    for line, _ in text_lines:
        check(f"- `sample.cpp:{line}`" in md, f"markdown: finding sample.cpp:{line}")
    check("<details>" not in md, "markdown: no collapse under 50 findings")
    many = TASK + "Task many() {\n" + "".join("  sleep(1);\n" for _ in range(60)) + "  co_return;\n}\n"
    write(f"{tmp}/many.cpp", many)
    mdm = lint(["--format=markdown", "many.cpp", "--", "-std=c++20"], tmp).stdout
    check("**60 findings**" in mdm, "markdown: total count")
    check("<details>" in mdm and "<summary>10 more findings</summary>" in mdm,
          "markdown: findings past 50 collapsed")
    inline = mdm.split("<details>")[0]
    check(inline.count("- `many.cpp:") == 50, "markdown: exactly 50 findings inline")
    clean = lint(["--format=markdown", "many.cpp", "--checks=-*,rill-unbounded-fanout", "--", "-std=c++20"], tmp)
    check("No findings." in clean.stdout, "markdown: clean run says so")

    # GitHub annotations, with escaping of file names and multi-line messages.
    odd = f"{tmp}/odd,name:x.cpp"
    write(odd, SAMPLE)
    gh = lint(["--format=github", "odd,name:x.cpp", "--", "-std=c++20"], tmp).stdout.splitlines()
    check(len(gh) == 3, f"github: 3 annotations, got {gh}")
    for line in gh:
        check(re.match(r"^::warning file=odd%2Cname%3Ax\.cpp,line=\d+,col=\d+,title=rill-[a-z-]+::", line) is not None,
              f"github: annotation syntax/escaping: {line}")
    check(any("%0Anote: odd,name:x.cpp:" in l for l in gh), "github: notes as escaped extra lines")

    # --report FORMAT=FILE: several reports from one run, each the same as its own run's.
    both = lint(["--format=sarif", "--output", "both.sarif", "--report=markdown=both.md",
                 "--report=github=both.gh", *base], tmp)
    check(both.returncode == 0 and both.stdout == "", f"--report: exit 0, stdout empty ({both.stderr})")
    alone = {"sarif": lint(["--format=sarif", *base], tmp).stdout,
             "md": lint(["--format=markdown", *base], tmp).stdout,
             "gh": lint(["--format=github", *base], tmp).stdout}
    for ext, want in alone.items():
        with open(f"{tmp}/both.{ext}", encoding="utf-8") as f:
            check(f.read() == want, f"--report: both.{ext} equals a --format={ext} run")
    text_too = lint(["--report=markdown=text.md", *base], tmp)
    check(diags(text_too.stdout, "warning") == warns, "--report with text: diagnostics still on stdout")
    with open(f"{tmp}/text.md", encoding="utf-8") as f:
        check(f.read() == alone["md"], "--report with text: the markdown file")
    for bad in ["--report=xml=a.xml", "--report=markdown", "--report=sarif="]:
        r = lint([bad, *base], tmp)
        check(r.returncode == 2 and "--report expects FORMAT=FILE" in r.stderr,
              f"{bad}: exit 2 with a clear error (got {r.returncode}: {r.stderr.strip()})")
    r = lint(["--report=sarif=no/such/dir/r.sarif", *base], tmp)
    check(r.returncode == 2 and "cannot open report file" in r.stderr, "--report: unwritable file is exit 2")


def test_plugin(tmp):
    tidy = shutil.which("clang-tidy-19")
    if not check(tidy is not None, "plugin: clang-tidy-19 installed"):
        return
    needed = run(["readelf", "-d", ARGS.plugin], tmp).stdout
    check("libclang-cpp" not in needed and "libLLVM" not in needed,
          "plugin: librill-tidy.so does not link clang/LLVM (symbols come from clang-tidy-19)")
    lst = run([tidy, f"--load={ARGS.plugin}", "--checks=-*,rill-*", "--list-checks"], tmp)
    names = re.findall(r"^\s+(rill-[a-z-]+)$", lst.stdout, re.M)
    check(sorted(names) == ["rill-blocking-call", "rill-discarded-awaitable", "rill-large-frame",
                            "rill-lock-across-await", "rill-unbounded-fanout"],
          f"plugin: --list-checks lists rill-*: {names}")
    # A relative rill.RulesFiles resolves against the .clang-tidy that sets it, in the plugin as
    # in rill-lint (whatever the working directory).
    write(f"{tmp}/proj/.clang-tidy",
          "Checks: '-*,rill-blocking-call'\nCheckOptions:\n  rill.RulesFiles: 'lint/team.yaml'\n")
    write(f"{tmp}/proj/lint/team.yaml",
          "version: 1\nblocking:\n  - name: team_wait\n    category: team\n    fix: f\n")
    write(f"{tmp}/proj/src/t.cpp", TASK + "\nvoid team_wait();\nTask tw() { team_wait(); co_return; }\n")
    os.makedirs(f"{tmp}/elsewhere", exist_ok=True)
    a = run([tidy, f"--load={ARGS.plugin}", f"{tmp}/proj/src/t.cpp", "--", "-std=c++20"], f"{tmp}/elsewhere")
    b = lint([f"{tmp}/proj/src/t.cpp", "--", "-std=c++20"], f"{tmp}/elsewhere")
    for who, r in (("clang-tidy-19 --load", a), ("rill-lint", b)):
        check("blocking team 'team_wait'" in r.stdout,
              f"plugin: relative rill.RulesFiles resolves against the config file in {who} "
              f"({r.stdout[-300:]} {r.stderr[-300:]})")
    here = os.path.dirname(os.path.abspath(__file__))
    for fixture in ("rill-blocking-call.cpp", "rill-unbounded-fanout.cpp"):
        check_name = fixture[:-4]
        path = os.path.join(here, fixture)
        a = run([tidy, f"--load={ARGS.plugin}", f"--checks=-*,{check_name}", path, "--", "-std=c++20"], tmp)
        b = lint([f"--checks=-*,{check_name}", path, "--", "-std=c++20"], tmp)
        da, db = diags(a.stdout), diags(b.stdout)
        check(len(da) > 10 and da == db,
              f"plugin: clang-tidy-19 --load gives the same diagnostics as rill-lint on {fixture} "
              f"({len(da)} vs {len(db)})")


def test_bad_input(tmp):
    write(f"{tmp}/good.cpp", SAMPLE)
    r = lint(["missing.cpp", "--", "-std=c++20"], tmp)
    check(r.returncode == 2 and "no such file or directory: 'missing.cpp'" in r.stderr,
          f"missing file: exit 2 + message (got {r.returncode}: {r.stderr})")
    r = lint(["missing.cpp", "good.cpp", "--", "-std=c++20"], tmp)
    check(r.returncode == 2 and len(diags(r.stdout, "warning")) == 3,
          "missing file: the other files are still linted, exit 2")
    write(f"{tmp}/bad-syntax.yaml", "version: 1\nblocking:\n  - name: \"x\n    category: y\n")
    r = lint(["--rules", "bad-syntax.yaml", "good.cpp", "--", "-std=c++20"], tmp)
    check(r.returncode == 2 and re.search(r"bad-syntax\.yaml:\d+:\d+: error: ", r.stderr) is not None,
          f"bad YAML: exit 2 and file:line:col (got {r.returncode}: {r.stderr})")
    check(r.stdout == "", "bad YAML: nothing linted with a broken rule set")
    write(f"{tmp}/bad-key.yaml", "version: 1\nblockin:\n  - name: x\n")
    r = lint(["--rules", "bad-key.yaml", "good.cpp", "--", "-std=c++20"], tmp)
    check(r.returncode == 2 and "bad-key.yaml:2:1: error: unknown key 'blockin'" in r.stderr,
          f"bad schema: exit 2 and names the key and position ({r.stderr})")
    write(f"{tmp}/bad-entry.yaml", "version: 1\nblocking:\n  - name: x\n    fix: y\n")
    r = lint(["--rules", "bad-entry.yaml", "good.cpp", "--", "-std=c++20"], tmp)
    check(r.returncode == 2 and "bad-entry.yaml:3:5: error: 'blocking' entry has no 'category'" in r.stderr,
          f"incomplete entry: exit 2 and message ({r.stderr})")
    r = lint(["--rules", "nope.yaml", "good.cpp", "--", "-std=c++20"], tmp)
    check(r.returncode == 2 and "nope.yaml" in r.stderr and "cannot read rules file" in r.stderr,
          "missing rules file: exit 2")
    write(f"{tmp}/cfg/.clang-tidy", "Checks: '-*,rill-*'\nCheckOptions:\n  rill.RulesFiles: 'absent.yaml'\n")
    write(f"{tmp}/cfg/a.cpp", SAMPLE)
    r = lint(["cfg/a.cpp", "--", "-std=c++20"], tmp)
    check(r.returncode == 2 and "absent.yaml" in r.stderr and "rill.RulesFiles" in r.stderr,
          f"rules file from .clang-tidy: exit 2 ({r.stderr})")
    write(f"{tmp}/build/compile_commands.json", '[{"directory": "/tmp", "file": ')
    r = lint(["-p", "build", "good.cpp"], tmp)
    check(r.returncode == 2 and "cannot load compilation database" in r.stderr,
          f"broken compile_commands.json: exit 2 + message ({r.stderr})")
    write(f"{tmp}/build2/compile_commands.json", '{"not": "a list"}')
    r = lint(["-p", "build2"], tmp)
    check(r.returncode == 2 and "cannot load compilation database" in r.stderr,
          "compile_commands.json of the wrong shape: exit 2")
    r = lint(["-p", "no-such-dir", "good.cpp"], tmp)
    check(r.returncode == 2, "-p to a missing directory: exit 2")
    r = lint(["--format=xml", "good.cpp", "--", "-std=c++20"], tmp)
    check(r.returncode == 2, "unknown --format: exit 2")
    r = lint(["--", "-std=c++20"], tmp)
    check(r.returncode == 2 and "no input files" in r.stderr, "no input files: exit 2")
    write(f"{tmp}/badcfg/.clang-tidy", "Checks: [unclosed\n")
    write(f"{tmp}/badcfg/a.cpp", SAMPLE)
    r = lint(["--config-file=badcfg/.clang-tidy", "badcfg/a.cpp", "--", "-std=c++20"], tmp)
    check(r.returncode == 2 and "invalid configuration" in r.stderr, f"bad --config-file: exit 2 ({r.stderr})")


def test_parse_error(tmp):
    write(f"{tmp}/good.cpp", SAMPLE)
    write(f"{tmp}/broken.cpp", TASK + "Task broken() { int x = ; co_return; }\n")
    for jobs in ("1", "2"):
        r = lint(["-j", jobs, "broken.cpp", "good.cpp", "--", "-std=c++20"], tmp)
        errs = [d for d in diags(r.stdout, "error") if d[0] == "broken.cpp"]
        check(r.returncode == 2, f"parse error (-j {jobs}): exit 2 (got {r.returncode})")
        check(errs and "expected expression" in errs[0][4] and "[clang-diagnostic-error]" in errs[0][4],
              f"parse error (-j {jobs}): the compiler's error is reported: {errs}")
        good = [d for d in diags(r.stdout, "warning") if d[0] == "good.cpp"]
        check(len(good) == 3, f"parse error (-j {jobs}): the other TU is still linted ({good})")
    r = lint(["--format=sarif", "broken.cpp", "good.cpp", "--", "-std=c++20"], tmp)
    res = json.loads(r.stdout)["runs"][0]["results"]
    check(any(x["ruleId"] == "clang-diagnostic-error" and x["level"] == "error" for x in res),
          "parse error: in SARIF as an error result")


def test_p_workflow(tmp):
    for name in ("src/a.cpp", "src/b.cpp", "other/c.cpp"):
        write(f"{tmp}/{name}", SAMPLE)
    db = [{"directory": tmp, "file": f"{tmp}/{n}", "arguments": ["clang++-19", "-std=c++20", "-c", n]}
          for n in ("src/a.cpp", "src/b.cpp", "other/c.cpp")]
    write(f"{tmp}/build/compile_commands.json", json.dumps(db))
    r = lint(["-p", "build"], tmp)
    files = sorted({d[0] for d in diags(r.stdout, "warning")})
    check(r.returncode == 0 and files == ["a.cpp", "b.cpp", "c.cpp"],
          f"-p build with no sources lints every file of the database ({files}, rc {r.returncode}: {r.stderr})")
    r = lint(["-p", "build", "src"], tmp)
    files = sorted({d[0] for d in diags(r.stdout, "warning")})
    check(files == ["a.cpp", "b.cpp"], f"-p build src/ lints the database files under src/ ({files})")
    r1 = lint(["-p", "build", "-j", "1"], tmp)
    r2 = lint(["-p", "build", "-j", "2"], tmp)
    check(diags(r1.stdout) == diags(r2.stdout) and len(diags(r1.stdout)) > 0,
          "-j 2 reports exactly what -j 1 reports, in the same order")
    # Non-C/C++ entries (assembly) are skipped, as run-clang-tidy.py does.
    write(f"{tmp}/src/start.S", ".text\n")
    write(f"{tmp}/build2/compile_commands.json", json.dumps(db + [
        {"directory": tmp, "file": f"{tmp}/src/start.S", "arguments": ["clang-19", "-c", "src/start.S"]}]))
    r = lint(["-p", "build2"], tmp)
    files = sorted({d[0] for d in diags(r.stdout, "warning")})
    check(r.returncode == 0 and files == ["a.cpp", "b.cpp", "c.cpp"],
          f"-p skips .S entries of the database ({files}, rc {r.returncode}: {r.stderr[-300:]})")
    r = lint(["-p", "build", "src/a.cpp"], tmp)
    check(len(diags(r.stdout, "warning")) == 3 and r.returncode == 0, "-p build FILE uses the database flags")
    # A database entry without -std=c++20 cannot compile coroutines: reported, exit 2.
    write(f"{tmp}/build3/compile_commands.json",
          json.dumps([{"directory": tmp, "file": f"{tmp}/src/a.cpp", "arguments": ["clang++-19", "-std=c++17", "-c", "src/a.cpp"]}]))
    r = lint(["-p", "build3"], tmp)
    check(r.returncode == 2, "-p with flags that break the TU: exit 2")


def test_exit_codes(tmp):
    write(f"{tmp}/clean.cpp", CLEAN)
    write(f"{tmp}/sample.cpp", SAMPLE)
    r = lint(["clean.cpp", "--", "-std=c++20"], tmp)
    check(r.returncode == 0 and r.stdout == "", f"clean: exit 0, no output ({r.returncode}, {r.stdout})")
    r = lint(["sample.cpp", "--", "-std=c++20"], tmp)
    check(r.returncode == 0, "warnings alone: exit 0")
    r = lint(["--warnings-as-errors=rill-*", "sample.cpp", "--", "-std=c++20"], tmp)
    check(r.returncode == 1, f"--warnings-as-errors: exit 1 (got {r.returncode})")
    check("[rill-blocking-call,-warnings-as-errors]" in r.stdout, "--warnings-as-errors: marked like clang-tidy")
    check("3 warnings treated as errors" in r.stderr, "--warnings-as-errors: summary on stderr")
    r = lint(["--warnings-as-errors=rill-unbounded-fanout", "--format=sarif", "sample.cpp", "--", "-std=c++20"], tmp)
    res = json.loads(r.stdout)["runs"][0]["results"]
    check(r.returncode == 1 and sorted(x["level"] for x in res) == ["error", "warning", "warning"],
          "--warnings-as-errors: promoted findings are SARIF errors, exit 1")
    r = lint(["--list-checks"], tmp)
    check(r.returncode == 0 and "rill-blocking-call" in r.stdout and "misc-" not in r.stdout,
          "default checks are rill-*")
    r = lint(["--checks=*", "--list-checks"], tmp)
    check("bugprone-use-after-move" in r.stdout and "rill-large-frame" in r.stdout,
          "upstream modules are linked into rill-lint")
    r = lint(["--checks=-*,rill-*", "--export-fixes=fixes.yaml", "sample.cpp", "--", "-std=c++20"], tmp)
    check(os.path.exists(f"{tmp}/fixes.yaml") and "rill-blocking-call" in open(f"{tmp}/fixes.yaml").read(),
          "--export-fixes writes clang-tidy's YAML")
    r = lint(["--checks=-*,rill-*", "--header-filter=.*", "sample.cpp", "--", "-std=c++20"], tmp)
    check(r.returncode == 0 and len(diags(r.stdout, "warning")) == 3, "--header-filter accepted")


def test_rules_files(tmp):
    files = sorted(glob.glob(os.path.join(ARGS.rules_dir, "*.yaml")))
    check(len(files) >= 4, f"rules/: the built-in rule files exist ({files})")
    for f in files:
        r = lint(["--rules", f, "--list-checks"], tmp)
        check(r.returncode == 0, f"rules/{os.path.basename(f)} loads on its own ({r.stderr})")


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--rill-lint", required=True)
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--rules-dir", required=True)
    ap.add_argument("group")
    ARGS = ap.parse_args()
    fn = globals().get(f"test_{ARGS.group}")
    if not fn:
        print(f"unknown group {ARGS.group}")
        return 2
    tmp = tempfile.mkdtemp(prefix=f"rill-lint-{ARGS.group}-")
    try:
        fn(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if FAILURES:
        print(f"{ARGS.group}: {len(FAILURES)} failure(s)")
        return 1
    print(f"{ARGS.group}: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
