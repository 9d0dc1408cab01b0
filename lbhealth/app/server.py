"""The HTTP server: uvicorn with httptools, a cap on request heads, and lbhealth's limits.

httptools (chosen because h11 rejects the Host-less HTTP/1.1 requests some
monitors send) accepts request heads of any size: a client could make
lbhealth buffer gigabytes of headers. This protocol counts the bytes of each
request head and answers 400 past ``MAX_REQUEST_HEAD``, as nginx and IIS do.
"""

from __future__ import annotations

import math

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from lbhealth.config import Settings

#: Largest request head (request line and headers) lbhealth reads.
MAX_REQUEST_HEAD = 64 * 1024


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` that refuses request heads over ``MAX_REQUEST_HEAD``."""

    _unparsed = 0  # bytes received since the last complete head or message
    _refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._unparsed += len(data)
        if self._unparsed > MAX_REQUEST_HEAD:
            self._refused = True
            self.send_400_response(f"Request head larger than {MAX_REQUEST_HEAD} bytes.")
            return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._unparsed = 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._unparsed = 0
        super().on_message_complete()


def uvicorn_config(
    app: ASGIApp | str, host: str, port: int, log_level: str, settings: Settings
) -> uvicorn.Config:
    """The one uvicorn configuration lbhealth runs with (single process, workers, demo)."""
    # httptools, not h11: h11 rejects HTTP/1.1 requests without a Host header,
    # which some load-balancer monitors send (BoundedHttpToolsProtocol caps their heads).
    # Client-side limits (README, "Client-side limits"): idle keep-alive sockets
    # are closed after keep_alive_timeout; past max_connections uvicorn answers
    # 503 rather than exhausting file descriptors.
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=BoundedHttpToolsProtocol,
        loop="auto",
        lifespan="on",
        log_config=None,
        log_level=log_level,
        access_log=settings.access_log,
        server_header=False,
        timeout_keep_alive=math.ceil(settings.keep_alive_timeout),
        limit_concurrency=settings.max_connections,
    )
