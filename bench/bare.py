"""The ceiling of the stack: a bare ASGI app answering ``UP\\n`` (``python -m bench.bare PORT``).

It sends the very bytes lbhealth sends for an UP node, under the same uvicorn
settings (:func:`lbhealth.app.server.uvicorn_config`), so the benchmark's ratio
measures lbhealth's own per-request cost and nothing else.
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.types import Receive, Scope, Send

from lbhealth.app.server import uvicorn_config
from lbhealth.config import Settings
from lbhealth.serve.prebuilt import text_messages

START, BODY = text_messages(200, b"UP\n", "up")


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await send(START)
        await send(BODY)


if __name__ == "__main__":
    config = uvicorn_config(app, "127.0.0.1", int(sys.argv[1]), "warning", Settings())
    uvicorn.Server(config).run()
