"""The HTTP endpoints over real sockets: lbhealth under uvicorn, real backends."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from lbhealth.demo.cluster import IIS_APPPOOL_STOPPED, IIS_WELCOME, JBOSS_WELCOME, JSP_STACK_TRACE
from lbhealth.demo.simserver import Page, SimServer
from tests._inventory import check, inventory, node
from tests._poll import wait_until
from tests._servers import BackgroundLoop, Running, free_port
from tests._wire import raw_request, read_all

Sim = Callable[..., SimServer]
Serve = Callable[..., Running]


def one_node(url: str, kind: str = "iis", **settings: Any) -> dict[str, Any]:
    """Node web1 (role web) with one check of ``url``."""
    return inventory({"web1": node(kind, url, "web")}, **settings)


def test_up_node_answers_200_up(sim: Sim, lbhealth_server: Serve) -> None:
    backend = sim({"/": IIS_WELCOME})
    lb = lbhealth_server(one_node(backend.url()))
    response = httpx.get(f"{lb.url}/health/web1")
    assert response.status_code == 200
    assert response.text == "UP\n"
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["cache-control"] == "no-store"


def test_down_node_answers_503_with_reason(sim: Sim, lbhealth_server: Serve) -> None:
    backend = sim({"/": IIS_APPPOOL_STOPPED})
    lb = lbhealth_server(one_node(backend.url()))
    response = httpx.get(f"{lb.url}/health/web1")
    assert response.status_code == 503
    assert response.text.startswith("DOWN: ")
    assert "503" in response.text and response.text.endswith("\n")
    assert response.text.count("\n") == 1


def test_node_is_down_when_any_check_is_down(sim: Sim, lbhealth_server: Serve) -> None:
    backend = sim({"/": JBOSS_WELCOME, "/page.jsp": JSP_STACK_TRACE})
    checks = [check("jboss", backend.url("/")), check("jsp", backend.url("/page.jsp"))]
    lb = lbhealth_server(inventory({"app2": {"checks": checks}}))
    response = httpx.get(f"{lb.url}/health/app2")
    assert response.status_code == 503
    assert "jsp:" in response.text and "NullPointerException" in response.text
    assert "jboss:" not in response.text


def test_json_view_has_each_check(sim: Sim, lbhealth_server: Serve) -> None:
    backend = sim({"/": JBOSS_WELCOME, "/page.jsp": JSP_STACK_TRACE})
    checks = [check("jboss", backend.url("/")), check("jsp", backend.url("/page.jsp"))]
    lb = lbhealth_server(inventory({"app2": {"role": "application", "checks": checks}}))
    for response in (
        httpx.get(f"{lb.url}/health/app2?format=json"),
        httpx.get(f"{lb.url}/health/app2", headers={"Accept": "application/json"}),
    ):
        assert response.status_code == 503
        body = response.json()
        assert body["node"] == "app2" and body["status"] == "DOWN" and body["role"] == "application"
        checks = {c["name"]: c for c in body["checks"]}
        assert checks["jboss"]["status"] == "UP"
        assert checks["jsp"]["status"] == "DOWN"
        assert checks["jsp"]["target"] == backend.url("/page.jsp")
        assert checks["jsp"]["latency_ms"] >= 0 and checks["jsp"]["checked_at"] > 0


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_methods_monitors_use(method: str, sim: Sim, lbhealth_server: Serve) -> None:
    backend = sim({"/": IIS_WELCOME})
    lb = lbhealth_server(one_node(backend.url()))
    response = httpx.request(method, f"{lb.url}/health/web1")
    assert response.status_code == 200
    assert response.content == (b"" if method == "HEAD" else b"UP\n")


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"OPTIONS /health/web1 HTTP/1.0\r\n\r\n",  # HAProxy's default httpchk
        b"GET /health/web1 HTTP/1.0\r\n\r\n",
        b"GET /health/web1 HTTP/1.1\r\nConnection: close\r\n\r\n",  # HTTP/1.1, no Host
        b"GET /health/web1 HTTP/1.1\r\nHost: lbhealth\r\nConnection: Close\r\n\r\n",  # F5
    ],
)
def test_raw_monitor_requests(request_bytes: bytes, sim: Sim, lbhealth_server: Serve) -> None:
    backend = sim({"/": IIS_APPPOOL_STOPPED})
    lb = lbhealth_server(one_node(backend.url()))
    raw = raw_request(lb.port, request_bytes)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0].split(b" ")[1] == b"503"
    assert body.startswith(b"DOWN: ")


def test_unknown_node_is_404_without_probe(sim: Sim, lbhealth_server: Serve) -> None:
    backend = sim({"/": IIS_WELCOME})
    # Returns once the warm-up probe is done; the next scheduled one is a minute away.
    lb = lbhealth_server(one_node(backend.url(), interval=60))
    before = sum(backend.hits.values())
    for name in ("nope", "web1x", "WEB1", "a%2Fb", "..%2F..%2Fetc", "x" * 3000, "%E2%9C%93"):
        response = httpx.get(f"{lb.url}/health/{name}")
        assert response.status_code == 404, name
        assert response.text.startswith("UNKNOWN: no node named")
    assert sum(backend.hits.values()) == before


def test_nodes_lists_every_node(sim: Sim, lbhealth_server: Serve) -> None:
    up, down = sim({"/": IIS_WELCOME}), sim({"/": IIS_APPPOOL_STOPPED})
    lb = lbhealth_server(
        inventory({"web1": node("iis", up.url(), "web"), "web2": node("iis", down.url(), "web")})
    )
    nodes = {n["node"]: n for n in httpx.get(f"{lb.url}/nodes").json()["nodes"]}
    assert nodes["web1"]["status"] == "UP" and nodes["web2"]["status"] == "DOWN"


def test_livez_and_readyz(sim: Sim, lbhealth_server: Serve) -> None:
    backend = sim({"/": IIS_APPPOOL_STOPPED})
    lb = lbhealth_server(one_node(backend.url()), ready=False)
    assert httpx.get(f"{lb.url}/livez").status_code == 200
    assert "[+]ping ok" in httpx.get(f"{lb.url}/livez?verbose").text
    # Ready although the only backend is DOWN: readiness never depends on backends.
    verbose = wait_until(
        lambda: httpx.get(f"{lb.url}/readyz?verbose"), lambda r: r.status_code == 200
    )
    assert "[+]config ok" in verbose.text and "[+]probes ok" in verbose.text


def test_readyz_waits_for_first_probe(sim: Sim, lbhealth_server: Serve) -> None:
    backend = sim({"/": Page(200, [("Server", "Microsoft-IIS/10.0")], b"ok", delay=2.0)})
    lb = lbhealth_server(one_node(backend.url(), timeout=5), ready=False)
    response = httpx.get(f"{lb.url}/readyz?verbose")
    assert response.status_code == 503
    assert "[-]probes failed: 1 check(s) not probed yet: web1/iis" in response.text


def test_openapi_docs_available(sim: Sim, lbhealth_server: Serve) -> None:
    lb = lbhealth_server(one_node(sim({"/": IIS_WELCOME}).url()))
    schema = httpx.get(f"{lb.url}/openapi.json").json()
    assert "/health/{node}" in schema["paths"] and "/nodes" in schema["paths"]
    assert httpx.get(f"{lb.url}/docs").status_code == 200


def test_verdict_is_cached_for_ttl(sim: Sim, lbhealth_server: Serve) -> None:
    backend = sim({"/": IIS_APPPOOL_STOPPED})
    lb = lbhealth_server(one_node(backend.url(), mode="on-demand", cache_ttl=30))
    with httpx.Client() as client:
        for _ in range(50):
            assert client.get(f"{lb.url}/health/web1").status_code == 503
    # DOWN verdicts are cached too: one warm-up probe served all 50 requests.
    assert backend.hits["/"] == 1


def test_single_flight_500_concurrent_requests_one_probe(
    sim: Sim, lbhealth_server: Serve, bg: BackgroundLoop
) -> None:
    gate = asyncio.Event()
    gate.set()
    backend = sim(
        {"/": Page(200, [("Server", "Microsoft-IIS/10.0")], b"<html>IIS</html>", hold=gate)}
    )
    # 500 connections from one address: above the default per-client limit (100).
    settings = {"mode": "on-demand", "cache_ttl": "300ms", "timeout": 30}
    lb = lbhealth_server(one_node(backend.url(), max_connections_per_client=500, **settings))
    assert backend.hits["/"] == 1  # the warm-up probe
    bg.loop.call_soon_threadsafe(gate.clear)  # the next probe will hang until released
    engine = lb.app.engine
    (web1,) = engine.checks["web1"]
    wait_until(lambda: engine.verdicts.fresh_result(web1.key, engine.lifetime(web1)) is None)
    served = lb.app.answers.served
    asked_before = served.computed
    request = b"GET /health/web1 HTTP/1.1\r\nHost: lbhealth\r\nConnection: close\r\n\r\n"
    sockets = [socket.create_connection(("127.0.0.1", lb.port), timeout=30) for _ in range(500)]
    try:
        for sock in sockets:
            sock.sendall(request)
        # Every request reached lbhealth and waits on the one probe the backend holds.
        wait_until(
            lambda: (served.computed - asked_before, backend.hits["/"]), lambda s: s[0] == 500
        )
        assert backend.hits["/"] == 2 and backend.in_flight == 1
        bg.loop.call_soon_threadsafe(gate.set)
        answers = [read_all(sock) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
    assert all(a.startswith(b"HTTP/1.1 200") and a.endswith(b"\r\n\r\nUP\n") for a in answers)
    # 500 concurrent misses shared one probe: the backend saw one more request, not 500.
    assert backend.hits["/"] == 2


def test_hanging_backend_answers_503_within_timeout(sim: Sim, lbhealth_server: Serve) -> None:
    backend = sim({"/": Page(200, [], b"late", delay=60)})
    lb = lbhealth_server(
        one_node(backend.url(), mode="on-demand", timeout="1s", cache_ttl=60), ready=False
    )
    start = time.monotonic()
    response = httpx.get(f"{lb.url}/health/web1", timeout=10)
    elapsed = time.monotonic() - start
    assert response.status_code == 503
    assert "no complete answer within 1s" in response.text
    assert elapsed < 1 + 1.0  # the probe's budget plus a margin, never the backend's 60 s


def test_unreachable_backend_is_down_with_reason(lbhealth_server: Serve) -> None:
    port = free_port()
    lb = lbhealth_server(one_node(f"http://127.0.0.1:{port}/"))
    response = httpx.get(f"{lb.url}/health/web1")
    assert response.status_code == 503
    assert response.text == f"DOWN: iis: connection refused by 127.0.0.1:{port}\n"
