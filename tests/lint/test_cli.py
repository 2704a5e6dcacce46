#!/usr/bin/env python3
"""Integration tests of the rill-lint command line (and of librill-tidy.so in clang-tidy-19).

Usage: test_cli.py --rill-lint PATH --plugin PATH --rules-dir DIR GROUP
Groups: formats plugin bad_input parse_error p_workflow exit_codes rules_files parity pr_reports
cache_shard github_action.
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
                            "rill-lock-across-await", "rill-spawn-dangling-reference",
                            "rill-unbounded-fanout"],
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


def test_parity(tmp):
    """clang-tidy parity: CMake-style "--" commands, --verify-config, unknown options,
    run-clang-tidy's probe, --version."""
    write(f"{tmp}/sample.cpp", SAMPLE)
    write(f"{tmp}/team.yaml", "version: 1\nblocking:\n  - name: team::wait\n    category: sleep\n")
    # CMake's CXX_CLANG_TIDY: `rill-lint f.cpp -- <compiler> <flags> -o f.o -c f.cpp`.
    r = lint(["sample.cpp", "--", "/usr/bin/clang++-19", "-std=c++20", "-o", "sample.o", "-c", "sample.cpp"], tmp)
    check(r.returncode == 0 and "cannot specify -o" not in r.stderr and len(diags(r.stdout, "warning")) == 3,
          f"-- <compile command with -o x.o -c f.cpp> is linted like clang-tidy ({r.returncode}: {r.stderr})")
    check(not os.path.exists(f"{tmp}/sample.o"), "-o is stripped: no object file written")
    # --verify-config: knows rill's options (rill.RulesFiles, the checks' own options).
    write(f"{tmp}/ok/.clang-tidy",
          "Checks: '-*,rill-*'\nCheckOptions:\n  rill.RulesFiles: 'team.yaml'\n"
          "  rill-large-frame.FrameSizeThreshold: 4096\n  rill-blocking-call.Strict: true\n")
    write(f"{tmp}/ok/a.cpp", SAMPLE)
    r = lint(["--verify-config", "ok/a.cpp"], tmp)
    check(r.returncode == 0 and "No config errors detected." in r.stdout,
          f"--verify-config accepts rill's options ({r.returncode}: {r.stdout} {r.stderr})")
    write(f"{tmp}/typo/.clang-tidy",
          "Checks: '-*,rill-*,rill-blockng-call'\nCheckOptions:\n  rill-large-frame.Threshold: 4096\n"
          "  rill.RuleFiles: 'team.yaml'\n")
    write(f"{tmp}/typo/a.cpp", SAMPLE)
    r = lint(["--verify-config", "typo/a.cpp"], tmp)
    check(r.returncode == 2 and r.returncode != -11, f"--verify-config with errors: exit 2, no crash ({r.returncode})")
    check("unknown check 'rill-blockng-call'" in r.stderr, f"--verify-config: unknown check named ({r.stderr})")
    check("unknown rill check option 'rill-large-frame.Threshold'; did you mean "
          "'rill-large-frame.FrameSizeThreshold'?" in r.stderr,
          f"--verify-config: misspelt check option with suggestion ({r.stderr})")
    check("'rill.RuleFiles'; did you mean 'rill.RulesFiles'?" in r.stderr,
          f"--verify-config: misspelt global option with suggestion ({r.stderr})")
    # A normal run warns about the misspelt rill options and still lints.
    write(f"{tmp}/typo2/.clang-tidy", "Checks: '-*,rill-*'\nCheckOptions:\n  rill-large-frame.Threshold: 4096\n"
          "  readability-foo.Bar: 1\n")
    write(f"{tmp}/typo2/a.cpp", SAMPLE)
    r = lint(["typo2/a.cpp", "--", "-std=c++20"], tmp)
    check(r.returncode == 0 and len(diags(r.stdout, "warning")) == 3, f"misspelt option: run goes on ({r.returncode})")
    check(r.stderr.count("unknown rill check option 'rill-large-frame.Threshold'") == 1,
          f"misspelt option: warned once in a normal run ({r.stderr})")
    check("readability-foo" not in r.stderr, "normal run: only rill's options are checked")
    # The plugin in stock clang-tidy-19 knows rill.RulesFiles too.
    tidy = shutil.which("clang-tidy-19")
    if check(tidy is not None, "clang-tidy-19 installed"):
        r = run([tidy, f"--load={ARGS.plugin}", "--verify-config", "ok/a.cpp"], tmp)
        check(r.returncode == 0 and "No config errors detected." in r.stdout,
              f"plugin: clang-tidy-19 --verify-config accepts rill.RulesFiles ({r.stdout} {r.stderr})")
    # run-clang-tidy's probe: `--list-checks -p=DIR -`.
    db = [{"directory": tmp, "file": f"{tmp}/sample.cpp",
           "arguments": ["clang++-19", "-std=c++20", "-o", "sample.o", "-c", "sample.cpp"]}]
    write(f"{tmp}/build/compile_commands.json", json.dumps(db))
    r = lint(["--list-checks", "-p=build", "-"], tmp)
    check(r.returncode == 0 and "no such file" not in r.stderr and "rill-blocking-call" in r.stdout,
          f"--list-checks probe with '-' ({r.returncode}: {r.stderr})")
    rct = shutil.which("run-clang-tidy-19")
    if check(rct is not None, "run-clang-tidy-19 installed"):
        r = run([rct, "-clang-tidy-binary", ARGS.rill_lint, "-p", "build", "-quiet"], tmp)
        out = r.stdout + r.stderr
        check("no such file or directory: '-'" not in out and "rill-blocking-call" in out,
              f"run-clang-tidy-19 -clang-tidy-binary rill-lint: no probe error, findings shown ({out[-600:]})")
    r = lint(["--version"], tmp)
    check(r.returncode == 0 and re.search(r"rill-lint version \d+\.\d+\.\d+", r.stdout) is not None
          and "LLVM version 19" in r.stdout, f"--version prints rill-lint's and LLVM's version ({r.stdout})")


