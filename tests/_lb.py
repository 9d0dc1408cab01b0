"""Helpers for the load-balancer tests: inventories and admin calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from lbhealth.demo.simserver import SimServer

TOKEN = "test-admin-token-4f1c"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def jboss_node(server: SimServer, **extra: Any) -> dict[str, Any]:
    """An application node checked by its JBoss welcome page at ``/``."""
    return {"role": "application", "checks": [{"kind": "jboss", "url": server.url("/")}], **extra}


def inventory(
    nodes: dict[str, Any], state_file: Path | None = None, **settings: Any
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "cache_ttl": "200ms",
        "interval": "200ms",
        "timeout": 2,
        "admin_token": TOKEN,
    }
    if state_file is not None:
        base["state_file"] = str(state_file)
    return {"settings": {**base, **settings}, "nodes": nodes}


def set_state(url: str, node: str, state: str, reason: str = "") -> httpx.Response:
    return httpx.put(
        f"{url}/admin/nodes/{node}/state", json={"state": state, "reason": reason}, headers=AUTH
    )
