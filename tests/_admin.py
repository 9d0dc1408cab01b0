"""Admin calls for tests: the one token the suite uses and the drain/maint request."""

from __future__ import annotations

import httpx

from tests._inventory import QUICK

#: Distinctive, so that any leak is found by a substring search of logs and answers.
TOKEN = "adm1n-T0ken-7f3a9c"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
#: Settings for admin tests: the admin API on, verdict changes served quickly.
ADMIN: dict[str, object] = {"admin_token": TOKEN, **QUICK}


def set_state(url: str, node: str, state: str, reason: str = "") -> httpx.Response:
    """``PUT /admin/nodes/{node}/state`` with the suite's token."""
    return httpx.put(
        f"{url}/admin/nodes/{node}/state", json={"state": state, "reason": reason}, headers=AUTH
    )
