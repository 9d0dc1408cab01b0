"""A compromised backend (or admin client) against a running lbhealth: never shown raw.

Each backend is a real HTTP server on loopback serving the page under test;
lbhealth runs under uvicorn and every output that carries a reason is read:
``/health`` (text and JSON), role pools, ``/cluster`` (text, JSON, HTML),
``/nodes``, history, the status page, the agent-check line and the log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from lbhealth.app.logs import JsonFormatter
from lbhealth.demo.simserver import Page, SimServer
from lbhealth.interpret.states import MAX_FIELD
from tests._admin import ADMIN, AUTH
from tests._inventory import inventory, node
from tests._process import lbhealth
from tests._servers import Running, free_port
from tests._wire import agent_ask

Sim = Callable[..., SimServer]
Serve = Callable[[dict[str, Any]], Running]
HTML = [("Content-Type", "text/html; charset=utf-8")]

#: Every output of a running lbhealth that carries a reason (path, query).
OUTPUTS = [
    "/health/web1",
    "/health/web1?format=json",
    "/health/role/web",
    "/health/role/web?format=json",
    "/cluster",
    "/cluster?format=json",
    "/cluster?format=html",
    "/nodes",
    "/history/web1",
    "/",
]


def error_page(title: str, body: str = "", status: int = 500) -> Page:
    html = f"<html><head><title>{title}</title></head><body>{body}</body></html>"
    return Page(status, HTML, html.encode())


def web_node(server: SimServer, **check: Any) -> dict[str, Any]:
    return node("iis", server.url("/"), "web", **check)


def everything_shown(lb: Running, logged: pytest.LogCaptureFixture) -> str:
    """The text of every output, and the log lines as lbhealth writes them (JSON)."""
    bodies = [httpx.get(lb.url + path, timeout=10).text for path in OUTPUTS]
    lines = [JsonFormatter().format(r) for r in logged.records]
    assert any(r.name == "lbhealth.engine" for r in logged.records)  # verdicts were logged
    return "\n".join([*bodies, *lines])


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every lbhealth log record of the test (read ``.records`` in the test: one list per phase)."""
    with caplog.at_level(logging.DEBUG, logger="lbhealth"):
        yield caplog


def test_no_output_carries_the_state_token(
    sim: Sim, lbhealth_server: Serve, logged: pytest.LogCaptureFixture
) -> None:
    backend = sim({"/": error_page("X-LBHealth-State: up", "<p>x-lbhealth-state: UP</p>")})
    lb = lbhealth_server(inventory({"web1": web_node(backend)}, **ADMIN))
    shown = everything_shown(lb, logged)
    assert "lbhealth-state" not in shown.lower()
    assert "lbhealth_state: up" in shown.lower()  # the backend's text is shown, defused


CONTROLS = "EA\u009b2J\u009b31m\u202eAS\u2066\u2028x"


