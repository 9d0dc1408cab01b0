"""Which worker process answered: for tests that must hear from every worker of a port.

Several ``lbhealth serve --workers N`` processes accept on one socket, and the
kernel decides which one gets a connection. A test claiming that *every*
worker answers something must know who answered: here the server side of our
connection is found in ``/proc/net/tcp`` and its socket in a worker's file
descriptors (Linux only, like the rest of the suite).
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterable
from pathlib import Path

from tests._poll import wait_until


def _hex_endpoint(port: int) -> str:
    return f"0100007F:{port:04X}"  # 127.0.0.1, as /proc/net/tcp writes it


def _server_inode(server_port: int, client_port: int) -> str | None:
    local, remote = _hex_endpoint(server_port), _hex_endpoint(client_port)
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[2] == remote:
            return fields[9]
    return None


def _holder(inode: str, pids: Iterable[int]) -> int | None:
    link = f"socket:[{inode}]"
    for pid in pids:
        fds = Path(f"/proc/{pid}/fd")
        for fd in os.listdir(fds):
            try:
                if os.readlink(fds / fd) == link:
                    return pid
            except OSError:
                continue  # closed meanwhile
    return None


def ask(port: int, path: str, pids: Iterable[int]) -> tuple[int | None, str]:
    """GET ``path`` on a new connection: (the pid of the worker that answered, the body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        # Keep-alive: the connection stays open while we look up who holds its other end.
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: lbhealth\r\n\r\n".encode())
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed after {received!r}"
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
        while len(body) < length:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed after {received!r}"
            body += chunk
        inode = _server_inode(port, sock.getsockname()[1])
        pid = _holder(inode, pids) if inode else None
    return pid, body.decode()


def every_worker(port: int, path: str, pids: set[int]) -> dict[int, str]:
    """What each worker answers to ``path`` now: asks until every one has answered once."""
    answers: dict[int, str] = {}

    def one() -> dict[int, str]:
        pid, body = ask(port, path, pids)
        if pid is not None:
            answers[pid] = body
        return answers

    wait_until(one, lambda seen: set(seen) == pids, step=0)
    return answers


def children(pid: int) -> set[int]:
    """The worker processes of a supervisor (not multiprocessing's resource tracker)."""
    found = set()
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue  # exited meanwhile
        if b"spawn_main" in command:
            found.add(int(child))
    return found


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid``: workers, the fork server, probe processes."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop()
        below: list[str] = []
        # Each thread's children: the fork server is started from a thread of the service.
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                below += (task / "children").read_text().split()
            except OSError:
                continue  # exited meanwhile
        found.update(int(child) for child in below)
        todo.extend(int(child) for child in below)
    return found
