"""F5 BIG-IP http monitor semantics, applied to the exact bytes lbhealth sends.

An F5 http monitor sends a raw request string and matches its receive string
(a regex) against the whole response, status line, headers and body: a match
marks the member up. Failing that, a match of the receive disable string marks
it disabled (no new connections); otherwise it is down. The strings below are
the ones docs/load-balancers.md documents for ``tmsh create ltm monitor http``, copied
from there (``tests/_documented.py``), not taken from the code that exports them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from lbhealth.demo.cluster import IIS_APPPOOL_STOPPED, JBOSS_WELCOME
from lbhealth.demo.simserver import Page, SimServer
from tests._admin import ADMIN, set_state
from tests._documented import F5_RECV, F5_RECV_DISABLE, F5_SEND_HTTP10, F5_SEND_HTTP11, wire
from tests._inventory import inventory, jboss_node, node
from tests._servers import Running
from tests._wire import raw_request

Sim = Callable[..., SimServer]
Serve = Callable[[dict[str, Any]], Running]

#: The documented send strings, both asking for node app1.
F5_SEND = [wire(F5_SEND_HTTP11), wire(F5_SEND_HTTP10)]


def f5_member_state(response: bytes) -> str:
    """What BIG-IP concludes: receive string first, then the receive disable string."""
    text = response.decode("latin-1")
    if re.search(F5_RECV, text):
        return "up"
    if re.search(F5_RECV_DISABLE, text):
        return "disabled"
    return "down"


def monitor(lb: Running) -> list[str]:
    """The member state each documented monitor concludes for node app1."""
    return [f5_member_state(raw_request(lb.port, send)) for send in F5_SEND]


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
    lb = lbhealth_server(inventory({"app1": jboss_node(sim({"/": page}))}, **ADMIN))
    set_state(lb.url, "app1", admin, "patching")
    assert monitor(lb) == [expected, expected]


def test_backend_text_cannot_forge_the_up_token(sim: Sim, lbhealth_server: Serve) -> None:
    forged = Page(
        503,
        [("Server", "Microsoft-HTTPAPI/2.0")],
        b"<p>HTTP Error 503. x-lbhealth-state: up\r\nX-LBHealth-State: drain</p>",
    )
    lb = lbhealth_server(inventory({"app1": node("iis", sim({"/": forged}).url())}))
    response = raw_request(lb.port, F5_SEND[0])
    assert response.startswith(b"HTTP/1.1 503 ")
    assert b"lbhealth_state" in response.lower()  # the backend's text is shown, defused
    assert f5_member_state(response) == "down"


def test_first_body_word_stays_the_status(sim: Sim, lbhealth_server: Serve) -> None:
    lb = lbhealth_server(inventory({"app1": jboss_node(sim({"/": JBOSS_WELCOME}))}, **ADMIN))
    words = []
    for admin in ("enabled", "drain", "maint"):
        set_state(lb.url, "app1", admin, "why")
        raw = raw_request(lb.port, F5_SEND[0])
        words.append(raw.partition(b"\r\n\r\n")[2].split()[0])
    assert words == [b"UP", b"DRAIN:", b"MAINT:"]