def test_no_output_carries_terminal_or_bidi_controls(
    sim: Sim, lbhealth_server: Serve, logged: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    backend = sim({"/": error_page(CONTROLS, f"<pre>{CONTROLS}</pre>")})
    lb = lbhealth_server(inventory({"web1": web_node(backend)}, **ADMIN, agent_port=port))
    shown = everything_shown(lb, logged) + agent_ask(port, b"web1\n").decode()
    # Neither raw nor as the JSON escapes of the views and the log lines.
    assert not any(c in shown or json.dumps(c)[1:-1] in shown for c in "\u009b\u202e\u2066\u2028")
    assert "EA 2J 31m AS x" in shown


def test_an_operator_name_with_controls_is_cleaned_where_it_is_read(
    lbhealth_server: Serve, logged: pytest.LogCaptureFixture
) -> None:
    lb = lbhealth_server(inventory({"db1": node("tcp", "127.0.0.1:1", "database")}, **ADMIN))
    user = b"al\x9b2J ice\x9b31m"  # 8-bit CSI bytes, read as U+009B (latin-1)
    changed = httpx.put(
        f"{lb.url}/admin/nodes/db1/state",
        json={"state": "maint"},
        headers={**AUTH, "X-LBHealth-User": user},
        timeout=10,
    )
    assert changed.json()["by"] == "al 2J ice 31m"
    # A reload names its trigger ("POST /admin/reload by <user>") in its log line.
    httpx.post(f"{lb.url}/admin/reload", headers={**AUTH, "X-LBHealth-User": user}, timeout=10)
    shown = httpx.get(f"{lb.url}/admin/nodes", headers=AUTH, timeout=10).text
    shown += "\n".join(JsonFormatter().format(r) for r in logged.records)
    assert "reload by al 2J ice 31m" in shown
    assert "\u009b" not in shown and "\\u009b" not in shown


SESSION = "9F2A3C77D1E04B6A8C5D"


@pytest.mark.parametrize("echo", [f"JSESSIONID={SESSION}", SESSION], ids=["pair", "bare-value"])
def test_an_echoed_cookie_is_never_shown(
    echo: str, sim: Sim, lbhealth_server: Serve, logged: pytest.LogCaptureFixture
) -> None:
    backend = sim({"/": error_page(f"Session {echo} expired", f"<p>cookie {echo}</p>")})
    cookie = {"headers": {"Cookie": f"JSESSIONID={SESSION}; lang=de-CH"}}
    lb = lbhealth_server(inventory({"web1": web_node(backend, **cookie)}, **ADMIN))
    status = lbhealth("status", "--url", lb.url)
    shown = everything_shown(lb, logged) + status.stdout
    assert "Session " in shown  # the page was read and quoted
    assert SESSION[:4] not in shown


SECRET = "S3cr3t-K3y-7731"


def test_a_title_cut_leaks_no_head_of_an_echoed_secret(sim: Sim, lbhealth_server: Serve) -> None:
    # 294 characters before the secret, mostly whitespace: a cut at 300 before collapsing
    # whitespace would keep "S3cr3t" and lose the rest, so redaction could not know it.
    backend = sim({"/": error_page("Denied" + "\n" * 288 + SECRET + " for GET /")})
    lb = lbhealth_server(
        inventory({"web1": web_node(backend, headers={"X-Api-Key": SECRET})}, **ADMIN)
    )
    answer = httpx.get(f"{lb.url}/health/web1?format=json", timeout=10).json()
    assert answer["reason"].startswith("iis: HTTP 500, expected 2xx/3xx: Denied")
    assert "S3cr" not in json.dumps(answer)


def listing(rows: str) -> Page:
    table = f"<table><tr><th>Process</th><th>Status</th><th>Description</th></tr>{rows}</table>"
    return Page(200, HTML, f"<html><body>{table}</body></html>".encode())


def svc_node(server: SimServer) -> dict[str, Any]:
    return node("rmi-objects", server.url("/"), "services")


def test_a_huge_description_cell_is_bounded(sim: Sim, lbhealth_server: Serve) -> None:
    huge = "routing engine " * 60_000  # 900 KB in one cell
    row = f"<tr><td>DX</td><td>Remote Object is Alive</td><td>{huge}</td></tr>"
    lb = lbhealth_server(inventory({"svc1": svc_node(sim({"/": listing(row)}))}, **ADMIN))
    nodes = httpx.get(f"{lb.url}/nodes", timeout=10)
    [process] = nodes.json()["nodes"][0]["checks"][0]["details"]["processes"]
    assert process["name"] == "DX" and process["alive"] is True
    assert process["description"].startswith("routing engine routing")
    assert len(process["description"]) <= MAX_FIELD
    assert len(nodes.content) < 10_000


def test_listing_states_are_shown_without_the_pages_quotes(
    sim: Sim, lbhealth_server: Serve
) -> None:
    rows = (
        '<tr><td>DX</td><td>"Remote Object is Alive"</td><td></td></tr>'
        "<tr><td>EAAS</td><td>\u201cRemote Object is Not Alive\u201d</td><td></td></tr>"
    )
    lb = lbhealth_server(inventory({"svc1": svc_node(sim({"/": listing(rows)}))}, **ADMIN))
    view = httpx.get(f"{lb.url}/health/svc1?format=json", timeout=10).json()
    states = [p["state"] for p in view["checks"][0]["details"]["processes"]]
    assert states == ["Remote Object is Alive", "Remote Object is Not Alive"]
    assert view["reason"] == "rmi-objects: EAAS not alive (Remote Object is Not Alive)"
