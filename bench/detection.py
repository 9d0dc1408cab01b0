"""Detection time through a real HAProxy: via lbhealth, and with HAProxy checking the backend.

One JBoss backend turns from its welcome page to a JBoss Web 500 error report;
a real HAProxy has the same server twice: ``via`` asks lbhealth
(``/health/app1``, the timings ``lbhealth export haproxy`` writes) and
``direct`` checks the backend itself (``inter 2s fall 2 rise 2``, the usual
direct configuration). The stats socket is read every 20 ms; each run times
how long each server took to leave UP. Both watch the same failure in the same
run, so the machine's load affects both alike.
"""

from __future__ import annotations

import random
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from lbhealth.demo.cluster import JBOSS_WELCOME
from lbhealth.demo.simserver import Page
from lbhealth.lb.export import TIMING

JBOSS_500 = Page(
    500,
    [("Server", "Apache-Coyote/1.1"), ("Content-Type", "text/html;charset=utf-8")],
    b"<html><head><title>JBoss Web/2.1.3.GA - Error report</title></head><body>"
    b"<h1>HTTP Status 500 - </h1><p><b>type</b> Exception report</p>"
    b"<pre>java.lang.NullPointerException\n\tat org.apache.jsp.index_jsp._jspService"
    b"(index_jsp.java:71)</pre></body></html>",
)
#: HAProxy checking the backend itself, at ``scale`` 1.
DIRECT_INTER, DIRECT_FALL, DIRECT_RISE = 2.0, 2, 2
#: lbhealth's default interval, and the export's inter (``500ms``), at ``scale`` 1.
INTERVAL, VIA_INTER = 2.0, 0.5


def _ms(seconds: float) -> str:
    return f"{round(seconds * 1000)}ms"


def direct(scale: float) -> str:
    return f"inter {_ms(DIRECT_INTER * scale)} fall {DIRECT_FALL} rise {DIRECT_RISE}"


def via(scale: float) -> str:
    return f"inter {_ms(VIA_INTER * scale)} rise {TIMING.rise} fall {TIMING.fall}"


def _config(sock: Path, backend: str, lbhealth: str, scale: float) -> str:
    host, port = lbhealth.rsplit(":", 1)
    return f"""global
    stats socket {sock} level admin
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout check 2s
backend via
    option httpchk
    http-check disable-on-404
    http-check send meth GET uri /health/app1 ver HTTP/1.1 hdr Host lbhealth
    http-check expect status 200
    server app1 {backend} check addr {host} port {port} {via(scale)}
backend direct
    option httpchk
    http-check send meth GET uri / ver HTTP/1.1 hdr Host app1
    http-check expect status 200
    server app1 {backend} check {direct(scale)}
"""


def _status(sock: Path) -> dict[str, str]:
    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(5)
        conn.connect(str(sock))
        conn.sendall(b"show stat\n")
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    rows = [line.split(",") for line in data.decode().splitlines()[1:] if line]
    return {r[0]: r[17].split(" ")[0] for r in rows if len(r) > 17 and r[1] == "app1"}


@contextmanager
def haproxy(binary: str, backend: str, lbhealth: str, scale: float) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        sock, config = Path(tmp, "s.sock"), Path(tmp, "haproxy.cfg")
        config.write_text(_config(sock, backend, lbhealth, scale))
        proc = subprocess.Popen([binary, "-f", str(config), "-db"], stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while not sock.exists():
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("haproxy did not start")
                time.sleep(0.05)
            yield sock
        finally:
            proc.kill()
            proc.wait(10)


def _wait(sock: Path, want: str, deadline: float) -> None:
    end = time.monotonic() + deadline
    while set(_status(sock).values()) != {want}:
        if time.monotonic() > end:
            raise RuntimeError(f"HAProxy servers not all {want}: {_status(sock)}")
        time.sleep(0.05)


def detection_runs(
    binary: str, pages: dict[str, Page], backend: str, lbhealth: str, runs: int, scale: float
) -> dict[str, list[float]]:
    """Seconds from the failure to each server leaving UP, per run.

    ``scale`` multiplies every timing (lbhealth's interval, both HAProxy ``inter``s, the
    random phase): 1 measures the real defaults; the test suite's smoke run shrinks them.
    """
    times: dict[str, list[float]] = {"lbhealth": [], "via": [], "direct": []}
    answer = f"http://{lbhealth}/health/app1"
    with haproxy(binary, backend, lbhealth, scale) as sock:
        for _ in range(runs):
            pages["/"] = JBOSS_WELCOME
            _wait(sock, "UP", 60)
            time.sleep(random.uniform(0.0, DIRECT_INTER * scale))  # any phase against the checks
            pages["/"] = JBOSS_500
            start, seen = time.monotonic(), {}
            while len(seen) < 3 and time.monotonic() - start < 60:
                states = _status(sock)
                if "lbhealth" not in seen:
                    states["lbhealth"] = "UP" if httpx.get(answer).status_code == 200 else "DOWN"
                for name, state in states.items():
                    if state != "UP" and name not in seen:
                        seen[name] = time.monotonic() - start
                time.sleep(0.02)
            for name in times:
                times[name].append(seen.get(name, float("nan")))
    pages["/"] = JBOSS_WELCOME
    return times


def report(times: dict[str, list[float]], scale: float) -> str:
    lines = []
    labels = (
        ("lbhealth", "lbhealth's own answer"),
        ("via", f"HAProxy via lbhealth ({via(scale)})"),
        ("direct", f"HAProxy direct ({direct(scale)})"),
    )
    for name, label in labels:
        runs = ", ".join(f"{t:.1f}" for t in times[name])
        lines.append(f"  {label:<52} median {statistics.median(times[name]):.2f} s  ({runs})")
    return "\n".join(lines)
