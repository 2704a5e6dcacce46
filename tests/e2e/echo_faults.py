#!/usr/bin/env python3
"""echo_server under faults, over real sockets.

usage: echo_faults.py ECHO_SERVER_BINARY

Checks that an idle connection is closed after --idle-timeout-ms, and that running out of file
descriptors (the server is started with RLIMIT_NOFILE 64 and sent 150 connections) makes the
accept loop back off instead of spinning: little CPU, flat memory, one log line per episode,
and connections served again once descriptors are free.

No check depends on a tight timing margin: the CPU bound is far above what a backing-off server
uses and far below a spinning one; every client wait is long (WAIT seconds).
"""
import os
import resource
import socket
import subprocess
import sys
import time

from netutil import WAIT, ServerProcess, check, failures

NOFILE = 64
FLOOD = 150


class Server(ServerProcess):
    def __init__(self, binary, *flags, nofile=None):
        def limit():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        super().__init__([binary, "0", *flags], "echo_server", preexec_fn=limit)

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def count(self, text):
        return sum(1 for line in list(self.lines) if text in line)

    def wait_count(self, text, n):
        """The number of lines containing `text`, once it reached n (or after WAIT)."""
        deadline = time.monotonic() + WAIT
        while self.count(text) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.count(text)

    def stop(self):
        self.proc.kill()
        self.proc.wait(timeout=60)
        self.reader.join(timeout=5)


def echo_once(srv):
    try:
        c = srv.connect()
        c.sendall(b"ping\n")
        got = b""
        while len(got) < 5:
            chunk = c.recv(64)
            if not chunk:
                break
            got += chunk
        c.close()
        return got == b"ping\n"
    except OSError:
        return False


def idle_checks(binary):
    srv = Server(binary, "--idle-timeout-ms", "300")
    try:
        c = srv.connect()
        c.sendall(b"hi\n")
        check(c.recv(64) == b"hi\n", "echo")
        try:
            closed = c.recv(64) == b""
        except (socket.timeout, ConnectionResetError) as e:
            closed = isinstance(e, ConnectionResetError)
        check(closed, "an idle connection is closed after the idle timeout")
        c.close()
    finally:
        srv.stop()


def flood(srv):
    conns = []
    for _ in range(FLOOD):
        try:
            conns.append(srv.connect())  # completes in the kernel even when not accepted
        except OSError:
            break
    return conns


def exhaustion_checks(binary):
    srv = Server(binary, "--idle-timeout-ms", "600000", nofile=NOFILE)
    try:
        for episode in (1, 2):
            conns = flood(srv)
            check(srv.wait_count("backing off", episode) == episode,
                  f"episode {episode}: out of descriptors is logged once")
            cpu0, rss0, t0 = srv.cpu_seconds(), srv.rss_kib(), time.monotonic()
            time.sleep(3.0)
            cpu1, rss1, t1 = srv.cpu_seconds(), srv.rss_kib(), time.monotonic()
            share = (cpu1 - cpu0) / (t1 - t0)
            print(f"     episode {episode}: CPU {share:.1%} of a core, RSS {rss0} -> {rss1} KiB")
            check(share < 0.10, f"episode {episode}: the accept loop does not spin (CPU < 10%)")
            check(rss1 - rss0 < 1024, f"episode {episode}: memory stays flat (< 1 MiB growth)")
            check(srv.count("backing off") == episode,
                  f"episode {episode}: still one log line while it lasts")
            for c in conns:
                c.close()
            ok = False
            deadline = time.monotonic() + WAIT
            while not ok and time.monotonic() < deadline:
                ok = echo_once(srv)
                if not ok:
                    time.sleep(0.05)
            check(ok, f"episode {episode}: served again once descriptors are free")
            # The episode ends at the first accept after a second without failures.
            deadline = time.monotonic() + WAIT
            while srv.count("accepting again") < episode and time.monotonic() < deadline:
                time.sleep(0.5)
                echo_once(srv)
            check(srv.wait_count("accepting again", episode) == episode,
                  f"episode {episode}: the recovery is logged once")
            check(srv.count("backing off") == episode,
                  f"episode {episode}: one start line for the whole episode")
    finally:
        srv.stop()
        print("     server log:\n" + "".join("       " + line for line in srv.lines))


def main():
    if len(sys.argv) != 2 or not os.access(sys.argv[1], os.X_OK):
        print(__doc__)
        return 2
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4 * FLOOD:  # the client side needs its own descriptors
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    for group in (idle_checks, exhaustion_checks):
        try:
            group(sys.argv[1])
        except Exception as e:
            check(False, f"{group.__name__} raised {type(e).__name__}: {e}")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