def git(args, cwd):
    r = run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd)
    assert r.returncode == 0, f"git {args}: {r.stderr}"
    return r.stdout


HEADER_BASE = "#pragma once\ninline int helper_value() { return 1; }\n"
HEADER_HEAD = "#pragma once\n#include <unistd.h>\ninline int helper_value() { return 1; }\n"


def make_repo(tmp):
    """A git repo: main (base) with old findings, HEAD (a branch) with one new finding in a.cpp
    and a changed header included by b.cpp; c.cpp is untouched."""
    base_a = TASK + "Task a_old() {\n  sleep(1);\n  co_return;\n}\n"
    write(f"{tmp}/src/a.cpp", base_a)
    write(f"{tmp}/src/h.hpp", HEADER_BASE)
    write(f"{tmp}/src/b.cpp", '#include "h.hpp"\n' + TASK + "Task b_old() {\n  sleep(1);\n  co_return;\n}\n")
    write(f"{tmp}/src/c.cpp", TASK + "Task c_old() {\n  sleep(1);\n  co_return;\n}\n")
    db = [{"directory": tmp, "file": f"{tmp}/src/{n}", "arguments": ["clang++-19", "-std=c++20", "-c", f"src/{n}"]}
          for n in ("a.cpp", "b.cpp", "c.cpp")]
    write(f"{tmp}/build/compile_commands.json", json.dumps(db))
    write(f"{tmp}/.gitignore", "build/\n*.sarif\n*.md\n")
    git(["init", "-q", "-b", "main"], tmp)
    git(["add", "."], tmp)
    git(["commit", "-q", "-m", "base"], tmp)
    git(["checkout", "-q", "-b", "feature"], tmp)
    write(f"{tmp}/src/a.cpp", base_a + "Task a_new() {\n  sleep(2);\n  co_return;\n}\n")
    write(f"{tmp}/src/h.hpp", HEADER_HEAD)
    git(["commit", "-q", "-am", "head"], tmp)


