"""Bearer-token guard for admin actions.

No token configured means the admin API is disabled (403, saying so), never
open. The token is compared in constant time and never echoed: a wrong or
missing token gets a bare 401.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable

from fastapi import HTTPException, Request

from lbhealth.config import Settings
from lbhealth.store.entries import MAX_OPERATOR
from lbhealth.text.clean import clean_reason

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
    # The name is logged and persisted: one printable line, as any shown text.
    return clean_reason(request.headers.get("x-lbhealth-user", ""), MAX_OPERATOR) or client


def admin_operator(settings: Callable[[], Settings]) -> Callable[[Request], str]:
    """A FastAPI dependency guarding admin routes with the *current* token.

    ``settings`` is read on every request, so a token changed by a config
    reload applies at once to every admin route. Refusals are logged (status
    and path only, never what was supplied).
    """

    def operator(request: Request) -> str:
        token = settings().admin_token
        try:
            return check_admin(request, token.get_secret_value() if token else None)
        except HTTPException as exc:
            log.warning(
                "admin request refused: HTTP %s",
                exc.status_code,
                extra={"path": request.url.path, "status": exc.status_code},
            )
            raise

    return operator
