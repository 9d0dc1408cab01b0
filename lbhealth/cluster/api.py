"""Cluster-level HTTP views: role pools, the cluster view, the status page, history.

Per-node answers are for load balancers in front of one server; these are for
pool- or DNS-level decisions (``/health/role/{role}``), for people
(``/cluster``, ``/``) and for the question "when did app2 go down, and why"
(``/history/{node}``). All are built from the engine's cached verdicts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from lbhealth.cluster.model import UP, ClusterView, cluster_view, pool
from lbhealth.cluster.page import cluster_page, status_page
from lbhealth.cluster.schemas import ClusterStatus, NodeHistory, Pool, UnknownRole
from lbhealth.cluster.table import cluster_table
from lbhealth.config import ROLES
from lbhealth.core.engine import Engine
from lbhealth.serve.answer import http_code, monitor_answer
from lbhealth.serve.http import NO_STORE, ROLE_PREFIX, TextOnly, add_monitor_route, negotiate
from lbhealth.serve.schemas import Responses, UnknownNode, answer
from lbhealth.store.entries import AdminEntry
from lbhealth.text.clean import MAX_NAME, clean_reason, quoted
from lbhealth.verdict import NodeVerdict

Format = Annotated[Literal["text", "json", "html"] | None, Query()]

#: ``/health/role/{role}``: text first (what monitors get), JSON with ``?format=json``.
ROLE: Responses = {
    200: answer(
        "at least min_up nodes of the role are UP (DEGRADED: some are not)",
        "UP 2/2 web nodes up (min 1)\n",
        Pool,
    ),
    404: answer("no node has that role", "UNKNOWN: no node has role 'x'; ...\n", UnknownRole),
    503: answer(
        "fewer than min_up nodes of the role are UP",
        "DOWN: 0/1 services nodes up (min 1); svc1 DOWN: ...\n",
        Pool,
    ),
}
#: ``/cluster``: a table by default, JSON or HTML when asked for.
CLUSTER: Responses = {
    200: answer("the cluster is UP or DEGRADED", "CLUSTER UP: ...\n", ClusterStatus, True),
    503: answer("the cluster is DOWN", "CLUSTER DOWN: blocked at ...\n", ClusterStatus, True),
}


def min_up(current: Engine) -> dict[str, int]:
    """The per-role minimum of UP nodes (a role not listed needs 1)."""
    return dict(current.inventory.settings.min_up.items())


def build_router(engine: Callable[[], Engine], admin: Callable[[str], AdminEntry]) -> APIRouter:
    """The routes, reading the current engine on each request (it may be replaced).

    ``admin`` gives a node's admin state, so that pools and the cluster view
    show drained and maintained nodes as monitors see them (not UP).
    """
    router = APIRouter()

    def served(verdicts: list[NodeVerdict]) -> dict[str, tuple[str, str]]:
        """Nodes whose monitor answer differs from their verdict (DRAIN, MAINT), and why."""
        answers = {v.node: monitor_answer(v, admin(v.node)) for v in verdicts}
        return {
            v.node: (answers[v.node].served.name, answers[v.node].reason)
            for v in verdicts
            if answers[v.node].served.name != v.status.value
        }

    async def view() -> tuple[list[NodeVerdict], ClusterView]:
        current = engine()
        verdicts = await current.all_nodes()
        return verdicts, cluster_view(verdicts, min_up(current), served(verdicts))

    async def role_health(role: str, request: Request, format: Format = None) -> Response:  # noqa: A002
        """200 when at least ``min_up`` nodes of the role are UP, 503 otherwise."""
        as_json = negotiate(format, request.headers.get("accept", "")) == "json"
        current = engine()
        if role not in ROLES or all(n.role != role for n in current.inventory.nodes.values()):
            shown = quoted(role)
            text = f"UNKNOWN: no node has role {shown}; roles are {', '.join(ROLES)}\n"
            if as_json:
                return JSONResponse({"error": text.strip()}, 404, NO_STORE)
            return PlainTextResponse(text, 404, NO_STORE)
        verdicts = await current.all_nodes()
        result = pool(role, verdicts, min_up(current), served(verdicts))
        code = http_code(result.status)
        if as_json:
            return JSONResponse(result.to_json(), code, NO_STORE)
        if result.status == UP:
            return PlainTextResponse(f"UP {result.summary}\n", code, NO_STORE)
        # The first word is the JSON's status: DEGRADED (still 200) or DOWN (503).
        first = "DOWN:" if code != 200 else result.status
        down = "; ".join(f"{n.node} {n.status}: {n.reason}" for n in result.nodes if n.status != UP)
        text = clean_reason(f"{first} {result.summary}; {down}")
        return PlainTextResponse(text + "\n", code, NO_STORE)

    async def role_text(role: str, request: Request, format: TextOnly = None) -> Response:  # noqa: A002
        """``UP n/m ...`` or ``DEGRADED n/m ...`` (200), ``DOWN: n/m ...`` (503), or 404."""
        return await role_health(role, request, "text")

    add_monitor_route(router, ROLE_PREFIX + "{role}", (role_health, role_text), "role_health", ROLE)

    @router.get("/cluster", operation_id="get_cluster", response_class=Response, responses=CLUSTER)
    async def cluster(request: Request, format: Format = None) -> Response:  # noqa: A002
        """Roles in start order, the blocking tier and the user impact (503 when DOWN)."""
        _, result = await view()
        data = result.to_json()
        code = http_code(result.status)
        chosen = negotiate(format, request.headers.get("accept", ""), html=True)
        if chosen == "json":
            return JSONResponse(data, code, NO_STORE)
        if chosen == "html":
            return HTMLResponse(cluster_page(data, time.time()), code, NO_STORE)
        return PlainTextResponse(cluster_table(data), code, NO_STORE)

    @router.get(
        "/",
        operation_id="get_status_page",
        response_class=Response,
        responses={200: answer("the status page", html=True)},
    )
    async def status() -> HTMLResponse:
        """The status page: cluster view, every node, its checks and its changes."""
        verdicts, result = await view()
        history = {v.node: engine().history.of(v.node) for v in verdicts}
        nodes = [v.to_json() for v in verdicts]
        page = status_page(result.to_json(), nodes, served(verdicts), history, time.time())
        return HTMLResponse(page, headers=NO_STORE)

    @router.get(
        "/history/{node}",
        operation_id="get_node_history",
        response_class=Response,
        responses={
            200: answer("the node's verdict changes, oldest first", model=NodeHistory),
            404: answer("no such node", model=UnknownNode),
        },
    )
    async def history(node: str) -> JSONResponse:
        """The node's last verdict changes, oldest first."""
        current = engine()
        if node not in current.checks:
            return JSONResponse(
                {"error": "unknown node", "node": clean_reason(node, MAX_NAME)}, 404, NO_STORE
            )
        changes = [c.to_json() for c in current.history.of(node)]
        return JSONResponse({"node": node, "history": changes}, headers=NO_STORE)

    return router