def test_pr_reports(tmp):
    make_repo(tmp)
    env = dict(os.environ, GITHUB_SERVER_URL="https://github.example", GITHUB_REPOSITORY="o/r", GITHUB_SHA="abc123")
    r = subprocess.run([ARGS.rill_lint, "-p", "build", "--changed-since", "main", "--format=markdown",
                        "--output", "pr.md", "--report=sarif=pr.sarif", "--report=github=pr.gh",
                        "--sarif-category", "rill/pr", "--help-uri-base", "https://docs.example/lint"],
                       cwd=tmp, capture_output=True, text=True, env=env)
    check(r.returncode == 0, f"--changed-since: exit 0 ({r.returncode}: {r.stderr})")
    check("2 of 3 TUs affected" in r.stderr, f"--changed-since: a.cpp (changed) and b.cpp (changed header) only ({r.stderr})")
    md = open(f"{tmp}/pr.md").read()
    check("### New" in md and "a\\_new" in md and "a\\_old" not in md and "b\\_old" not in md,
          f"--changed-since: only findings on added lines ({md})")
    check("[`src/a.cpp:19`](https://github.example/o/r/blob/abc123/src/a.cpp#L19)" in md,
          f"Markdown: findings link to their line ({md})")
    check("```cpp\n    sleep(2);" in md or "```cpp\n  " in md and "sleep(2);" in md, "Markdown: code excerpt")
    gh = open(f"{tmp}/pr.gh").read()
    check(gh.count("::warning") == 1 and "line=19" in gh, f"annotations: the same filter ({gh})")
    log = json.load(open(f"{tmp}/pr.sarif"))
    run0 = log["runs"][0]
    check(len(run0["results"]) == 1, "SARIF: the same filter")
    check(run0["automationDetails"]["id"] == "rill/pr/", f"SARIF: automationDetails.id ({run0.get('automationDetails')})")
    check(run0["columnKind"] == "utf16CodeUnits", "SARIF: columnKind utf16CodeUnits")
    rule = run0["tool"]["driver"]["rules"][0]
    check(rule.get("helpUri") == "https://docs.example/lint/rill-blocking-call.md", f"SARIF: helpUri ({rule.get('helpUri')})")
    check(run0["invocations"][0]["executionSuccessful"] is True, "SARIF: invocation successful")

    # Baseline: the base run's SARIF; HEAD fixes c_old and adds one finding.
    git(["checkout", "-q", "main"], tmp)
    r = lint(["-p", "build", "--format=sarif", "--output", "base.sarif"], tmp)
    check(r.returncode == 0, f"baseline run ({r.stderr})")
    git(["checkout", "-q", "feature"], tmp)
    write(f"{tmp}/src/c.cpp", TASK + "Task c_old() {\n  co_return;\n}\n")
    r = lint(["-p", "build", "--baseline", "base.sarif", "--format=markdown"], tmp)
    check(r.returncode == 0 and "### New" in r.stdout and "### Fixed" in r.stdout, f"--baseline: New and Fixed ({r.stdout})")
    new = r.stdout.split("### New")[1].split("### Fixed")[0]
    fixed = r.stdout.split("### Fixed")[1]
    check("src/a.cpp:19" in new and "a.cpp:15" not in new and "b.cpp" not in new,
          f"--baseline: only the new finding ({new})")
    check("src/c.cpp:15" in fixed and "a.cpp" not in fixed, f"--baseline: c_old is fixed ({fixed})")
    r = lint(["-p", "build", "--baseline", "base.sarif"], tmp)
    check(len(diags(r.stdout, "warning")) == 1, f"--baseline: the text view has the same filter ({r.stdout})")
    r = lint(["-p", "build", "--baseline", "missing.sarif"], tmp)
    check(r.returncode == 2 and "missing.sarif" in r.stderr, "--baseline: unreadable file is exit 2")

    # Hard cap: many findings, report under the limit with a note.
    many = TASK + "".join(f"Task t{i}() {{\n  sleep({i});\n  co_return;\n}}\n" for i in range(400))
    write(f"{tmp}/many.cpp", many)
    r = lint(["--format=markdown", "many.cpp", "--", "-std=c++20"], tmp)
    check(len(r.stdout) < 65536 and "left out" in r.stdout, f"Markdown: capped under 65,536 ({len(r.stdout)})")
    r = lint(["--format=markdown", "--markdown-max-chars=5000", "many.cpp", "--", "-std=c++20"], tmp)
    check(len(r.stdout) <= 5000 and re.search(r"left out: \d+ findings", r.stdout) is not None,
          f"Markdown: --markdown-max-chars ({len(r.stdout)})")

    # SARIF columns are UTF-16 code units (clang's are bytes): 'é' is 2 bytes, 1 unit.
    write(f"{tmp}/utf.cpp", TASK + "Task u() {\n  /* \u00e9\U0001F600 */ sleep(1);\n  co_return;\n}\n")
    r = lint(["--format=sarif", "utf.cpp", "--", "-std=c++20"], tmp)
    region = json.loads(r.stdout)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    text = lint(["utf.cpp", "--", "-std=c++20"], tmp).stdout
    byte_col = diags(text, "warning")[0][2]
    check(byte_col == 16 and region["startColumn"] == 13,
          f"SARIF: byte column {byte_col} converted to UTF-16 column ({region})")

    # A TU that fails to parse is a tool notification.
    write(f"{tmp}/broken.cpp", TASK + "Task broken() { int x = ; co_return; }\n")
    r = lint(["--format=sarif", "broken.cpp", "--", "-std=c++20"], tmp)
    inv = json.loads(r.stdout)["runs"][0]["invocations"][0]
    check(inv["executionSuccessful"] is False and "broken.cpp" in inv["toolExecutionNotifications"][0]["message"]["text"],
          f"SARIF: parse failure in toolExecutionNotifications ({inv})")


