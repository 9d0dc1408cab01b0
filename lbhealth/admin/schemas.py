"""The admin API's answers, as OpenAPI models, and its bearer security scheme."""

from __future__ import annotations

from typing import Any, Literal

from fastapi.security import HTTPBearer

from lbhealth.serve.schemas import AdminView, Model

#: Documents ``Authorization: Bearer <admin_token>`` on every admin route (Swagger UI's
#: "Authorize"). It checks nothing: :func:`lbhealth.admin.token.check_admin` does, with the
#: token current at each request, and answers 401/403 itself.
BEARER = HTTPBearer(
    scheme_name="adminToken",
    description="the admin_token setting (LBHEALTH_ADMIN_TOKEN)",
    auto_error=False,
)


class AdminStates(Model):
    """``GET /admin/nodes``: every node's admin state."""

    nodes: dict[str, AdminView]


class NodeAdmin(AdminView):
    """A node's admin state after a change."""

    node: str


class Reloaded(Model):
    """The inventory was reloaded: how many checks kept their verdicts, and what needs a restart."""

    status: Literal["reloaded"]
    source: str
    kept: int
    new: int
    removed: int
    restart_needed: list[str]
    request_id: str | None


class Rejected(Model):
    """The inventory file is invalid (or cannot be read); the previous one keeps serving."""

    status: Literal["rejected"]
    #: The file reloaded from; empty when lbhealth was started without one.
    source: str
    errors: list[str]
    request_id: str | None


class Reloading(Model):
    """Several workers: the file is valid, and every worker reloads it."""

    status: Literal["reloading"]
    source: str
    request_id: str | None


class Refused(Model):
    """A refusal: body not JSON (400), bad token (401), admin disabled (403), no such node (404)."""

    detail: str


def refusals(node: bool = False, body: bool = False) -> dict[int | str, dict[str, Any]]:
    """The refusals every admin route documents, 404 for those naming a node, 400 for a body."""
    codes = {
        **({400: "the body is not JSON"} if body else {}),
        401: "missing or wrong bearer token",
        403: "admin API disabled (no admin_token set)",
        **({404: "no node of that name in the inventory"} if node else {}),
    }
    return {code: {"description": text, "model": Refused} for code, text in codes.items()}
