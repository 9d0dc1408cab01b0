"""The admin HTTP API: read and change nodes' drain/maint state, token required.

No ``from __future__ import annotations`` here: FastAPI must resolve the
locally defined ``Operator`` dependency type at route creation.
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from lbhealth.admin import MAX_ADMIN_REASON, AdminStore
from lbhealth.auth import admin_operator
from lbhealth.config import AdminState, Settings
from lbhealth.verdict import clean_reason


class StateChange(BaseModel):
    """Body of ``PUT /admin/nodes/{node}/state``."""

    model_config = ConfigDict(extra="forbid")

    state: AdminState
    reason: str = Field("", max_length=MAX_ADMIN_REASON)


def build_admin_router(store: AdminStore, settings: Callable[[], Settings]) -> APIRouter:
    """Routes under ``/admin``; every one needs ``Authorization: Bearer <admin_token>``."""
    Operator = Annotated[str, Depends(admin_operator(settings))]

    def known(node: str) -> str:
        if node not in store:
            shown = clean_reason(repr(node), 80)
            raise HTTPException(404, f"no node named {shown} in the inventory")
        return node

    router = APIRouter(prefix="/admin", tags=["admin"])

    @router.get("/nodes")
    async def list_nodes(_who: Operator) -> dict[str, object]:
        """Every node's admin state and where it comes from (api, inventory, default)."""
        return {"nodes": {node: e.to_json() for node, e in store.all().items()}}

    async def set_state(node: str, change: StateChange, who: Operator) -> dict[str, object]:
        """Drain, put in maintenance or enable a node; kept across restarts."""
        entry = store.set(known(node), change.state, change.reason, who)
        return {"node": node, **entry.to_json()}

    router.add_api_route("/nodes/{node}/state", set_state, methods=["PUT"])
    router.add_api_route(
        "/nodes/{node}/state", set_state, methods=["POST"], operation_id="set_state_post"
    )

    @router.delete("/nodes/{node}/state")
    async def reset_state(node: str, who: Operator) -> dict[str, object]:
        """Drop the API's change: the inventory's ``admin_state`` applies again."""
        entry = store.reset(known(node), who)
        return {"node": node, **entry.to_json()}

    return router