def test_cache_shard(tmp):
    for i in range(4):
        write(f"{tmp}/src/f{i}.cpp", '#include "common.hpp"\n' + SAMPLE)
    write(f"{tmp}/src/common.hpp", "#pragma once\n")
    db = [{"directory": tmp, "file": f"{tmp}/src/f{i}.cpp", "arguments": ["clang++-19", "-std=c++20", "-c", f"src/f{i}.cpp"]}
          for i in range(4)]
    write(f"{tmp}/build/compile_commands.json", json.dumps(db))
    cold = lint(["-p", "build", "--cache-dir", "cache"], tmp)
    check("0 of 4 TUs from the cache" in cold.stderr, f"cache: cold run misses ({cold.stderr})")
    warm = lint(["-p", "build", "--cache-dir", "cache"], tmp)
    check("4 of 4 TUs from the cache (100% hit rate)" in warm.stderr, f"cache: warm run hits ({warm.stderr})")
    check(warm.stdout == cold.stdout and len(diags(warm.stdout, "warning")) == 12,
          "cache: identical output from the cache")
    w = lint(["-p", "build", "--cache-dir", "cache", "--warnings-as-errors=rill-*"], tmp)
    check(w.returncode == 1 and "0 of 4" in w.stderr, "cache: a different configuration misses")
    write(f"{tmp}/src/common.hpp", "#pragma once\n// changed\n")
    r = lint(["-p", "build", "--cache-dir", "cache"], tmp)
    check("0 of 4 TUs from the cache" in r.stderr, f"cache: a changed header misses ({r.stderr})")
    write(f"{tmp}/src/f0.cpp", '#include "common.hpp"\n' + CLEAN)
    r = lint(["-p", "build", "--cache-dir", "cache"], tmp)
    check("3 of 4 TUs from the cache" in r.stderr and len(diags(r.stdout, "warning")) == 9,
          f"cache: a changed source misses, the rest hit ({r.stderr})")

    # Shards: disjoint, together all TUs; merge-sarif joins them.
    write(f"{tmp}/src/f0.cpp", '#include "common.hpp"\n' + SAMPLE)
    files = []
    for i in (1, 2, 3):
        r = lint(["-p", "build", "--shard", f"{i}/3", "--format=sarif", "--output", f"s{i}.sarif"], tmp)
        res = json.load(open(f"{tmp}/s{i}.sarif"))["runs"][0]["results"]
        files.append(sorted({x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for x in res}))
    flat = [f for fs in files for f in fs]
    check(sorted(flat) == [f"src/f{i}.cpp" for i in range(4)] and len(flat) == len(set(flat)),
          f"--shard: disjoint, complete ({files})")
    r = lint(["merge-sarif", "s1.sarif", "s2.sarif", "s3.sarif", "-o", "all.sarif"], tmp)
    check(r.returncode == 0, f"merge-sarif: exit 0 ({r.stderr})")
    merged = json.load(open(f"{tmp}/all.sarif"))
    full = json.loads(lint(["-p", "build", "--format=sarif"], tmp).stdout)
    check(len(merged["runs"]) == 1 and len(merged["runs"][0]["results"]) == len(full["runs"][0]["results"]) == 12,
          "merge-sarif: one run with every shard's results")
    rules = [r["id"] for r in merged["runs"][0]["tool"]["driver"]["rules"]]
    check(len(rules) == len(set(rules)) and all(
        merged["runs"][0]["tool"]["driver"]["rules"][x["ruleIndex"]]["id"] == x["ruleId"] for x in merged["runs"][0]["results"]),
        "merge-sarif: rules merged, ruleIndex remapped")
    r = lint(["--shard", "4/3", "-p", "build"], tmp)
    check(r.returncode == 2 and "--shard" in r.stderr, "--shard out of range: exit 2")
    r = lint(["merge-sarif", "nope.sarif", "-o", "x.sarif"], tmp)
    check(r.returncode == 2 and "nope.sarif" in r.stderr, "merge-sarif: missing input is exit 2")


