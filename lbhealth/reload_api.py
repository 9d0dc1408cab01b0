"""``POST /admin/reload``: reload the inventory file, token required.

No ``from __future__ import annotations``: FastAPI must resolve the locally
defined dependency type at route creation.
"""

import logging
import os
import signal
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from lbhealth import request_id
from lbhealth.auth import admin_operator
from lbhealth.config import ConfigError, load_inventory
from lbhealth.reload import ReloadResult, reload_inventory

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
            202: {"description": "several workers: the file is valid, every worker reloads it"},
            401: {"description": "missing or wrong bearer token"},
            403: {"description": "admin API disabled (no admin_token set)"},
            422: {"description": "the config file is invalid; the previous one keeps serving"},
        },
    )
    async def reload(who: Annotated[str, Depends(operator)]) -> JSONResponse:
        """Reload the inventory from its file; unchanged checks keep their verdicts."""
        if service.supervisor_pid is not None and service.config_path is not None:
            return forward_reload(service.supervisor_pid, service.config_path, who)
        result = reload_inventory(service, f"POST /admin/reload by {who}")
        return JSONResponse(
            {**result.to_json(), "request_id": request_id.current()},
            200 if result.ok else 422,
        )

    return router


def forward_reload(supervisor_pid: int, path: str, who: str) -> JSONResponse:
    """Several workers: validate the file here, then have the supervisor reload every worker.

    The supervisor forwards ``SIGHUP`` to each worker (:class:`lbhealth.workers.Supervisor`),
    which reloads in place and logs its own result; the answer cannot wait for them all.
    """
    try:
        load_inventory(path)
    except ConfigError as exc:
        result = ReloadResult(path, tuple(exc.errors))
        log.error(
            "config reload rejected, still serving the previous config: %s",
            "; ".join(result.errors),
            extra={"action": "reload", "trigger": f"POST /admin/reload by {who}"},
        )
        return JSONResponse({**result.to_json(), "request_id": request_id.current()}, 422)
    os.kill(supervisor_pid, signal.SIGHUP)
    log.info(
        "config valid; every worker reloads it",
        extra={"action": "reload", "trigger": f"POST /admin/reload by {who}", "source": path},
    )
    body = {"status": "reloading", "source": path, "request_id": request_id.current()}
    return JSONResponse(body, 202)
