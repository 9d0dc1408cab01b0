"""The HTTP server protocol: uvicorn's httptools, with a cap on request heads.

httptools (chosen because h11 rejects the Host-less HTTP/1.1 requests some
monitors send) accepts request heads of any size: a client could make
lbhealth buffer gigabytes of headers. This protocol counts the bytes of each
request head and answers 400 past ``MAX_REQUEST_HEAD``, as nginx and IIS do.
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

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
