"""The FastAPI application: node JSON views, Kubernetes-style probes, admin and cluster routes.

Monitors' plain-text polls never get here (:mod:`lbhealth.serve.fast_path`);
everything else does. The lifespan starts and stops what runs beside the
server: probing, the state-file follower, SIGHUP reloads, the agent-check.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Literal, Protocol

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from lbhealth import __version__
from lbhealth.admin import request_id
from lbhealth.admin.api import build_admin_router
from lbhealth.admin.reload import Reloadable, install_sighup
from lbhealth.admin.request_id import RequestIdMiddleware
from lbhealth.app.docs import serve_docs
from lbhealth.app.sharing import Sharing, StoreCollector, store_lines
from lbhealth.cluster.api import build_router
from lbhealth.core.engine import Engine
from lbhealth.core.lag import ScheduleLag
from lbhealth.core.probe_process import ProbeProcess
from lbhealth.lb.agent import agent_listener
from lbhealth.serve.answer import STATE_HEADER, http_code, monitor_answer, node_json
from lbhealth.serve.http import NO_STORE, TextOnly, add_monitor_route, negotiate
from lbhealth.serve.metrics import Metrics
from lbhealth.serve.prebuilt import AnswerBook, Messages
from lbhealth.serve.probe_metrics import ProbingCollector
from lbhealth.serve.schemas import (
    STATE_HEADERS,
    NodeDetail,
    NodeList,
    Responses,
    UnknownNode,
    answer,
)
from lbhealth.store.admin import AdminStore
from lbhealth.store.entries import AdminEntry
from lbhealth.store.link import StoreUnavailable
from lbhealth.text.clean import MAX_NAME, clean_reason
from lbhealth.verdict import NodeVerdict

#: ``/health/{node}``: every status, text first (what monitors and curl get), JSON after.
HEALTH: Responses = {
    200: answer("served up", "UP\n", NodeDetail, headers=STATE_HEADERS),
    404: answer(
        "served drain (HAProxy NOLB), or no such node (text ``UNKNOWN: ...``)",
        "DRAIN: patching\n",
        NodeDetail | UnknownNode,
        headers=STATE_HEADERS,
    ),
    503: answer("served down or maint", "DOWN: jsp: HTTP 500\n", NodeDetail, headers=STATE_HEADERS),
}
#: ``?verbose`` (no value needed) on ``/livez`` and ``/readyz``: one line per check.
VERBOSE = {
    "parameters": [
        {
            "name": "verbose",
            "in": "query",
            "required": False,
            "allowEmptyValue": True,
            "description": "present (``?verbose``, any value): list each check"
            " (``[+]name ok`` / ``[-]name failed: why``)",
            "schema": {"type": "string"},
        }
    ]
}
READYZ: Responses = {
    200: answer(
        "configuration loaded and every check probed once, whatever the verdicts",
        "[+]config ok\n[+]probes ok\nreadyz check passed\n",
    ),
    503: answer(
        "not ready yet: the failing checks are listed",
        "[+]config ok\n[-]probes failed: 1 check(s) not probed yet: web1/iis\n"
        "readyz check failed\n",
    ),
}


class Service(Reloadable, Protocol):
    """What the routes need of the running service (:class:`lbhealth.app.service.LBHealth`)."""

    engine: Engine
    admin: AdminStore
    answers: AnswerBook
    lag: ScheduleLag
    prober: ProbeProcess | None
    sharing: Sharing | None

    async def start_sharing(self) -> None: ...

    async def stop_sharing(self) -> None: ...

    def start_probing(self) -> None: ...

    async def probing_started(self) -> None: ...

    async def stop_probing(self) -> None: ...

    async def lb_state(self, name: str) -> tuple[NodeVerdict, AdminEntry, int | None] | None: ...


class MessagesResponse(Response):
    """A response sent as prebuilt ASGI messages: the fast path's bytes, from a route."""

    def __init__(self, messages: Messages) -> None:
        self.messages = messages
        super().__init__(status_code=messages[0]["status"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        for message in self.messages:
            await send(message)


def build_api(service: Service) -> FastAPI:
    """The FastAPI app: JSON views, Kubernetes-style probes and the OpenAPI docs."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        settings = service.settings
        await service.start_sharing()
        service.start_probing()
        await service.probing_started()
        uninstall_sighup = install_sighup(service)
        # Other workers (or an operator) may change the state file: follow it.
        following = asyncio.create_task(service.admin.watch())
        try:
            async with agent_listener(settings.host, settings.agent_port, service.lb_state):
                yield
        finally:
            uninstall_sighup()
            following.cancel()
            await asyncio.gather(following, return_exceptions=True)
            await service.stop_probing()
            await service.stop_sharing()
            await service.engine.aclose()

    api = FastAPI(
        title="lbhealth",
        version=__version__,
        description="Per-node health verdicts for load balancers (200 UP / 503 DOWN).",
        lifespan=lifespan,
        docs_url=None,  # served by lbhealth.app.docs from the package's own assets
        redoc_url=None,
    )
    metrics = Metrics(service.answers)
    metrics.registry.register(ProbingCollector(service.lag, lambda: service.prober))
    if service.sharing is not None:
        metrics.registry.register(StoreCollector(service.sharing, lambda: service.prober))
    api.include_router(metrics.router())

    async def health(
        node: str,
        request: Request,
        format: Annotated[Literal["text", "json"] | None, Query()] = None,  # noqa: A002
    ) -> Response:
        """``UP`` (200) or ``DOWN: <reason>`` (503); JSON with ``?format=json``."""
        if negotiate(format, request.headers.get("accept", "")) != "json":
            return MessagesResponse(await service.answers.messages(node))
        engine = service.engine
        if node not in engine.checks:
            return JSONResponse(
                {"error": "unknown node", "node": clean_reason(node, MAX_NAME)}, 404, NO_STORE
            )
        verdict, admin = await engine.node(node), service.admin.get(node)
        answer = monitor_answer(verdict, admin)
        history = [c.to_json() for c in engine.history.of(node)]
        data = {**node_json(verdict, admin), "history": history}
        return JSONResponse(data, answer.code, {**NO_STORE, STATE_HEADER: answer.served.value})

    async def health_text(node: str, format: TextOnly = None) -> Response:  # noqa: A002
        """``UP`` (200), ``DRAIN: <reason>`` (404), ``DOWN``/``MAINT: <reason>`` (503)."""
        return MessagesResponse(await service.answers.messages(node))

    add_monitor_route(api.router, "/health/{node}", (health, health_text), "node_health", HEALTH)

    api.include_router(build_router(lambda: service.engine, service.admin.get))

    @api.get(
        "/nodes",
        operation_id="list_nodes",
        response_class=Response,
        responses={200: answer("every node with its verdict and served state", model=NodeList)},
    )
    async def nodes() -> JSONResponse:
        """Every node with its current verdict."""
        verdicts = await service.engine.all_nodes()
        views = [node_json(v, service.admin.get(v.node)) for v in verdicts]
        return JSONResponse({"nodes": views}, headers=NO_STORE)

    @api.get(
        "/livez",
        operation_id="livez",
        response_class=Response,
        responses={200: answer("the process runs", "livez check passed\n")},
        openapi_extra=VERBOSE,
    )
    async def livez(request: Request) -> PlainTextResponse:
        """The process is alive. Never depends on backends."""
        lines = ["[+]ping ok"] if "verbose" in request.query_params else []
        return PlainTextResponse("\n".join([*lines, "livez check passed"]) + "\n")

    @api.get(
        "/readyz",
        operation_id="readyz",
        response_class=Response,
        responses=READYZ,
        openapi_extra=VERBOSE,
    )
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
        prober = service.prober
        if prober is not None:
            parts.append((f"probe-process (pid {prober.pid})", prober.problem))
        ok = all(why is None for _, why in parts)
        verbose = "verbose" in request.query_params
        lines = (
            [f"[+]{n} ok" if why is None else f"[-]{n} failed: {why}" for n, why in parts]
            if verbose or not ok
            else []
        )
        if verbose:  # warnings, not failures: the verdicts are served, only older
            lines += store_lines(service.sharing, service.prober)
            schedule = service.lag.report()
            state = "[!]schedule behind" if schedule.behind else "[+]schedule ok"
            lines.append(f"{state}: {schedule.describe()}")
        lines.append("readyz check passed" if ok else "readyz check failed")
        code = http_code("UP" if ok else "DOWN")
        return PlainTextResponse("\n".join(lines) + "\n", code, NO_STORE)

    api.include_router(build_admin_router(service.admin, service))

    async def store_unavailable(_: Request, exc: Exception) -> JSONResponse:
        """An admin change the shared store did not take: made nowhere, so the operator retries."""
        body = {"error": f"{exc}; nothing was changed, retry", "request_id": request_id.current()}
        return JSONResponse(body, 503, NO_STORE)

    api.add_exception_handler(StoreUnavailable, store_unavailable)
    api.add_middleware(RequestIdMiddleware)
    serve_docs(api)
    return api
