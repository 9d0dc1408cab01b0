"""The admin HTTP API, token required: nodes' drain/maint state, and config reload.

No ``from __future__ import annotations`` here: FastAPI must resolve the
locally defined ``Operator`` dependency type at route creation.
"""

import asyncio
import logging
import os
import signal
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Security
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from lbhealth.admin import request_id
from lbhealth.admin.reload import (
    Reloadable,
    ReloadResult,
    log_rejected,
    read_config,
    reload_inventory,
)
from lbhealth.admin.schemas import (
    BEARER,
    AdminStates,
    NodeAdmin,
    Rejected,
    Reloaded,
    Reloading,
    refusals,
)
from lbhealth.admin.token import admin_operator
from lbhealth.config import MAX_ADMIN_REASON, AdminState, ConfigError
from lbhealth.store.admin import AdminStore
from lbhealth.text.clean import quoted

log = logging.getLogger("lbhealth.admin")


class StateChange(BaseModel):
    """Body of ``PUT /admin/nodes/{node}/state``."""

    model_config = ConfigDict(extra="forbid")

    state: AdminState
    reason: str = Field("", max_length=MAX_ADMIN_REASON)


def build_admin_router(store: AdminStore, service: Reloadable) -> APIRouter:
    """Routes under ``/admin``; every one needs ``Authorization: Bearer <admin_token>``.

    The token is read from the service's *current* settings on each request,
    so a reload that changes it applies at once to every admin route.
    """
    Operator = Annotated[str, Depends(admin_operator(lambda: service.settings))]

    def known(node: str) -> str:
        if node not in store:
            shown = quoted(node)
            raise HTTPException(404, f"no node named {shown} in the inventory")
        return node

    router = APIRouter(
        prefix="/admin", tags=["admin"], dependencies=[Security(BEARER)], responses=refusals()
    )

    @router.get("/nodes", operation_id="list_admin_states", response_model=AdminStates)
    async def list_nodes(_who: Operator) -> dict[str, object]:
        """Every node's admin state and where it comes from (api, inventory, default)."""
        return {"nodes": {node: e.to_json() for node, e in store.all().items()}}

    async def set_state(node: str, change: StateChange, who: Operator) -> dict[str, object]:
        """Drain, put in maintenance or enable a node; kept across restarts."""
        entry = await store.set(known(node), change.state, change.reason, who)
        return {"node": node, **entry.to_json()}

    for method, operation in (("PUT", "set_node_state"), ("POST", "set_node_state_post")):
        router.add_api_route(
            "/nodes/{node}/state",
            set_state,
            methods=[method],
            operation_id=operation,
            response_model=NodeAdmin,
            responses=refusals(node=True, body=True),
        )

    @router.delete(
        "/nodes/{node}/state",
        operation_id="reset_node_state",
        response_model=NodeAdmin,
        responses=refusals(node=True),
    )
    async def reset_state(node: str, who: Operator) -> dict[str, object]:
        """Drop the API's change: the inventory's ``admin_state`` applies again."""
        entry = await store.reset(known(node), who)
        return {"node": node, **entry.to_json()}

    @router.post(
        "/reload",
        operation_id="reload_inventory",
        response_class=JSONResponse,
        responses={
            200: {"description": "reloaded", "model": Reloaded},
            202: {"description": "several workers: the file is valid", "model": Reloading},
            422: {"description": "the file is invalid: nothing changed", "model": Rejected},
        },
    )
    async def reload(who: Operator) -> JSONResponse:
        """Reload the inventory from its file; unchanged checks keep their verdicts."""
        trigger = f"POST /admin/reload by {who}"
        if service.supervisor_pid is not None and service.config_path is not None:
            return await forward_reload(service.supervisor_pid, service.config_path, trigger)
        result = await reload_inventory(service, trigger)
        return JSONResponse(
            {**result.to_json(), "request_id": request_id.current()},
            200 if result.ok else 422,
        )

    return router


async def forward_reload(supervisor_pid: int, path: str, trigger: str) -> JSONResponse:
    """Several workers: validate the file here, then have the supervisor reload every worker.

    The supervisor forwards ``SIGHUP`` to each worker (:class:`lbhealth.app.workers.Supervisor`),
    which reloads in place and logs its own result; the answer cannot wait for them all.
    """
    try:
        await asyncio.to_thread(read_config, path)
    except ConfigError as exc:
        result = ReloadResult(path, tuple(exc.errors))
        log_rejected(result, {"action": "reload", "trigger": trigger})
        return JSONResponse({**result.to_json(), "request_id": request_id.current()}, 422)
    os.kill(supervisor_pid, signal.SIGHUP)
    log.info(
        "config valid; every worker reloads it",
        extra={"action": "reload", "trigger": trigger, "source": path},
    )
    body = {"status": "reloading", "source": path, "request_id": request_id.current()}
    return JSONResponse(body, 202)
