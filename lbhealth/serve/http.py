"""HTTP conventions every answer follows: no caching, the monitor methods, content negotiation.

One place for each, so the fast path, the JSON views and the cluster views
cannot answer the same request differently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from fastapi import APIRouter

#: Health answers must never be served from a cache between lbhealth and the monitor.
NO_STORE = {"cache-control": "no-store"}

#: What load-balancer monitors send: GET (F5, curl), HEAD, and OPTIONS (HAProxy's default).
MONITOR_METHODS = ("GET", "HEAD", "OPTIONS")

Format = Literal["text", "json", "html"]

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
    endpoint: Callable[..., Any],
    name: str,
    descriptions: Mapping[int, str],
) -> None:
    """Register ``endpoint`` for every monitor method, one OpenAPI operation each.

    One operation per method, because OpenAPI wants unique operation ids.
    """
    responses: dict[int | str, dict[str, Any]] = {
        code: {"description": text, "content": {"text/plain": {}}}
        for code, text in descriptions.items()
    }
    for method in MONITOR_METHODS:
        router.add_api_route(
            path,
            endpoint,
            methods=[method],
            operation_id=f"{name}_{method.lower()}",
            responses=responses,
        )
