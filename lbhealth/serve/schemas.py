"""The JSON a node view answers, as OpenAPI models, and how routes document every answer.

The bodies themselves are built by the ``to_json`` methods (and
:func:`lbhealth.serve.answer.node_json`); these models only describe them, so a
monitor's answer costs no validation. ``extra="forbid"`` makes the schema
complete: the schemathesis run in ``tests/test_hostile_clients.py`` checks every
answer of a live server against it, so a field added to a body without its
model fails there.

A client generated from the schema (openapi-python-client) parses an answer by
the *first* media type it knows. The routes that answer plain text unless asked
for JSON (``/health/...``, ``/cluster``) therefore list ``text/plain`` first:
that is what a request without ``Accept`` or ``?format=`` gets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from lbhealth.config import AdminState
from lbhealth.serve.answer import STATE_HEADER

#: A node's verdict, and the state monitors are served (``X-LBHealth-State``).
Verdict = Literal["UP", "DOWN"]
ServedState = Literal["up", "drain", "down", "maint"]


class Model(BaseModel):
    """A documented JSON body: every field listed, none other (``additionalProperties: false``)."""

    model_config = ConfigDict(extra="forbid")


class CheckView(Model):
    """One check's latest result: the evidence behind a node's verdict."""

    name: str
    kind: str
    target: str
    status: Verdict
    reason: str
    latency_ms: float
    checked_at: float
    #: What the interpreter parsed (processes, links, the ``Server`` header), secrets masked.
    details: dict[str, Any] | None = None


class AdminView(Model):
    """A node's admin state, where it comes from, who set it and when."""

    state: AdminState
    reason: str
    source: Literal["api", "inventory", "default"]
    by: str | None
    at: float | None


class NodeView(Model):
    """A node's verdict, its checks, its admin state and what monitors are served."""

    node: str
    role: str | None
    status: Verdict
    reason: str
    checks: list[CheckView]
    admin: AdminView
    served: ServedState


class Change(Model):
    """A change of a node's verdict."""

    at: float
    status: Verdict
    reason: str


class NodeDetail(NodeView):
    """``/health/{node}?format=json``: the node view and its last verdict changes."""

    history: list[Change]


class NodeList(Model):
    """``/nodes``: every node of the inventory, in inventory order."""

    nodes: list[NodeView]


class UnknownNode(Model):
    """The JSON answer for a node name that is not in the inventory."""

    error: Literal["unknown node"]
    node: str


#: Documented answers by status, as FastAPI's ``responses=`` takes them.
Responses = dict[int | str, dict[str, Any]]

TEXT = "text/plain"
JSON = "application/json"
HTML = "text/html"

#: The state token every ``/health/{node}`` answer carries (F5 receive strings match it).
STATE_HEADERS = {
    STATE_HEADER: {
        "description": "the state served: up, drain, down or maint",
        "schema": {"type": "string", "enum": ["up", "drain", "down", "maint"]},
    }
}


def answer(
    description: str,
    text: str | None = None,
    model: Any = None,
    html: bool = False,
    headers: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One documented status: plain text (with an example) first, then JSON, then HTML.

    ``model`` is a model class (or a union of them) for the JSON body; FastAPI
    puts its schema under ``application/json`` and the model in the components.
    """
    content: dict[str, Any] = {}
    if text is not None:
        content[TEXT] = {"schema": {"type": "string"}, "example": text}
    if model is not None:
        content[JSON] = {}
    if html:
        content[HTML] = {"schema": {"type": "string"}}
    documented: dict[str, Any] = {"description": description, "content": content}
    if model is not None:
        documented["model"] = model
    if headers:
        documented["headers"] = dict(headers)
    return documented


def without_json(responses: Responses, body: bool) -> Responses:
    """The same statuses for a method that answers text only (OPTIONS), or no body (HEAD)."""
    kept: Responses = {}
    for code, documented in responses.items():
        entry = {k: v for k, v in documented.items() if k not in ("model", "content")}
        text = documented.get("content", {}).get(TEXT)
        if body and text is not None:
            entry["content"] = {TEXT: text}
        kept[code] = entry
    return kept
