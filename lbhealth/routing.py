"""Small shared pieces of the HTTP routes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter

#: Health answers must never be served from a cache between lbhealth and the monitor.
NO_STORE = {"cache-control": "no-store"}

#: What load-balancer monitors send: GET (F5, curl), HEAD, and OPTIONS (HAProxy's default).
MONITOR_METHODS = ("GET", "HEAD", "OPTIONS")


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
