#!/usr/bin/env python3
"""demo_server's HTTP behaviour toward hostile or unusual clients, over real sockets.

usage: demo_protocol.py DEMO_SERVER_BINARY

Starts demo_server (port 0, short timeouts) a few times and checks: HEAD answered without a
body (the next response on the connection is intact), 405 with Allow, 400 for HTTP/1.1 without
Host, 100 Continue before the body, every byte of the head counted toward the 16 KiB limit
(spaces included), header/body/keep-alive timeouts, the connection cap answered with 503, and
at drain every queued request answered (503 + Connection: close) instead of dropped.

No check depends on a tight timing margin: timeouts are short on the server and every client
wait is long (WAIT seconds); a check fails only if the server never does the right thing.
"""
import os
import signal
import socket
import subprocess
import sys
import time

from netutil import WAIT, ServerProcess, check, failures


class Server(ServerProcess):
    def __init__(self, binary, *flags):
        super().__init__(
            [binary, "--port", "0", "--workers", "2", "--long-poll-ms", "0", *flags],
            "demo_server")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = None
        self.reader.join(timeout=5)
        return rc


def read_response(s, head_only=False):
    """Reads one response; returns (status, headers dict, body) or None on EOF/timeout."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, rest = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        n = 0 if head_only or status == 100 else int(headers.get("content-length", "0"))
        while len(rest) < n:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        body, extra = rest[:n], rest[n:]
        if extra:
            headers["x-extra-bytes"] = extra.decode("latin-1")
        return status, headers, body
    except (socket.timeout, ConnectionResetError):
        return None


def wait_eof(s):
    """True when the server closes the connection (EOF or reset) within WAIT."""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def protocol_checks(binary):
    srv = Server(binary)
    try:
        s = srv.connect()
        s.sendall(b"HEAD /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        r = read_response(s, head_only=True)
        check(r is not None and r[0] == 200 and r[1].get("content-length") == "3",
              "HEAD /healthz: 200 with the GET body's Content-Length")
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        r = read_response(s)
        check(r is not None and r[0] == 200 and r[2] == b"ok\n" and "x-extra-bytes" not in r[1],
              "HEAD sends no body: the next response on the connection is intact")

        s.sendall(b"POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
        r = read_response(s)
        check(r is not None and r[0] == 405 and r[1].get("allow") == "GET, HEAD",
              "405 for POST /healthz carries Allow: GET, HEAD")
        s.sendall(b"GET /hash HTTP/1.1\r\nHost: t\r\n\r\n")
        r = read_response(s)
        check(r is not None and r[0] == 405 and r[1].get("allow") == "POST",
              "405 for GET /hash carries Allow: POST")
        s.close()

        s = srv.connect()
        s.sendall(b"GET /healthz HTTP/1.1\r\n\r\n")
        r = read_response(s)
        check(r is not None and r[0] == 400, "HTTP/1.1 without Host: 400")
        s.close()
        s = srv.connect()
        s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        r = read_response(s)
        check(r is not None and r[0] == 200, "HTTP/1.0 without Host: 200")
        s.close()

        s = srv.connect()
        body = b"hunter2"
        s.sendall(b"POST /hash_offloaded HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body))
        r = read_response(s)
        check(r is not None and r[0] == 100, "Expect: 100-continue: 100 Continue before the body")
        s.sendall(body)
        r = read_response(s)
        check(r is not None and r[0] == 200 and r[2].startswith(b"$2b$"),
              "Expect: 100-continue: then the answer")
        s.close()

        # Every byte of the head counts: 20,000 spaces inside one header value exceed 16 KiB.
        s = srv.connect()
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Pad: " + b" " * 20000)
        r = read_response(s)
        check(r is not None and r[0] == 431, "spaces in a header value count toward the head limit")
        s.close()
        # A head of many empty-ish header lines: line ends count too.
        s = srv.connect()
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n" + b"A:\r\n" * 5000)
        r = read_response(s)
        check(r is not None and r[0] == 431, "line ends count toward the head limit")
        s.close()
    finally:
        rc = srv.stop()
        check(rc == 0, "protocol server exits 0 after SIGTERM")


def timeout_checks(binary):
    srv = Server(binary, "--header-timeout-ms", "300", "--body-timeout-ms", "300",
                 "--keepalive-timeout-ms", "300")
    try:
        s = srv.connect()
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        r = read_response(s)
        check(r is not None and r[0] == 200, "keep-alive: first answer")
        check(wait_eof(s), "keep-alive timeout closes an idle connection")
        s.close()

        s = srv.connect()
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")  # the head never ends
        r = read_response(s)
        check(r is not None and r[0] == 408, "header timeout: 408")
        check(wait_eof(s), "header timeout: then closed")
        s.close()

        s = srv.connect()
        s.sendall(b"POST /hash_offloaded HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        r = read_response(s)
        check(r is not None and r[0] == 408, "body timeout: 408")
        s.close()

        # A slow client that keeps sending a header byte now and then does not extend the
        # header deadline (slowloris).
        s = srv.connect()
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
        got = None
        deadline = time.monotonic() + WAIT
        s.settimeout(0.1)
        while time.monotonic() < deadline:
            try:
                s.sendall(b"X")
            except (BrokenPipeError, ConnectionResetError):
                break
            try:
                chunk = s.recv(65536)
                got = chunk
                break
            except socket.timeout:
                continue
            except ConnectionResetError:
                break
        check(got is not None and got.startswith(b"HTTP/1.1 408"),
              "header timeout holds against a byte-at-a-time head")
        s.close()
    finally:
        rc = srv.stop()
        check(rc == 0, "timeout server exits 0 after SIGTERM")


def cap_checks(binary):
    srv = Server(binary, "--max-connections", "4")
    try:
        held = [srv.connect() for _ in range(4)]
        for h in held:  # each is accepted and served (and holds its permit) before the next
            h.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            r = read_response(h)
            check(r is not None and r[0] == 200, "connection under the cap is served")
        extra = srv.connect()
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        r = read_response(extra)
        check(r is not None and r[0] == 503 and r[1].get("connection") == "close",
              "a connection over the cap gets 503 + Connection: close")
        extra.close()
        held.pop().close()
        ok = False
        deadline = time.monotonic() + WAIT
        while not ok and time.monotonic() < deadline:  # the permit returns when the task ends
            c = srv.connect()
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            r = read_response(c)
            ok = r is not None and r[0] == 200
            c.close()
            if not ok:
                time.sleep(0.05)
        check(ok, "a freed slot is served again")
        for h in held:
            h.close()
    finally:
        rc = srv.stop()
        check(rc == 0, "cap server exits 0 after SIGTERM")


def drain_checks(binary):
    # One hash permit and an expensive bcrypt: the first request runs, the others queue.
    srv = Server(binary, "--hash-concurrency", "1", "--bcrypt-cost", "15",
                 "--drain-timeout-ms", "600000")
    conns = []
    try:
        for _ in range(5):
            c = srv.connect()
            c.sendall(b"POST /hash_offloaded HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
            conns.append(c)
        # Requests sent on an idle connection that the server has not read yet are, by design,
        # closed with it at drain (as nginx does with idle keep-alive connections): give the
        # server ample time to read these.
        time.sleep(1.0)
        srv.proc.send_signal(signal.SIGTERM)
        results = [read_response(c) for c in conns]
        check(all(r is not None for r in results), "drain: every queued request gets a status line")
        check(all(r is not None and r[1].get("connection") == "close" for r in results),
              "drain: every answer says Connection: close")
        check(sum(1 for r in results if r is not None and r[0] == 503) >= 3,
              "drain: queued requests are answered 503")
    finally:
        for c in conns:
            c.close()
        rc = srv.stop()
        check(rc == 0, "drain server exits 0")
        check(any("stopped" in line for line in srv.lines), "drain: the server reports it stopped")


def main():
    if len(sys.argv) != 2 or not os.access(sys.argv[1], os.X_OK):
        print(__doc__)
        return 2
    binary = sys.argv[1]
    for group in (protocol_checks, timeout_checks, cap_checks, drain_checks):
        try:
            group(binary)
        except Exception as e:  # a crash of one group is a failure, the others still run
            check(False, f"{group.__name__} raised {type(e).__name__}: {e}")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
