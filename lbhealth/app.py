"""HTTP interface: the monitor fast path in front of a FastAPI app, on one port.

Monitors poll ``/health/{node}`` many times a second; they get a plain-text
answer built without FastAPI's per-request machinery (routing, validation,
dependency injection), by a small ASGI layer that handles exactly that path
and hands everything else (JSON views, docs, admin) to FastAPI.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from lbhealth import __version__, scheduler
from lbhealth.answers import AnswerBook, Served, health_text, text_messages
from lbhealth.cluster_api import ROLE_PREFIX, build_router
from lbhealth.config import Inventory
from lbhealth.engine import Engine
from lbhealth.metrics import Metrics
from lbhealth.verdict import clean_reason, http_code

log = logging.getLogger("lbhealth.app")

HEALTH_PREFIX = "/health/"
TEXT_HEADERS = {"cache-control": "no-store"}


def unknown_node_text(name: str) -> bytes:
    shown = clean_reason(repr(name), 80)
    return f"UNKNOWN: no node named {shown} in the inventory; GET /nodes lists them\n".encode()


def _wants_json(scope: Scope) -> bool:
    if b"format=" in scope.get("query_string", b""):
        return True
    return any(k == b"accept" and b"json" in v for k, v in scope["headers"])


class LBHealth:
    """The ASGI application: fast path for monitors, FastAPI for the rest."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.answers = AnswerBook(engine)
        self.served = Served()
        self.api = build_api(self)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"].startswith(HEALTH_PREFIX)
            and not scope["path"].startswith(ROLE_PREFIX)  # pools; a node "role" still works
            and scope["method"] in ("GET", "HEAD", "OPTIONS")
            and not _wants_json(scope)
        ):
            name = scope["path"][len(HEALTH_PREFIX) :]
            answer = self.answers.answers.get(name)
            if answer is not None and answer.expires > self.engine.clock():
                self.served.prebuilt += 1
                await send(answer.start)
                await send(answer.body)
                return
            if name in self.engine.checks:
                # Expired or not built yet: stale (background) or probe (on-demand).
                self.served.computed += 1
                code, body = health_text(await self.engine.node(name))
            else:
                self.served.unknown += 1
                code, body = 404, unknown_node_text(name)
            start, body_message = text_messages(code, body)
            await send(start)
            await send(body_message)
            return
        await self.api(scope, receive, send)


def build_api(service: LBHealth) -> FastAPI:
    """The FastAPI app: JSON views, Kubernetes-style probes and the OpenAPI docs."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        engine = service.engine
        probing = asyncio.create_task(
            scheduler.for_engine(engine).run() if engine.background else engine.warm_up()
        )
        try:
            yield
        finally:
            probing.cancel()
            await asyncio.gather(probing, return_exceptions=True)
            await engine.aclose()

    api = FastAPI(
        title="lbhealth",
        version=__version__,
        description="Per-node health verdicts for load balancers (200 UP / 503 DOWN).",
        lifespan=lifespan,
    )
    api.include_router(Metrics(service.engine, service.served).router())

    async def health(
        node: str,
        request: Request,
        format: Annotated[Literal["text", "json"] | None, Query()] = None,  # noqa: A002
    ) -> Response:
        """``UP`` (200) or ``DOWN: <reason>`` (503); JSON with ``?format=json``."""
        as_json = format == "json" or (
            format is None and "json" in request.headers.get("accept", "")
        )
        if node not in service.engine.checks:
            body = unknown_node_text(node)
            if as_json:
                return JSONResponse(
                    {"error": "unknown node", "node": clean_reason(node, 80)}, 404, TEXT_HEADERS
                )
            return PlainTextResponse(body, 404, TEXT_HEADERS)
        verdict = await service.engine.node(node)
        if as_json:
            history = [c.to_json() for c in service.engine.history.of(node)]
            data = {**verdict.to_json(), "history": history}
            return JSONResponse(data, http_code(verdict.status), TEXT_HEADERS)
        code, text = health_text(verdict)
        return PlainTextResponse(text, code, TEXT_HEADERS)

    # One operation per method: monitors use all three, and OpenAPI wants unique ids.
    for method in ("GET", "HEAD", "OPTIONS"):
        api.add_api_route(
            "/health/{node}",
            health,
            methods=[method],
            operation_id=f"health_{method.lower()}",
            responses={
                200: {"description": "UP", "content": {"text/plain": {}}},
                503: {"description": "DOWN: <reason>", "content": {"text/plain": {}}},
                404: {"description": "no such node", "content": {"text/plain": {}}},
            },
        )

    api.include_router(build_router(lambda: service.engine))

    @api.get("/nodes")
    async def nodes() -> JSONResponse:
        """Every node with its current verdict."""
        verdicts = await service.engine.all_nodes()
        return JSONResponse({"nodes": [v.to_json() for v in verdicts]}, headers=TEXT_HEADERS)

    @api.get("/livez", response_class=PlainTextResponse)
    async def livez(request: Request) -> PlainTextResponse:
        """The process is alive. Never depends on backends."""
        lines = ["[+]ping ok"] if "verbose" in request.query_params else []
        return PlainTextResponse("\n".join([*lines, "livez check passed"]) + "\n")

    @api.get("/readyz", response_class=PlainTextResponse)
    async def readyz(request: Request) -> PlainTextResponse:
        """Config loaded and every check probed once, whatever the verdicts."""
        pending = service.engine.pending()
        probes_failure = None
        if pending:
            more = f" (+{len(pending) - 3} more)" if len(pending) > 3 else ""
            probes_failure = (
                f"{len(pending)} check(s) not probed yet: {', '.join(pending[:3])}{more}"
            )
        parts: list[tuple[str, str | None]] = [("config", None), ("probes", probes_failure)]
        ok = not pending
        verbose = "verbose" in request.query_params
        lines = (
            [f"[+]{n} ok" if why is None else f"[-]{n} failed: {why}" for n, why in parts]
            if verbose or not ok
            else []
        )
        lines.append("readyz check passed" if ok else "readyz check failed")
        return PlainTextResponse("\n".join(lines) + "\n", 200 if ok else 503, TEXT_HEADERS)

    return api


def create_app(inventory: Inventory) -> LBHealth:
    """The ASGI app for an inventory."""
    return LBHealth(Engine(inventory))
