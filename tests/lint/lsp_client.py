#!/usr/bin/env python3
"""A small LSP client for rill-clangd (clangd with the rill checks).

  lsp_client.py --clangd PATH test
      Opens a coroutine with a blocking call in a throw-away project (.clangd: ClangTidy Add
      rill-*), asserts that rill-blocking-call arrives in textDocument/publishDiagnostics within
      the time limit, then edits the call away and asserts the diagnostic is cleared.
  lsp_client.py --clangd PATH measure FILE --compile-commands-dir DIR [--edits N]
      Opens FILE in two servers side by side (clang-tidy off; rill-* on), then makes N edits
      (a changing comment at the end), alternating between them, and prints the median time
      from didChange to the diagnostics of that version for each: the difference is the
      latency the rill checks add per edit.
"""
import argparse
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import pathlib

LIMIT_S = 180  # generous: the box may be loaded; the first parse builds the preamble


class Client:
    def __init__(self, argv, cwd, env=None):
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.msgs = queue.Queue()
        self.next_id = 1
        self.stderr = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stderr:
            self.stderr.append(line.decode(errors="replace"))

    def _read(self):
        f = self.proc.stdout
        while True:
            headers = {}
            while True:
                line = f.readline()
                if not line:
                    return
                line = line.decode().strip()
                if not line:
                    break
                k, v = line.split(":", 1)
                headers[k.lower()] = v.strip()
            body = f.read(int(headers["content-length"]))
            self.msgs.put(json.loads(body))

    def send(self, obj):
        data = json.dumps(obj).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        self.proc.stdin.flush()

    def request(self, method, params):
        rid = self.next_id
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        return rid

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait(self, pred, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                m = self.msgs.get(timeout=left)
            except queue.Empty:
                return None
            if m.get("method") == "workspace/configuration" or (
                    "id" in m and "method" in m):  # server->client request: answer null
                self.send({"jsonrpc": "2.0", "id": m["id"], "result": None})
                continue
            if pred(m):
                return m

    def initialize(self, root):
        rid = self.request("initialize", {"processId": os.getpid(), "rootUri": pathlib.Path(root).as_uri(),
                                          "capabilities": {"textDocument": {"publishDiagnostics": {"versionSupport": True}}}})
        if not self.wait(lambda m: m.get("id") == rid, LIMIT_S):
            raise SystemExit("FAIL: no initialize response")
        self.notify("initialized", {})

    def close(self):
        try:
            rid = self.request("shutdown", None)
            self.wait(lambda m: m.get("id") == rid, 10)
            self.notify("exit", None)
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()


def diags_for(uri, version=None):
    def pred(m):
        if m.get("method") != "textDocument/publishDiagnostics":
            return False
        p = m["params"]
        return p["uri"] == uri and (version is None or p.get("version") == version)
    return pred


TASK = """#include <coroutine>
struct Task {
  struct promise_type {
    Task get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() {}
  };
};
extern "C" unsigned sleep(unsigned);
"""


def test(args):
    tmp = tempfile.mkdtemp(prefix="rill-clangd-")
    failures = []
    try:
        with open(f"{tmp}/.clangd", "w") as f:
            f.write("Diagnostics:\n  ClangTidy:\n    Add: rill-*\n")
        with open(f"{tmp}/compile_flags.txt", "w") as f:
            f.write("-std=c++20\n")
        src = f"{tmp}/handler.cpp"
        blocking = TASK + "Task handler() {\n  sleep(1);\n  co_return;\n}\n"
        clean = TASK + "Task handler() {\n  co_return;\n}\n"
        with open(src, "w") as f:
            f.write(blocking)
        uri = pathlib.Path(src).as_uri()
        # An empty XDG_CONFIG_HOME: no user config changes the result.
        env = dict(os.environ, XDG_CONFIG_HOME=f"{tmp}/xdg")
        c = Client([args.clangd, "--log=error", "--pch-storage=memory"], tmp, env)
        c.initialize(tmp)
        c.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "cpp", "version": 1, "text": blocking}})
        t0 = time.monotonic()
        m = c.wait(lambda m: diags_for(uri, 1)(m) and any(d.get("code") == "rill-blocking-call" for d in m["params"]["diagnostics"]), LIMIT_S)
        if not m:
            failures.append("rill-blocking-call not published within %ds (stderr: %s)" % (LIMIT_S, "".join(c.stderr)[-2000:]))
        else:
            d = [d for d in m["params"]["diagnostics"] if d.get("code") == "rill-blocking-call"][0]
            print(f"rill-blocking-call published after {time.monotonic() - t0:.2f}s at line {d['range']['start']['line'] + 1}: {d['message']}")
            if d["range"]["start"]["line"] != blocking.count("\n", 0, blocking.index("sleep(1)")):
                failures.append(f"diagnostic on the wrong line: {d['range']}")
            if d.get("source") != "clang-tidy":
                failures.append(f"diagnostic source is {d.get('source')}, expected clang-tidy")
        c.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": clean}]})
        m = c.wait(diags_for(uri, 2), LIMIT_S)
        if not m:
            failures.append("no diagnostics after the edit")
        elif any(d.get("code") == "rill-blocking-call" for d in m["params"]["diagnostics"]):
            failures.append(f"rill-blocking-call not cleared by the edit: {m['params']['diagnostics']}")
        else:
            print("edit removing the call cleared the diagnostic")
        c.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


