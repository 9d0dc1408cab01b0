"""HTTP conventions every answer follows: no caching, the monitor methods, content negotiation.

One place for each, so the fast path, the JSON views and the cluster views
cannot answer the same request differently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from lbhealth.serve.schemas import Responses, without_json

#: Health answers must never be served from a cache between lbhealth and the monitor.
NO_STORE = {"cache-control": "no-store"}

#: What load-balancer monitors send: GET (F5, curl), HEAD, and OPTIONS (HAProxy's default).
MONITOR_METHODS = ("GET", "HEAD", "OPTIONS")

Format = Literal["text", "json", "html"]

#: ``?format=`` on HEAD and OPTIONS: those always answer plain text, so only ``text`` is
#: valid; anything else is a 422 naming the field, as on GET.
TextOnly = Annotated[
    Literal["text"] | None,
    Query(description="HEAD and OPTIONS always answer plain text; GET takes json too"),
]

#: Where monitors ask about one node (``/health/{node}``) and about a role's pool.
HEALTH_PREFIX = "/health/"
ROLE_PREFIX = "/health/role/"


def negotiate(explicit: str | None, accept: str, html: bool = False) -> Format:
    """``?format=`` wins; otherwise Accept (JSON, then HTML where offered); otherwise text.

    Text is the default because monitors and curl send no Accept (or ``*/*``)
    and match the first word of a plain body.
    """
    if explicit in ("text", "json", "html"):
        return explicit  # type: ignore[return-value]
    if "json" in accept:
        return "json"
    return "html" if html and "text/html" in accept else "text"


def add_monitor_route(
    router: APIRouter,
    path: str,
    endpoints: tuple[Callable[..., Any], Callable[..., Any]],
    operation: str,
    responses: Responses,
) -> None:
    """Register a monitor route: ``GET`` with content negotiation, ``HEAD``/``OPTIONS`` text.

    ``endpoints`` is (the negotiating endpoint, the plain-text one, which takes a
    :data:`TextOnly` ``format``). Monitors send HEAD and OPTIONS and read the
    status and the first word, so those methods answer plain text whatever the
    ``Accept`` header, and are documented without JSON answers (HEAD: without a
    body). One operation per method, as OpenAPI
    wants unique operation ids: ``get_<operation>``, ``head_<operation>``,
    ``options_<operation>``.
    """
    negotiating, text = endpoints
    for method in MONITOR_METHODS:
        router.add_api_route(
            path,
            negotiating if method == "GET" else text,
            methods=[method],
            operation_id=f"{method.lower()}_{operation}",
            response_class=Response,  # no default body: ``responses`` documents each one
            responses=responses if method == "GET" else without_json(responses, method != "HEAD"),
        )
