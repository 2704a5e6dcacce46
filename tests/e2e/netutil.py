"""Shared pieces of the e2e scripts that drive an example server over real sockets.

check() records a named check (printed as ok / FAIL; the script exits 1 if any failed).
ServerProcess starts a server that prints "listening on 127.0.0.1:PORT" as its first line, keeps
every later line of its output (read on a thread), and opens client connections to it. No wait
here depends on a tight timing margin: every client wait is WAIT seconds.
"""
import socket
import subprocess
import threading

WAIT = 20.0  # seconds a client waits for anything before declaring failure
failures = []


def check(cond, what):
    if cond:
        print(f"ok   {what}")
    else:
        print(f"FAIL {what}")
        failures.append(what)


class ServerProcess:
    def __init__(self, argv, name, preexec_fn=None):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, preexec_fn=preexec_fn)
        self.lines = []
        line = self.proc.stdout.readline()
        self.lines.append(line)
        if "listening on 127.0.0.1:" not in line:
            raise RuntimeError(f"{name} did not start: {line!r}")
        self.port = int(line.split("127.0.0.1:")[1].split()[0])
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=WAIT)
        s.settimeout(WAIT)
        return s
