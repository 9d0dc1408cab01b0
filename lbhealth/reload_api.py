"""``POST /admin/reload``: reload the inventory file, token required.

No ``from __future__ import annotations``: FastAPI must resolve the locally
defined dependency type at route creation.
"""

import logging
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from lbhealth import request_id
from lbhealth.auth import admin_operator
from lbhealth.reload import reload_inventory

if TYPE_CHECKING:
    from lbhealth.app import LBHealth

log = logging.getLogger("lbhealth.admin")


def build_reload_router(service: "LBHealth") -> APIRouter:
    """The reload route, guarded by the current ``settings.admin_token``."""

    operator = admin_operator(lambda: service.engine.inventory.settings)

    router = APIRouter(prefix="/admin", tags=["admin"])

    @router.post(
        "/reload",
        responses={
            401: {"description": "missing or wrong bearer token"},
            403: {"description": "admin API disabled (no admin_token set)"},
            422: {"description": "the config file is invalid; the previous one keeps serving"},
        },
    )
    async def reload(who: Annotated[str, Depends(operator)]) -> JSONResponse:
        """Reload the inventory from its file; unchanged checks keep their verdicts."""
        result = reload_inventory(service, f"POST /admin/reload by {who}")
        return JSONResponse(
            {**result.to_json(), "request_id": request_id.current()},
            200 if result.ok else 422,
        )

    return router
