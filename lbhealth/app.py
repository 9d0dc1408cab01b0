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
from lbhealth.admin import AdminEntry, AdminStore
from lbhealth.admin_api import build_admin_router
from lbhealth.agent import agent_listener
from lbhealth.answer import STATE_HEADER, monitor_answer, node_json
from lbhealth.answers import AnswerBook, ServedCounts, answer_messages, text_messages
from lbhealth.cluster_api import ROLE_PREFIX, build_router
from lbhealth.config import Inventory
from lbhealth.engine import Engine, NodeVerdict
from lbhealth.metrics import Metrics
from lbhealth.reload import install_sighup
from lbhealth.reload_api import build_reload_router
from lbhealth.request_id import RequestIdMiddleware
from lbhealth.routing import MONITOR_METHODS, NO_STORE, add_monitor_route
from lbhealth.verdict import clean_reason

log = logging.getLogger("lbhealth.app")

HEALTH_PREFIX = "/health/"


def unknown_node_text(name: str) -> bytes:
    shown = clean_reason(repr(name), 80)
    return f"UNKNOWN: no node named {shown} in the inventory; GET /nodes lists them\n".encode()


def _wants_json(scope: Scope) -> bool:
    if b"format=" in scope.get("query_string", b""):
        return True
    return any(k == b"accept" and b"json" in v for k, v in scope["headers"])


class LBHealth:
    """The ASGI application: fast path for monitors, FastAPI for the rest."""

    def __init__(self, engine: Engine, config_path: str | None = None) -> None:
        self.engine = engine
        self.admin = AdminStore(engine.inventory)
        self.answers = AnswerBook(engine, self.admin)
        self.served = ServedCounts()
        #: The inventory file, for reloads (None: built in memory, cannot reload).
        self.config_path = config_path
        #: With several workers, the supervisor that forwards a reload to all of them.
        self.supervisor_pid: int | None = None
        self._probing: asyncio.Task[None] | None = None
        self._retired: set[asyncio.Task[None]] = set()
        self.api = build_api(self)
        self.api.include_router(
            build_admin_router(self.admin, lambda: self.engine.inventory.settings)
        )

    def start_probing(self) -> None:
        """Background mode: run the scheduler; on-demand mode: probe every check once."""
        engine = self.engine
        self._probing = asyncio.create_task(
            scheduler.for_engine(engine).run() if engine.background else engine.warm_up()
        )

    async def stop_probing(self) -> None:
        if self._probing is not None:
            self._probing.cancel()
            await asyncio.gather(self._probing, return_exceptions=True)
            self._probing = None

    def reconfigure(self, inventory: Inventory) -> dict[str, int]:
        """Serve a new, valid inventory, keeping what is known of unchanged checks.

        Synchronous, so that no request sees half of it: the old probing task is
        cancelled (its in-flight probes are not recorded), the engine and the
        prebuilt answers switch, and probing restarts; unchanged checks keep
        their schedule instead of being probed again at once.
        """
        retiring = self._probing
        if retiring is not None:
            retiring.cancel()
            self._retired.add(retiring)
            retiring.add_done_callback(self._retired.discard)
        counts = self.engine.reconfigure(inventory)
        self.answers.reset()
        self.start_probing()
        return counts

    async def lb_state(self, name: str) -> tuple[NodeVerdict, AdminEntry, int | None] | None:
        """Verdict, admin state and agent weight of a node, for the agent-check."""
        if name not in self.engine.checks:
            return None
        weight = self.engine.inventory.nodes[name].agent_weight
        return await self.engine.node(name), self.admin.get(name), weight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"].startswith(HEALTH_PREFIX)
            and not scope["path"].startswith(ROLE_PREFIX)  # pools; a node "role" still works
            and scope["method"] in MONITOR_METHODS
            and not _wants_json(scope)
        ):
            name = scope["path"][len(HEALTH_PREFIX) :]
            prebuilt = self.answers.answers.get(name)
            if prebuilt is not None and prebuilt.expires > self.engine.clock():
                self.served.prebuilt += 1
                await send(prebuilt.start)
                await send(prebuilt.body)
                return
            if name in self.engine.checks:
                # Expired or not built yet: stale (background) or probe (on-demand).
                self.served.computed += 1
                answer = monitor_answer(await self.engine.node(name), self.admin.get(name))
                start, body_message = answer_messages(answer)
            else:
                self.served.unknown += 1
                start, body_message = text_messages(404, unknown_node_text(name))
            await send(start)
            await send(body_message)
            return
        await self.api(scope, receive, send)


def build_api(service: LBHealth) -> FastAPI:
    """The FastAPI app: JSON views, Kubernetes-style probes and the OpenAPI docs."""

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        settings = service.engine.inventory.settings
        service.start_probing()
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
            await service.engine.aclose()

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
                    {"error": "unknown node", "node": clean_reason(node, 80)}, 404, NO_STORE
                )
            return PlainTextResponse(body, 404, NO_STORE)
        verdict, admin = await service.engine.node(node), service.admin.get(node)
        answer = monitor_answer(verdict, admin)
        headers = {**NO_STORE, STATE_HEADER: answer.served.value}
        if as_json:
            history = [c.to_json() for c in service.engine.history.of(node)]
            data = {**node_json(verdict, admin), "history": history}
            return JSONResponse(data, answer.code, headers)
        return PlainTextResponse(answer.body, answer.code, headers)

    add_monitor_route(
        api.router,
        "/health/{node}",
        health,
        "health",
        {200: "UP", 503: "DOWN or MAINT: <reason>", 404: "DRAIN: <reason>, or no such node"},
    )

    api.include_router(build_router(lambda: service.engine, service.admin.get))

    @api.get("/nodes")
    async def nodes() -> JSONResponse:
        """Every node with its current verdict."""
        verdicts = await service.engine.all_nodes()
        views = [node_json(v, service.admin.get(v.node)) for v in verdicts]
        return JSONResponse({"nodes": views}, headers=NO_STORE)

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
        return PlainTextResponse("\n".join(lines) + "\n", 200 if ok else 503, NO_STORE)

    api.include_router(build_reload_router(service))
    api.add_middleware(RequestIdMiddleware)
    return api


def create_app(inventory: Inventory, config_path: str | None = None) -> LBHealth:
    """The ASGI app for an inventory; ``config_path`` is where reloads read it again."""
    return LBHealth(Engine(inventory), config_path)