def start_measured(args, tidy, tmp):
    src = os.path.abspath(args.file)
    text = open(src).read()
    uri = pathlib.Path(src).as_uri()
    env = dict(os.environ, XDG_CONFIG_HOME=tmp)
    argv = [args.clangd, "--log=error", f"--compile-commands-dir={args.compile_commands_dir}",
            f"--clang-tidy={'true' if tidy else 'false'}", "-j=1"]
    c = Client(argv, os.path.dirname(src), env)
    c.initialize(os.path.dirname(src))
    c.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "cpp", "version": 1, "text": text}})
    first = c.wait(diags_for(uri, 1), 900)
    if not first:
        raise SystemExit("no first diagnostics")
    n_rill = sum(1 for d in first["params"]["diagnostics"] if str(d.get("code", "")).startswith("rill-"))
    return c, uri, text, n_rill


def edit_latency(c, uri, text, version):
    edited = text + f"\n// edit {version}\n"
    t0 = time.monotonic()
    c.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": edited}]})
    if not c.wait(diags_for(uri, version), 900):
        raise SystemExit(f"no diagnostics for version {version}")
    return time.monotonic() - t0


def measure(args):
    # Both servers run side by side and the edits alternate between them (off, on, on, off, ...),
    # so both see the same machine load.
    tmp = tempfile.mkdtemp(prefix="rill-clangd-measure-")
    os.makedirs(f"{tmp}/clangd")
    with open(f"{tmp}/clangd/config.yaml", "w") as f:
        f.write("Diagnostics:\n  ClangTidy:\n    Add: rill-*\n")
    off = start_measured(args, False, tmp)
    on = start_measured(args, True, tmp)
    t_off, t_on = [], []
    for i in range(args.edits):
        order = [(off, t_off), (on, t_on)] if i % 2 == 0 else [(on, t_on), (off, t_off)]
        for (c, uri, text, _), out in order:
            out.append(edit_latency(c, uri, text, i + 2))
    off[0].close()
    on[0].close()
    shutil.rmtree(tmp, ignore_errors=True)
    m_off, m_on = statistics.median(t_off), statistics.median(t_on)
    print(f"{args.file}: median diagnostics latency per edit over {args.edits} alternating edits: "
          f"clang-tidy off {m_off * 1000:.0f} ms, rill-* on {m_on * 1000:.0f} ms "
          f"({on[3]} rill findings): {(m_on - m_off) * 1000:+.0f} ms per edit")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clangd", required=True)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("test")
    m = sub.add_parser("measure")
    m.add_argument("file")
    m.add_argument("--compile-commands-dir", required=True)
    m.add_argument("--edits", type=int, default=10)
    args = ap.parse_args()
    return test(args) if args.cmd == "test" else measure(args)


if __name__ == "__main__":
    sys.exit(main())
