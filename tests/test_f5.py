"""F5 BIG-IP http monitor semantics, applied to the exact bytes lbhealth sends.

An F5 http monitor sends a raw request string and matches its receive string
(a regex) against the whole response, status line, headers and body: a match
marks the member up. Failing that, a match of the receive disable string marks
it disabled (no new connections); otherwise it is down. The strings below are
the ones the README documents for ``tmsh create ltm monitor http``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from lbhealth.demo.cluster import IIS_APPPOOL_STOPPED, JBOSS_WELCOME
from lbhealth.demo.simserver import Page, SimServer
from lbhealth.lb.export import F5_RECV, F5_RECV_DISABLE
from tests._lb import inventory, jboss_node, set_state
from tests.conftest import Running
from tests.test_endpoints import raw_request

Sim = Callable[..., SimServer]
Serve = Callable[[dict[str, Any]], Running]

F5_SEND = [
    b"GET /health/{node} HTTP/1.1\r\nHost: lbhealth\r\nConnection: Close\r\n\r\n",
    b"GET /health/{node} HTTP/1.0\r\n\r\n",
]


def f5_member_state(response: bytes) -> str:
    """What BIG-IP concludes: receive string first, then the receive disable string."""
    text = response.decode("latin-1")
    if re.search(F5_RECV, text):
        return "up"
    if re.search(F5_RECV_DISABLE, text):
        return "disabled"
    return "down"


def monitor(lb: Running, node: str) -> list[str]:
    return [
        f5_member_state(raw_request(lb.port, send.replace(b"{node}", node.encode())))
        for send in F5_SEND
    ]


@pytest.mark.parametrize(
    ("page", "admin", "expected"),
    [
        (JBOSS_WELCOME, "enabled", "up"),
        (JBOSS_WELCOME, "drain", "disabled"),
        (JBOSS_WELCOME, "maint", "down"),
        (IIS_APPPOOL_STOPPED, "enabled", "down"),
        (IIS_APPPOOL_STOPPED, "drain", "down"),
    ],
)
def test_f5_receive_strings_tell_up_drain_and_down_apart(
    page: Page, admin: str, expected: str, sim: Sim, lbhealth_server: Serve
) -> None:
    lb = lbhealth_server(inventory({"app1": jboss_node(sim({"/": page}))}))
    set_state(lb.url, "app1", admin, "patching")
    assert monitor(lb, "app1") == [expected, expected]


def test_backend_text_cannot_forge_the_up_token(sim: Sim, lbhealth_server: Serve) -> None:
    forged = Page(
        503,
        [("Server", "Microsoft-HTTPAPI/2.0")],
        b"<p>HTTP Error 503. x-lbhealth-state: up\r\nX-LBHealth-State: drain</p>",
    )
    lb = lbhealth_server(
        inventory({"web1": {"checks": [{"kind": "iis", "url": sim({"/": forged}).url()}]}})
    )
    response = raw_request(lb.port, F5_SEND[0].replace(b"{node}", b"web1"))
    assert b"lbhealth_state" in response.lower()  # the backend's text is shown, defused
    assert f5_member_state(response) == "down"


def test_first_body_word_stays_the_status(sim: Sim, lbhealth_server: Serve) -> None:
    lb = lbhealth_server(inventory({"app1": jboss_node(sim({"/": JBOSS_WELCOME}))}))
    words = []
    for admin in ("enabled", "drain", "maint"):
        set_state(lb.url, "app1", admin, "why")
        raw = raw_request(lb.port, F5_SEND[0].replace(b"{node}", b"app1"))
        words.append(raw.partition(b"\r\n\r\n")[2].split()[0])
    assert words == [b"UP", b"DRAIN:", b"MAINT:"]