def test_github_action(tmp):
    """lint/github-action/rill-lint-action.sh (what action.yml runs) on a throw-away repository
    with a base and a head commit, with the environment GitHub gives a pull_request job."""
    here = os.path.dirname(os.path.abspath(__file__))
    script = os.path.join(here, "..", "..", "lint", "github-action", "rill-lint-action.sh")
    make_repo(tmp)
    summary, outputs = f"{tmp}/summary.md", f"{tmp}/outputs.txt"
    env = dict(os.environ, RILL_LINT=ARGS.rill_lint, GITHUB_EVENT_NAME="pull_request", GITHUB_BASE_REF="main",
               GITHUB_STEP_SUMMARY=summary, GITHUB_OUTPUT=outputs, RILL_SARIF=f"{tmp}/out.sarif",
               RILL_MARKDOWN=f"{tmp}/out.md", RILL_CATEGORY="rill-test",
               GITHUB_SERVER_URL="https://github.example", GITHUB_REPOSITORY="o/r", GITHUB_SHA="feed")
    r = subprocess.run(["bash", script], cwd=tmp, capture_output=True, text=True, env=env)
    ann = [l for l in r.stdout.splitlines() if l.startswith("::warning ")]
    check(r.returncode == 1, f"action: new findings fail the step with fail-on=new ({r.returncode}: {r.stderr})")
    check(len(ann) == 1 and "file=src/a.cpp,line=19" in ann[0], f"action: one annotation, on the changed line ({r.stdout})")
    check(os.path.exists(summary) and "### New" in open(summary).read()
          and "https://github.example/o/r/blob/feed/src/a.cpp#L19" in open(summary).read(),
          "action: Markdown appended to $GITHUB_STEP_SUMMARY with links")
    res = json.load(open(f"{tmp}/out.sarif"))["runs"][0]
    check(len(res["results"]) == 1 and res["automationDetails"]["id"] == "rill-test/", "action: SARIF written with the category")
    outs = open(outputs).read()
    check(f"sarif={tmp}/out.sarif" in outs and "findings=1" in outs, f"action: step outputs ({outs})")
    env2 = dict(env, RILL_FAIL_ON="none")
    os.remove(summary)
    r = subprocess.run(["bash", script], cwd=tmp, capture_output=True, text=True, env=env2)
    check(r.returncode == 0, f"action: fail-on=none passes with findings ({r.returncode})")
    # Not a pull request: the whole database is linted.
    env3 = dict(env2, GITHUB_EVENT_NAME="push")
    r = subprocess.run(["bash", script], cwd=tmp, capture_output=True, text=True, env=env3)
    ann = [l for l in r.stdout.splitlines() if l.startswith("::warning ")]
    check(r.returncode == 0 and len(ann) == 4, f"action: push lints everything ({len(ann)}: {r.stderr})")
    # No compilation database: a clear error.
    env4 = dict(env, RILL_BUILD_DIR="nope")
    r = subprocess.run(["bash", script], cwd=tmp, capture_output=True, text=True, env=env4)
    check(r.returncode == 2 and "compile_commands.json" in r.stdout, "action: missing database is exit 2 with an error annotation")


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
