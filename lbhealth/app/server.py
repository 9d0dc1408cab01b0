"""The HTTP server: uvicorn with httptools, and the limits that keep the port for everyone.

httptools is chosen because h11 rejects the Host-less HTTP/1.1 requests some
monitors send; it has no limits of its own, and uvicorn's (``limit_concurrency``)
answers 503 to every client once one client has filled it. The load balancers
polling ``/health`` must keep their answers whatever another client does, so
:class:`LimitedHttpToolsProtocol` bounds each connection:

- admission by client address (:class:`lbhealth.app.clients.ClientTable`): a
  client over ``max_connections_per_client`` has its own new connections closed,
  and at ``max_connections`` the client holding the most loses its oldest;
- a connection with no request under way (new, or between keep-alive requests)
  is closed after ``keep_alive_timeout``;
- a request must arrive whole, head and body, within ``request_timeout`` of its
  first byte, else ``408`` and the connection is closed;
- a request head (request line and headers) over ``MAX_REQUEST_HEAD`` gets
  ``400``, a body over ``MAX_REQUEST_BODY`` gets ``413``: counted apart, so
  pipelined requests and bodies never count as a head.

A refused request is answered, then the connection reads and discards what
the client still sends for up to ``LINGER`` seconds before closing, so that
the client reads the answer instead of a reset.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import resource
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, cast

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from lbhealth.app.clients import ClientTable
from lbhealth.config import Settings

log = logging.getLogger("lbhealth.server")

#: Largest request head (request line and headers) lbhealth reads, as nginx and IIS.
MAX_REQUEST_HEAD = 64 * 1024
#: Largest request body: lbhealth's only bodies are small admin JSON documents.
MAX_REQUEST_BODY = 64 * 1024
#: Input is parsed in slices of this size, so that the bytes of a head are
#: counted to within one slice however many pipelined requests share a read.
FEED_SLICE = 4096
#: Seconds a refused client may keep sending before its connection is closed.
LINGER = 2.0
#: File descriptors lbhealth needs beyond its client connections (probes, files).
FD_HEADROOM = 512

BODY_TOO_LARGE = f"Request body larger than {MAX_REQUEST_BODY} bytes."

IDLE, RECEIVING, ANSWERING = "idle", "receiving", "answering"


@dataclass(frozen=True, slots=True)
class Deadlines:
    """Seconds a connection may spend waiting for a request, and receiving one."""

    idle: float
    request: float


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` with per-address admission, deadlines and size caps.

    One timer per connection, rearmed lazily: a phase change only records the
    time, and the timer, when it fires, checks the deadline of the phase the
    connection is in then. A request that arrives whole costs no timer.
    """

    def __init__(
        self, *args: Any, clients: ClientTable, deadlines: Deadlines, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._clients = clients
        self._deadlines = deadlines
        self._address = ""
        self._phase = IDLE
        self._since = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._in_head = True  # between requests, or reading a request head
        self._head_bytes = 0
        self._body_bytes = 0
        self._refused = False  # answered with an error: input is discarded until closed

    # Admission and the connection's life.

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._address = self.client[0] if self.client else ""
        if not self._clients.admit(self, self._address):
            self._refused = True
            transport.close()
            return
        self._enter(IDLE)

    def drop(self) -> None:
        """Close this connection: its client holds more than its share."""
        self._refused = True
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._clients.release(self, self._address)
        super().connection_lost(exc)

    # Input, counted.

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        for start in range(0, len(data), FEED_SLICE):
            piece = data if len(data) <= FEED_SLICE else data[start : start + FEED_SLICE]
            if self._in_head:
                self._head_bytes += len(piece)
            super().data_received(piece)
            if self._refused or self.transport.is_closing():
                return
            if self._in_head and self._head_bytes > MAX_REQUEST_HEAD:
                self._refuse(400, f"Request head larger than {MAX_REQUEST_HEAD} bytes.")
                return

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._enter(RECEIVING)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        declared = next((value for name, value in self.headers if name == b"content-length"), b"")
        if declared.isdigit() and int(declared) > MAX_REQUEST_BODY:
            self._refuse(413, BODY_TOO_LARGE)
            return
        self._in_head = False
        self._body_bytes = 0
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self._refused:
            return
        self._body_bytes += len(body)
        if self._body_bytes > MAX_REQUEST_BODY:
            self._refuse(413, BODY_TOO_LARGE)
            return
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        self._in_head = True
        self._head_bytes = 0
        self._phase = ANSWERING  # lbhealth's own handlers answer: no client deadline
        super().on_message_complete()

    def on_response_complete(self) -> None:
        if self._refused:
            return
        super().on_response_complete()
        if self._phase == ANSWERING and self.cycle.response_complete:
            self._enter(IDLE)

    # Deadlines.

    def _enter(self, phase: str) -> None:
        if self._refused:
            return  # closing: only the linger timer runs
        self._phase = phase
        self._since = self.loop.time()
        due = self._since + (self._deadlines.idle if phase == IDLE else self._deadlines.request)
        if self._timer is not None and self._timer.when() <= due:
            return  # fires no later than needed, then checks the phase it finds
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.loop.call_at(due, self._check_deadline)

    def _check_deadline(self) -> None:
        self._timer = None
        if self._refused or self._phase == ANSWERING or self.transport.is_closing():
            return
        limit = self._deadlines.idle if self._phase == IDLE else self._deadlines.request
        due = self._since + limit
        if self.loop.time() < due:
            self._timer = self.loop.call_at(due, self._check_deadline)
        elif self._phase == IDLE:
            self.transport.close()
        elif self._in_head:
            self._refuse(408, f"Request not received within {limit:g} s.")
        else:
            self.transport.close()  # the body is late: the handler reading it sees a disconnect

    # Refusals.

    def _refuse(self, status: int, message: str) -> None:
        """Answer ``status`` when nothing else is being answered, then linger and close."""
        self._refused = True
        cycle = self.cycle
        if self._in_head:  # the request has no cycle yet; the last one must be done
            can_answer = not self.pipeline and (cycle is None or cycle.response_complete)
        else:  # the request's own cycle: answered in its place unless it began answering
            can_answer = not self.pipeline and not cycle.response_started
            cycle.disconnected = True  # its handler's reads end, its sends are dropped
            cycle.message_event.set()
        if not can_answer:
            self.transport.close()
            return
        body = f"{message}\n".encode("ascii")
        head = (
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
            "content-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode("ascii") + body)
        self.flow.resume_reading()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.loop.call_later(LINGER, self.transport.close)


def ensure_file_limit(max_connections: int) -> None:
    """Raise the soft descriptor limit so ``max_connections`` clients fit (up to the hard one).

    With the common soft limit of 1024, accepting would fail with EMFILE
    before ``max_connections`` is reached, and every client would wait.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max_connections + FD_HEADROOM
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
        if raised < wanted:
            log.warning(
                "open files are limited to %d (hard limit): max_connections %d may not fit",
                raised,
                max_connections,
            )


def uvicorn_config(
    app: ASGIApp | str, host: str, port: int, log_level: str, settings: Settings
) -> uvicorn.Config:
    """The one uvicorn configuration lbhealth runs with (single process, workers, demo)."""
    ensure_file_limit(settings.max_connections)
    protocol = functools.partial(
        LimitedHttpToolsProtocol,
        clients=ClientTable(settings.max_connections_per_client, settings.max_connections),
        deadlines=Deadlines(idle=settings.keep_alive_timeout, request=settings.request_timeout),
    )
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        # uvicorn calls it as it would the class, with its config and server state.
        http=cast("type[asyncio.Protocol]", protocol),
        ws="none",  # lbhealth serves no WebSocket: an Upgrade is a plain request
        loop="auto",
        lifespan="on",
        log_config=None,
        log_level=log_level,
        access_log=settings.access_log,
        server_header=False,
        # uvicorn's own idle timer, never before ours (the protocol's is exact).
        timeout_keep_alive=math.ceil(settings.keep_alive_timeout),
    )
