"""Exact bytes over a raw socket, as load-balancer monitors and hostile clients send them."""

from __future__ import annotations

import contextlib
import select
import socket


def read_all(sock: socket.socket) -> bytes:
    """Everything the peer sends until it closes."""
    chunks = []
    with contextlib.suppress(ConnectionResetError):  # a refusal may reset after answering
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def raw_request(port: int, request: bytes, timeout: float = 10) -> bytes:
    """Send exact bytes to loopback ``port`` and read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        return read_all(sock)


def agent_ask(port: int, send: bytes) -> bytes:
    """What HAProxy's agent-check does: connect, send the agent-send string, read until close.

    A reset while sending (closed on us with the request unread) is an empty answer.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(send)
        except ConnectionResetError:
            return b""
        return read_all(sock)


def status_of(answer: bytes) -> int:
    """The status code of a raw HTTP answer, 0 when it is not one."""
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.") else 0


def send_reading(port: int, request: bytes, timeout: float = 10) -> bytes:
    """Send ``request`` while watching for an answer; return everything the server sent.

    A server refusing a huge request answers before it has read it all, then
    closes: a client that only reads once it has sent everything gets a reset
    and never sees the answer. This one stops sending as soon as the answer
    starts, as a real client would.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        pending = memoryview(request)
        while pending:
            readable, _, _ = select.select([sock], [sock], [], timeout)
            if readable:
                break  # answered before the request was complete
            try:
                pending = pending[sock.send(pending[:65536]) :]
            except (BrokenPipeError, ConnectionResetError):
                break  # closed on us; what it sent first is still readable
        return read_all(sock)
