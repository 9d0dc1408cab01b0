"""One client cannot exhaust the serving port (issue 14) and requests are capped apart (issue 15).

Floods come from 127.0.0.2 (and 127.0.0.3), the monitor from 127.0.0.1: Linux
routes all of 127/8 to loopback, so each is a client address of its own to
lbhealth. The counts cross the limits under test; nothing here times a request.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from typing import Any

import pytest

from lbhealth.app.server import MAX_REQUEST_BODY, MAX_REQUEST_HEAD
from lbhealth.demo.cluster import IIS_WELCOME
from lbhealth.demo.simserver import SimServer
from tests._inventory import same_kind
from tests._poll import wait_until
from tests._servers import Running
from tests._wire import read_all

Sim = Callable[..., SimServer]
Serve = Callable[..., Running]

MONITOR, FLOOD, OTHER = "127.0.0.1", "127.0.0.2", "127.0.0.3"
HALF_HEAD = b"GET /health/web1 HTTP/1.1\r\nHost: x\r\nX-Slow: "
#: Deadlines far longer than a test, so that only the limits under test close connections.
STEADY = {"keep_alive_timeout": 120, "request_timeout": 120}
POLL = b"GET /health/web1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def served(sim: Sim, lbhealth_server: Serve, **settings: Any) -> Running:
    backend = sim({"/": IIS_WELCOME})
    return lbhealth_server(same_kind("iis", {"web1": backend.url()}, cache_ttl=60, **settings))


def connect(port: int, source: str, stack: ExitStack, timeout: float = 10) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout, source_address=(source, 0))
    return stack.enter_context(sock)


def poll(port: int, source: str = MONITOR) -> bytes:
    """One monitor poll on a new connection, as HAProxy and F5 do."""
    with ExitStack() as stack:
        sock = connect(port, source, stack)
        sock.sendall(POLL)
        return read_all(sock)


def closed_by_server(sock: socket.socket) -> bool:
    """The server closed this connection (it answers nothing more), within the socket timeout."""
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def open_now(sock: socket.socket) -> bool:
    """Nothing arrived and no close: the connection is still open at the server."""
    sock.setblocking(False)
    try:
        sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    except ConnectionResetError:
        return False
    finally:
        sock.setblocking(True)
    return False


@contextmanager
def flood(port: int, source: str, count: int) -> Iterator[list[socket.socket]]:
    """``count`` connections from ``source``: half idle, half with a head never finished."""
    with ExitStack() as stack:
        socks = []
        for i in range(count):
            sock = connect(port, source, stack)
            if i % 2:
                with suppress(OSError):  # already closed by lbhealth: over the limit
                    sock.sendall(HALF_HEAD)
            socks.append(sock)
        yield socks


def test_a_flood_from_one_address_leaves_the_monitors_served_with_defaults(
    sim: Sim, lbhealth_server: Serve
) -> None:
    lb = served(sim, lbhealth_server, **STEADY)  # the limits as by default
    per_client = lb.app.settings.max_connections_per_client
    with flood(lb.port, FLOOD, per_client + 50) as socks:
        answers = [poll(lb.port) for _ in range(20)]
        assert all(a.startswith(b"HTTP/1.1 200") and a.endswith(b"UP\n") for a in answers)
        for sock in socks:
            sock.settimeout(0.2)
        # The flood's own connections past its limit were closed; the others stay open.
        assert sum(closed_by_server(sock) for sock in socks[per_client:]) == 50
        assert sum(open_now(sock) for sock in socks[:per_client]) == per_client


def test_a_client_over_its_limit_loses_its_own_new_connections(
    sim: Sim, lbhealth_server: Serve
) -> None:
    lb = served(sim, lbhealth_server, max_connections_per_client=5, **STEADY)
    with ExitStack() as stack:
        held = [connect(lb.port, FLOOD, stack) for _ in range(5)]
        extra = connect(lb.port, FLOOD, stack, timeout=5)
        assert closed_by_server(extra)
        assert poll(lb.port).startswith(b"HTTP/1.1 200")
        assert poll(lb.port, OTHER).startswith(b"HTTP/1.1 200")
        held[0].close()
        # Below its limit again, the client is served.
        answer = wait_until(lambda: poll(lb.port, FLOOD), lambda a: a.startswith(b"HTTP/1.1"))
        assert answer.startswith(b"HTTP/1.1 200")


def test_at_max_connections_the_busiest_client_pays_not_the_monitor(
    sim: Sim, lbhealth_server: Serve
) -> None:
    lb = served(sim, lbhealth_server, max_connections=10, max_connections_per_client=9, **STEADY)
    with ExitStack() as stack:
        heavy = [connect(lb.port, FLOOD, stack) for _ in range(8)]
        light = [connect(lb.port, OTHER, stack) for _ in range(2)]
        assert all(open_now(sock) for sock in heavy + light)
        # Ten open: a new connection of the heaviest client is the one refused ...
        newcomer = connect(lb.port, FLOOD, stack, timeout=5)
        assert closed_by_server(newcomer)
        # ... while the monitor gets in, and the heaviest client's oldest goes.
        assert poll(lb.port).startswith(b"HTTP/1.1 200")
        heavy[0].settimeout(5)
        assert closed_by_server(heavy[0])
        assert all(open_now(sock) for sock in heavy[1:] + light)


def test_idle_connections_are_closed_after_keep_alive_timeout(
    sim: Sim, lbhealth_server: Serve
) -> None:
    lb = served(sim, lbhealth_server, keep_alive_timeout=0.3)
    with ExitStack() as stack:
        never_sent = connect(lb.port, FLOOD, stack)
        after_answer = connect(lb.port, FLOOD, stack)
        after_answer.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
        assert after_answer.recv(65536).startswith(b"HTTP/1.1 200")
        only_newlines = connect(lb.port, FLOOD, stack)
        only_newlines.sendall(b"\r\n")  # bytes that start no request do not keep it open
        # The socket timeout (10 s) is far past the deadline: a close, not a timeout.
        assert closed_by_server(never_sent)
        assert closed_by_server(after_answer)
        assert closed_by_server(only_newlines)


def test_a_request_head_not_finished_in_time_gets_408_and_is_closed(
    sim: Sim, lbhealth_server: Serve
) -> None:
    lb = served(sim, lbhealth_server, request_timeout=0.5)
    with ExitStack() as stack:
        half = connect(lb.port, FLOOD, stack)
        half.sendall(HALF_HEAD)
        assert read_all(half).startswith(b"HTTP/1.1 408")
        # Dripping one byte at a time does not push the deadline back.
        drip = connect(lb.port, FLOOD, stack)
        drip.sendall(b"GET /health/web1 HTTP/1.1\r\n")
        sent = 0
        while open_now(drip):
            try:
                drip.sendall(b"X")
            except OSError:
                break
            sent += 1
            assert sent < 500, "a dripping client kept its connection"
            threading.Event().wait(0.01)
        assert read_all(drip).startswith(b"HTTP/1.1 408")
        assert poll(lb.port).startswith(b"HTTP/1.1 200")


def test_two_thousand_pipelined_gets_are_all_answered(sim: Sim, lbhealth_server: Serve) -> None:
    lb = served(sim, lbhealth_server)
    request = b"GET /health/web1 HTTP/1.1\r\nHost: x\r\n\r\n"
    burst = request * 1999 + POLL  # the last asks to close, so the answers end
    assert len(burst) > MAX_REQUEST_HEAD  # the old cap counted these bytes as one head
    with ExitStack() as stack:
        sock = connect(lb.port, MONITOR, stack, timeout=30)
        sock.sendall(burst)
        answers = read_all(sock)
    assert answers.count(b"HTTP/1.1 200 OK\r\n") == 2000
    assert answers.count(b"\r\n\r\nUP\n") == 2000


def test_a_head_just_under_the_cap_is_read_after_pipelined_requests(
    sim: Sim, lbhealth_server: Serve
) -> None:
    lb = served(sim, lbhealth_server)
    big = b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MAX_REQUEST_HEAD - 100)
    burst = b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n" * 50 + big + b"\r\nConnection: close\r\n\r\n"
    with ExitStack() as stack:
        sock = connect(lb.port, MONITOR, stack)
        sock.sendall(burst)
        answers = read_all(sock)
    assert answers.count(b"HTTP/1.1 200 OK\r\n") == 51
    assert b"HTTP/1.1 400" not in answers


def test_a_large_declared_body_gets_413_before_it_is_sent(sim: Sim, lbhealth_server: Serve) -> None:
    lb = served(sim, lbhealth_server, admin_token="t0ken-for-the-body-test")
    with ExitStack() as stack:
        sock = connect(lb.port, FLOOD, stack)
        sock.sendall(
            b"PUT /admin/nodes/web1/state HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 20000000\r\n\r\n"
        )
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 413")
    assert f"larger than {MAX_REQUEST_BODY} bytes".encode() in answer
    assert b"Request head" not in answer


def test_a_large_body_sent_whole_gets_413_not_a_reset(sim: Sim, lbhealth_server: Serve) -> None:
    lb = served(sim, lbhealth_server)
    body = b"x" * 20_000_000
    with ExitStack() as stack:
        sock = connect(lb.port, FLOOD, stack, timeout=30)
        sock.sendall(b"PUT /admin/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\n")
        # lbhealth reads and discards it while it lingers (or closed first: the answer
        # is still there to read).
        with suppress(OSError):
            sock.sendall(body)
        assert read_all(sock).startswith(b"HTTP/1.1 413")
    assert poll(lb.port).startswith(b"HTTP/1.1 200")


@pytest.mark.parametrize("chunk", [4096, MAX_REQUEST_BODY + 1])
def test_a_chunked_body_over_the_cap_gets_413(chunk: int, sim: Sim, lbhealth_server: Serve) -> None:
    lb = served(sim, lbhealth_server, admin_token="t0ken-for-the-body-test")
    chunks = b"".join(b"%x\r\n" % chunk + b"x" * chunk + b"\r\n" for _ in range(40))
    with ExitStack() as stack:
        sock = connect(lb.port, FLOOD, stack)
        sock.sendall(
            b"PUT /admin/nodes/web1/state HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer t0ken-for-the-body-test\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        with suppress(OSError):
            sock.sendall(chunks)
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert poll(lb.port).startswith(b"HTTP/1.1 200")
