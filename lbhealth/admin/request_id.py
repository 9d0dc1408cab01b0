"""Request ids for admin requests: returned to the caller, written on the action's log lines.

An operator's change (drain, reload, ...) must be traceable to the request
that made it. The id is the caller's ``X-Request-ID`` when it is a plain
token (so an id from a proxy or a script carries through), a fresh one
otherwise (so a client cannot forge log lines with it).
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
#: Paths whose requests get an id; monitors' fast path stays untouched.
PREFIX = "/admin"
#: Loggers whose records get the current request's id as a ``request_id`` field.
LOGGERS = ("lbhealth.admin", "lbhealth.reload", "lbhealth.auth")
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

_current: ContextVar[str | None] = ContextVar("lbhealth_request_id", default=None)


def current() -> str | None:
    """The id of the admin request being served, if any."""
    return _current.get()


def choose(supplied: str | None) -> str:
    return supplied if supplied and _SANE.match(supplied) else uuid.uuid4().hex


class _AddRequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        rid = _current.get()
        if rid is not None and not hasattr(record, "request_id"):
            record.request_id = rid
        return True


class RequestIdMiddleware:
    """ASGI middleware: an id per ``/admin`` request, in the response header and the logs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        for name in LOGGERS:
            logger = logging.getLogger(name)
            if not any(isinstance(f, _AddRequestId) for f in logger.filters):
                logger.addFilter(_AddRequestId())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        supplied = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
        rid = choose(supplied.decode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", rid.encode())]}
            await send(message)

        token = _current.set(rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)
