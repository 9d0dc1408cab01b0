"""A programmable misbehaving HTTP backend, for the fault-injection suite.

Raw asyncio sockets on loopback, so a fault can send exactly the broken bytes
(or the silence, the reset, the endless body) that a sick IIS or JBoss sends.
Each path has its own fault; the server counts hits and the bytes it managed to
hand to the kernel per connection, so tests can assert that lbhealth stopped
reading (memory stays bounded) without measuring RSS.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import gzip
import socket
import ssl
import struct
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import trustme

GIB = 1 << 30
_CHUNK = 64 * 1024


@dataclass
class Conn:
    """One accepted connection, as a fault sees it."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    sent: int = 0
    request: bytes = b""  # the request head, for faults that echo it

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        self.sent += len(data)
        await self.writer.drain()

    async def wait_for_client_to_leave(self) -> None:
        """Hold the connection open, silent, until the client gives up."""
        while await self.reader.read(4096):
            pass

    def reset(self) -> None:
        """Close with SO_LINGER 0: the client gets a TCP RST, not a FIN."""
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


Fault = Callable[[Conn], Awaitable[None]]


def head(status: str = "200 OK", *headers: str) -> bytes:
    """A response head with ``Connection: close``."""
    return "\r\n".join([f"HTTP/1.1 {status}", *headers, "Connection: close", "", ""]).encode()


def respond(raw: bytes) -> Fault:
    """Send these exact bytes, then close."""

    async def fault(conn: Conn) -> None:
        await conn.send(raw)

    return fault


def page(body: bytes, *headers: str, status: str = "200 OK") -> Fault:
    """A well-formed answer with a correct Content-Length."""
    return respond(head(status, *headers, f"Content-Length: {len(body)}") + body)


async def silent(conn: Conn) -> None:
    """Accept, read the request, never answer."""
    await conn.wait_for_client_to_leave()


async def status_then_stall(conn: Conn) -> None:
    await conn.send(b"HTTP/1.1 200 OK\r\n")
    await conn.wait_for_client_to_leave()


async def drip(conn: Conn) -> None:
    """Slowloris: a valid answer, one byte per second."""
    body = b"<html>slow</html>"
    for byte in head("200 OK", f"Content-Length: {len(body)}") + body:
        await conn.send(bytes([byte]))
        await asyncio.sleep(1)


async def reset_mid_body(conn: Conn) -> None:
    await conn.send(head("200 OK", "Content-Length: 100000") + b"x" * 1000)
    await asyncio.sleep(0.05)
    conn.reset()


async def close_before_headers(conn: Conn) -> None:
    conn.writer.close()


async def endless_body(conn: Conn) -> None:
    """Announce 1 GiB and stream it (generated, never stored) until the client stops."""
    await conn.send(head("200 OK", f"Content-Length: {GIB}"))
    zeros = bytes(_CHUNK)
    while conn.sent < GIB:
        await conn.send(zeros)


def gzip_bomb(inflated: int = 256 << 20) -> Fault:
    """Small on the wire, ``inflated`` bytes once decompressed."""
    bomb = gzip.compress(bytes(inflated), compresslevel=9)
    return page(bomb, "Content-Encoding: gzip", "Content-Type: text/html")


def redirect_to(location: str) -> Fault:
    return respond(head("302 Found", f"Location: {location}", "Content-Length: 0"))


class FaultServer:
    """Serves ``faults[path]`` on one loopback port (optionally over TLS)."""

    def __init__(self, faults: Mapping[str, Fault], tls: ssl.SSLContext | None = None) -> None:
        self.faults = dict(faults)
        self.tls = tls
        self.hits: Counter[str] = Counter()
        #: Bytes handed to the kernel, one entry per connection, by path.
        self.sent: dict[str, list[int]] = defaultdict(list)
        #: Bytes handed to the kernel per request target (path and query), once the
        #: connection is over: a test asking with a unique query reads its own entry.
        self.sent_to: dict[str, int] = {}
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.sockets[0].getsockname()[1])

    def url(self, path: str = "/") -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    async def start(self) -> FaultServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.tls)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._handlers):  # silent and dripping faults never end alone
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)
        conn = Conn(reader, writer)
        path = target = "?"
        try:
            conn.request = request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            target = request.split(b" ", 2)[1].decode("latin-1")
            path = target.split("?", 1)[0]
            self.hits[path] += 1
            await self.faults.get(path, respond(head("404 Not Found", "Content-Length: 0")))(conn)
        except (OSError, ValueError, IndexError, TimeoutError, asyncio.IncompleteReadError):
            pass  # the client gave up: that is what most faults are waiting for
        except asyncio.CancelledError:
            pass  # stop(): the test is over
        finally:
            self.sent[path].append(conn.sent)
            self.sent_to[target] = conn.sent
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()


@dataclass(frozen=True)
class Certs:
    """Server TLS contexts that a client trusting ``ca_file`` rejects for a named reason."""

    ca_file: str
    self_signed: ssl.SSLContext
    expired: ssl.SSLContext
    wrong_host: ssl.SSLContext


def make_certs(directory: str) -> Certs:
    """Certificates for the TLS faults, all generated with trustme on the fly."""
    ca = trustme.CA()
    ca_file = f"{directory}/ca.pem"
    ca.cert_pem.write_to_path(ca_file)
    stranger = trustme.CA()  # a CA nobody trusts, presenting its own certificate
    self_signed = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert_file, key_file = f"{directory}/self.pem", f"{directory}/self.key"
    stranger.cert_pem.write_to_path(cert_file)
    stranger.private_key_pem.write_to_path(key_file)
    self_signed.load_cert_chain(cert_file, key_file)
    now = datetime.datetime.now(datetime.UTC)
    expired_leaf = ca.issue_cert(
        "127.0.0.1",
        not_before=now - datetime.timedelta(days=30),
        not_after=now - datetime.timedelta(days=1),
    )
    expired = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    expired_leaf.configure_cert(expired)
    wrong_host = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("other.example.com").configure_cert(wrong_host)
    return Certs(ca_file, self_signed, expired, wrong_host)
