"""A real HAProxy process for tests: config in a temp dir, stats socket, its log, killed after."""

from __future__ import annotations

import csv
import io
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests._poll import wait_until
from tests._servers import free_port

GLOBAL = """global
    stats socket {sock} level admin
    log stdout format raw local0
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout check 2s
"""

FRONTEND = """frontend fe
    bind 127.0.0.1:{port}
    default_backend {backend}
"""


@dataclass
class HAProxy:
    proc: subprocess.Popen[bytes]
    sock: Path
    port: int
    config: Path
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self, line: str) -> str:
        with socket.socket(socket.AF_UNIX) as conn:
            conn.settimeout(5)
            conn.connect(str(self.sock))
            conn.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := conn.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def stats(self) -> dict[str, dict[str, str]]:
        """``show stat`` rows of servers, keyed ``backend/server``."""
        text = self.command("show stat").lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {
            f"{r['pxname']}/{r['svname']}": r
            for r in rows
            if r["svname"] not in ("FRONTEND", "BACKEND")
        }

    def status(self, server: str) -> str:
        """A server's status word (UP, DOWN, NOLB, DRAIN, MAINT), transitions stripped."""
        return self.stats()[server]["status"].split(" ")[0]

    def log_lines(self) -> list[str]:
        """What HAProxy logged so far (``log stdout``): health-check and state-change lines."""
        return self.log.read_text(encoding="utf-8", errors="replace").splitlines()

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


def start_haproxy(binary: str, workdir: Path, backends: str, default_backend: str) -> HAProxy:
    """Run ``haproxy -db`` on a config: globals, one frontend, the given backends."""
    port = free_port()
    frontend = FRONTEND.format(port=port, backend=default_backend)
    return run_haproxy(binary, workdir, frontend + backends, port)


def run_haproxy(binary: str, workdir: Path, sections: str, port: int) -> HAProxy:
    """Run ``haproxy -db`` on our globals (stats socket, log to stdout) and ``sections``.

    ``sections`` may bring its own ``defaults``; ``port`` is where its frontend listens.
    """
    sock = workdir / "s.sock"
    config = workdir / "haproxy.cfg"
    config.write_text(GLOBAL.format(sock=sock) + sections)
    log = workdir / "haproxy.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [binary, "-f", str(config), "-db"], stdout=out, stderr=subprocess.PIPE
        )
    haproxy = HAProxy(proc, sock, port, config, log)
    try:
        wait_until(lambda: sock.exists() or proc.poll() is not None)
        assert sock.exists(), (
            f"haproxy exited: {proc.stderr.read().decode() if proc.stderr else ''}"
        )
    except AssertionError:
        haproxy.stop()
        raise
    return haproxy
