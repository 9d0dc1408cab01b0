"""Bearer-token guard for admin actions.

No token configured means the admin API is disabled (403, saying so), never
open. The token is compared in constant time and never echoed: a wrong or
missing token gets a bare 401.
"""

from __future__ import annotations

import hmac
import logging

from fastapi import HTTPException, Request

log = logging.getLogger("lbhealth.auth")


def check_admin(request: Request, token: str | None) -> str:
    """Raise unless the request carries the admin token; return who asked (for logs).

    ``token`` is the configured secret (``settings.admin_token``), or None.
    """
    if not token:
        raise HTTPException(
            403, "admin API disabled: set LBHEALTH_ADMIN_TOKEN (or settings.admin_token)"
        )
    header = request.headers.get("authorization", "")
    scheme, _, supplied = header.partition(" ")
    ok = scheme.lower() == "bearer" and hmac.compare_digest(
        supplied.strip().encode(), token.encode()
    )
    if not ok:
        raise HTTPException(401, "unauthorized", headers={"WWW-Authenticate": "Bearer"})
    client = request.client.host if request.client else "unknown"
    return request.headers.get("x-lbhealth-user") or client
