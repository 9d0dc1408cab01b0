"""A tiny real HTTP server for simulated backends (the demo, tests, benchmarks).

Raw asyncio sockets rather than a framework, so that it can send exactly the
bytes a real IIS or JBoss sends (status, repeated headers, odd encodings) and
count every request it receives: tests assert backend load by counting here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from dataclasses import dataclass, field

_REASONS = {
    200: "OK",
    302: "Found",
    404: "Not Found",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass
class Page:
    """One canned answer."""

    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    delay: float = 0.0
    #: When set, the answer waits until this event is set (tests hold a probe in flight).
    hold: asyncio.Event | None = None

    def encode(self, head_only: bool = False) -> bytes:
        reason = _REASONS.get(self.status, "Status")
        lines = [f"HTTP/1.1 {self.status} {reason}"]
        lines += [f"{k}: {v}" for k, v in self.headers if k.lower() != "content-length"]
        lines += [f"Content-Length: {len(self.body)}", "Connection: close", "", ""]
        head = "\r\n".join(lines).encode("latin-1")
        return head if head_only else head + self.body


class SimServer:
    """Serves ``pages[path]`` on one loopback port; unknown paths get a 404."""

    def __init__(self, pages: dict[str, Page] | None = None, host: str = "127.0.0.1") -> None:
        self.pages: dict[str, Page] = dict(pages or {})
        self.host = host
        self.hits: Counter[str] = Counter()
        #: Request headers of the latest request per path (names lower-cased).
        self.last_headers: dict[str, dict[str, str]] = {}
        #: Requests being answered now, and the most at once (probe concurrency).
        self.in_flight = 0
        self.peak_in_flight = 0
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.sockets[0].getsockname()[1])

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    async def start(self, port: int = 0) -> SimServer:
        self._server = await asyncio.start_server(self._handle, self.host, port)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, target, _ = request_line.split(" ", 2)
            path = target.split("?", 1)[0]
            self.hits[path] += 1
            self.last_headers[path] = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in header_lines if line)
            }
            page = self.pages.get(path) or Page(404, [("Content-Type", "text/plain")], b"nope")
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                if page.delay:
                    await asyncio.sleep(page.delay)
                if page.hold is not None:
                    await page.hold.wait()
                writer.write(page.encode(head_only=method == "HEAD"))
                await writer.drain()
            finally:
                self.in_flight -= 1
        except (
            OSError,
            ValueError,
            asyncio.IncompleteReadError,
            TimeoutError,
            asyncio.LimitOverrunError,
        ):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class TcpListener:
    """Accepts and closes TCP connections: a stand-in for SQL Server or SMB."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.accepted = 0
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "listener not started"
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self, port: int = 0) -> TcpListener:
        async def accept(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.accepted += 1
            writer.close()

        self._server = await asyncio.start_server(accept, self.host, port)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
