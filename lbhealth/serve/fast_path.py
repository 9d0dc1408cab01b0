"""The monitor fast path: ``/health/{node}`` answered from a prebuilt answer, before FastAPI.

Monitors poll ``/health/{node}`` many times a second; they get a plain-text
answer built without FastAPI's per-request machinery (routing, validation,
dependency injection): a dict lookup and two ``send`` calls. Everything else
(JSON views, docs, admin, and a node whose answer is not prebuilt) goes to the
application behind it, which answers from the same :mod:`lbhealth.serve.prebuilt`
functions, so both paths send the same bytes.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from lbhealth.serve.http import HEALTH_PREFIX, MONITOR_METHODS, ROLE_PREFIX, negotiate
from lbhealth.serve.prebuilt import AnswerBook


def _wants_text(scope: Scope) -> bool:
    """Would content negotiation choose the plain-text answer? (cheap: no query parsing)"""
    if b"format=" in scope.get("query_string", b""):
        return False  # explicit format: the full route parses and honours it
    for key, value in scope["headers"]:
        if key == b"accept":
            return negotiate(None, value.decode("latin-1")) == "text"
    return True


class FastPath:
    """ASGI middleware answering monitors' plain-text polls from the answer book."""

    def __init__(self, book: AnswerBook, app: ASGIApp) -> None:
        self.book = book
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"].startswith(HEALTH_PREFIX)
            and not scope["path"].startswith(ROLE_PREFIX)  # pools; a node "role" still works
            and scope["method"] in MONITOR_METHODS
            and _wants_text(scope)
        ):
            start, body = await self.book.messages(scope["path"][len(HEALTH_PREFIX) :])
            await send(start)
            await send(body)
            return
        await self.app(scope, receive, send)
