"""One HTTP/1.1 exchange on a new connection: an asyncio protocol fed to httptools' parser.

A probe needs one GET on a fresh connection, its head, and a bounded body;
nothing else of a general client (pools, cookies, auth flows, retries). Doing
just that with the C parser the server side already uses costs a tenth of
httpx's CPU per probe (``docs/performance.md``), and every failure is known by
where it happened: connecting, reading the head, or reading the body.

Bounds are enforced as the bytes arrive: the head at ``MAX_HEADER_BYTES``
(counted by headers, and by raw bytes for one endless header line), the body
at the caller's cap before and after decompression (``BodySink``). A bound hit
stops the parser at once and closes the connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol, cast

import httptools

MAX_HEADER_BYTES = 64 * 1024
#: While the head is read, input is parsed in slices of this size, so that the
#: raw byte count of a head is right to within one slice.
HEAD_SLICE = 16 * 1024
REDIRECTS = frozenset({301, 302, 303, 307, 308})


class Failure(Exception):
    """The exchange failed: ``kind`` (a metric label) and a detail for the reason."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


HEADERS_TOO_LARGE = ("too-large", f"response headers larger than the {MAX_HEADER_BYTES}-byte cap")


class BodySink(Protocol):
    """Where a response body goes: each chunk as it arrives, the whole body at the end."""

    def feed(self, data: bytes) -> None:
        """Take one chunk off the wire; raise :class:`Failure` past a bound."""

    def body(self) -> bytes:
        """The body read, decoded."""


class Exchange(asyncio.Protocol):
    """Sends one request and reads its response; ``head`` and ``done`` resolve as it arrives.

    ``sink`` is made from the response headers once they are complete and gets
    each body chunk (it raises :class:`Failure` past a cap); it is not made,
    and the body never read, when ``stop_at_redirect`` and the answer is a
    redirect with a ``Location``.
    """

    def __init__(
        self,
        request: bytes,
        sink: Callable[[list[tuple[bytes, bytes]]], BodySink],
        stop_at_redirect: bool,
    ) -> None:
        loop = asyncio.get_running_loop()
        self.request = request
        self.make_sink = sink
        self.stop_at_redirect = stop_at_redirect
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.head: asyncio.Future[None] = loop.create_future()
        self.done: asyncio.Future[None] = loop.create_future()
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_bytes = 0  # raw bytes while the head is read
        self.header_bytes = 0  # sum of header lines, as the cap counts them
        self.received = 0  # body bytes off the wire
        self.first = b""  # the first bytes of the response: is it HTTP at all?
        self.status_read = False
        self.length: int | None = None
        self.chunked = False
        self.sink: BodySink | None = None

    @property
    def phase(self) -> str:
        return "reading the body" if self.head.done() else "waiting for the response"

    # Transport events.

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        if self.done.done():
            return
        if len(self.first) < 5:
            self.first += data[: 5 - len(self.first)]
        try:
            if self.head.done() or len(data) <= HEAD_SLICE:
                self._feed(data)
            else:
                for start in range(0, len(data), HEAD_SLICE):
                    self._feed(data[start : start + HEAD_SLICE])
                    if self.done.done():
                        return
        except Failure as failure:
            self._finish(failure)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done.done():
            return
        if isinstance(exc, ConnectionResetError):  # the reason says it: no errno text
            self._finish(Failure("reset", f"connection reset by the backend while {self.phase}"))
        elif isinstance(exc, OSError):
            why = exc.strerror or str(exc) or type(exc).__name__
            self._finish(Failure("reset", f"connection lost while {self.phase}: {why}"))
        elif not self.first:
            self._finish(Failure("closed", "connection closed before any response"))
        elif not self.head.done():
            self._finish(
                Failure("closed", "connection closed before the response head was complete")
            )
        elif self.length is None and not self.chunked:
            self._finish(None)  # a body delimited by the close, as HTTP/1.0 allows
        elif self.chunked:
            self._finish(
                Failure("truncated", "connection closed mid-body (chunked body not finished)")
            )
        else:
            self._finish(
                Failure(
                    "truncated",
                    f"connection closed mid-body (received {self.received} bytes,"
                    f" expected {self.length})",
                )
            )

    # Parser callbacks.

    def on_status(self, status: bytes) -> None:
        self.status_read = True

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_bytes += len(name) + len(value) + 4
        if self.header_bytes > MAX_HEADER_BYTES:
            raise Failure(*HEADERS_TOO_LARGE)
        self.headers.append((name, value))
        lowered = name.lower()
        if lowered == b"content-length" and value.strip().isdigit():
            self.length = int(value)
        elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
            self.chunked = True

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.head.set_result(None)
        if self.stop_at_redirect and self.status in REDIRECTS and self.location() is not None:
            self._finish(None)
            return
        self.sink = self.make_sink(self.headers)

    def on_body(self, body: bytes) -> None:
        self.received += len(body)
        if self.sink is not None:
            self.sink.feed(body)

    def on_message_complete(self) -> None:
        self._finish(None)

    # Helpers.

    def location(self) -> str | None:
        for name, value in self.headers:
            if name.lower() == b"location":
                return value.decode("latin-1")
        return None

    def _feed(self, data: bytes) -> None:
        if not self.head.done():
            self.head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, Failure):
                raise exc.__context__ from None
            raise
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            raise self._parse_failure(exc) from None
        if not self.head.done() and self.head_bytes > MAX_HEADER_BYTES + HEAD_SLICE:
            raise Failure(*HEADERS_TOO_LARGE)

    def _parse_failure(self, exc: Exception) -> Failure:
        reason = str(exc) or type(exc).__name__
        if not b"HTTP/".startswith(self.first):
            return Failure(
                "bad-http", "not an HTTP response: the backend sent no valid status line"
            )
        if not self.status_read:
            return Failure("bad-http", f"invalid HTTP from backend: illegal status line ({reason})")
        if not self.head.done():
            return Failure("bad-http", f"invalid HTTP from backend: illegal header ({reason})")
        if self.chunked:
            return Failure(
                "bad-http", f"invalid HTTP from backend: illegal chunk header ({reason})"
            )
        return Failure("bad-http", f"invalid HTTP from backend: {reason}")

    def close(self) -> None:
        """Hang up, whatever state the exchange is in (a deadline passed)."""
        if self.transport is not None:
            self.transport.abort()

    def _finish(self, failure: Failure | None) -> None:
        if not self.head.done():
            self.head.set_result(None)
        if not self.done.done():
            if failure is None:
                self.done.set_result(None)
            else:
                self.done.set_exception(failure)
        if self.transport is not None:
            self.transport.close()
