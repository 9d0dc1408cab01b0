"""The HAProxy agent-check listener, spoken to over a raw TCP socket."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lbhealth.demo.cluster import IIS_APPPOOL_STOPPED, JBOSS_WELCOME
from lbhealth.demo.simserver import SimServer
from tests._admin import ADMIN, set_state
from tests._inventory import inventory, jboss_node
from tests._servers import Running, free_port
from tests._wire import agent_ask

Sim = Callable[..., SimServer]
Serve = Callable[[dict[str, Any]], Running]


@pytest.mark.parametrize(
    ("page", "admin", "weight", "reply"),
    [
        (JBOSS_WELCOME, "enabled", None, b"up ready\n"),
        (JBOSS_WELCOME, "enabled", 75, b"up ready 75%\n"),
        (JBOSS_WELCOME, "drain", 75, b"up drain 75% #patching\n"),
        (JBOSS_WELCOME, "maint", None, b"up maint #patching\n"),
        (IIS_APPPOOL_STOPPED, "enabled", 75, b"down ready #jboss: HTTP 503"),
        (IIS_APPPOOL_STOPPED, "drain", None, b"down drain #jboss: HTTP 503"),
    ],
)
def test_agent_replies_from_verdict_and_admin_state(
    page: Any, admin: str, weight: int | None, reply: bytes, sim: Sim, lbhealth_server: Serve
) -> None:
    port = free_port()
    app1 = jboss_node(sim({"/": page}), agent_weight=weight)
    lb = lbhealth_server(inventory({"app1": app1}, **ADMIN, agent_port=port))
    set_state(lb.url, "app1", admin, "patching")
    answer = agent_ask(port, b"app1\n")
    assert answer.startswith(reply) and answer.endswith(b"\n") and answer.count(b"\n") == 1


@pytest.mark.parametrize("send", [b"nope\n", b"../etc\n", b"\n", b"app1 app2\n"])
def test_agent_unknown_node_is_down_with_hint(
    send: bytes, sim: Sim, lbhealth_server: Serve
) -> None:
    port = free_port()
    lbhealth_server(inventory({"app1": jboss_node(sim({"/": JBOSS_WELCOME}))}, agent_port=port))
    answer = agent_ask(port, send)
    assert answer.startswith(b"down #no node named") and b'agent-send "<node>\\n"' in answer


def test_agent_drops_an_oversized_request(sim: Sim, lbhealth_server: Serve) -> None:
    port = free_port()
    lbhealth_server(inventory({"app1": jboss_node(sim({"/": JBOSS_WELCOME}))}, agent_port=port))
    assert agent_ask(port, b"a" * 100_000) == b""
    assert agent_ask(port, b"app1\n").startswith(b"up ready")  # still serving
