"""Hostile clients: odd node names, SSRF attempts, idle and slow sockets, API fuzzing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lbhealth.app import create_app
from lbhealth.config import parse_inventory
from lbhealth.demo.cluster import IIS_WELCOME
from lbhealth.demo.simserver import SimServer
from tests._inventory import inventory, node
from tests._servers import Running, start_lbhealth
from tests._wire import raw_request, send_reading, status_of

Sim = Callable[..., SimServer]
Serve = Callable[[dict[str, Any]], Running]


def one_node(url: str, **settings_: Any) -> dict[str, Any]:
    return inventory({"web1": node("iis", url)}, **settings_)


@pytest.fixture
def served(sim: Sim, lbhealth_server: Serve) -> tuple[Running, SimServer]:
    """lbhealth with one node, warmed up, so later backend hits can only come from requests."""
    backend = sim({"/": IIS_WELCOME})
    lb = lbhealth_server(one_node(backend.url(), cache_ttl=60))  # returns once probed
    return lb, backend


HOSTILE_PATHS = [
    b"/health/../../etc/passwd",
    b"/health/..%2F..%2Fetc%2Fpasswd",
    b"/health/web1%2F..%2Fweb1",
    b"/health/web1/../web1",
    b"/health/%2e%2e/%2e%2e/",
    b"/health/" + b"a" * 20_000,
    b"/health/%E2%9C%93",
    b"/health/\xc3\xa9",  # raw UTF-8 in the request line
    b"/health/web1%00",
    b"/health/web1%0d%0aSet-Cookie:%20x=1",
    b"/health/web1\x01",
    b"/health/%ff%fe",
    b"/health/",
    b"/health/web1?format=json%00",
    b"/health/%2e%2e%2fnodes?format=json",
]


@pytest.mark.parametrize("method", [b"GET", b"HEAD", b"OPTIONS"])
@pytest.mark.parametrize("path", HOSTILE_PATHS, ids=lambda p: repr(p[:40]))
def test_hostile_node_names_are_clean_4xx_without_probe(
    path: bytes, method: bytes, served: tuple[Running, SimServer]
) -> None:
    lb, backend = served
    before = backend.hits["/"]
    answer = raw_request(
        lb.port, method + b" " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert status_of(answer) in (400, 404, 414, 422), answer[:200]
    head, _, _ = answer.partition(b"\r\n\r\n")
    assert b"set-cookie" not in head.lower()  # nothing the client sent became a header
    assert backend.hits["/"] == before


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /health/web1?url=http://127.0.0.1:{victim}/ HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /health/web1?target=127.0.0.1:{victim} HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /nodes?url=http://127.0.0.1:{victim}/&target=http://127.0.0.1:{victim}/"
        b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /readyz?verbose&url=http://127.0.0.1:{victim}/ HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /health/web1 HTTP/1.1\r\nHost: 127.0.0.1:{victim}\r\n\r\n",
        b"GET /health/web1 HTTP/1.1\r\nHost: x\r\nX-Forwarded-Host: 127.0.0.1:{victim}\r\n\r\n",
        b"GET http://127.0.0.1:{victim}/ HTTP/1.1\r\nHost: 127.0.0.1:{victim}\r\n\r\n",
        b"GET http://127.0.0.1:{victim}/health/web1 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /health/127.0.0.1:{victim} HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /health/http%3A%2F%2F127.0.0.1%3A{victim}%2F HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /admin/reload?url=http://127.0.0.1:{victim}/ HTTP/1.1\r\nHost: x\r\n"
        b'Content-Length: 31\r\n\r\n{"url": "http://127.0.0.1:1/"}\n',
    ],
)
def test_no_request_makes_lbhealth_probe_an_address_it_names(
    request_bytes: bytes, sim: Sim, lbhealth_server: Serve
) -> None:
    # The victim is also web1's backend, probed at its own path on every monitor request.
    victim = sim({"/": IIS_WELCOME, "/health/web1": IIS_WELCOME, "/web1": IIS_WELCOME})
    lb = lbhealth_server(one_node(victim.url("/web1"), mode="on-demand", cache_ttl="1ms"))
    request = request_bytes.replace(b"{victim}", str(victim.port).encode())
    answer = raw_request(lb.port, request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1))
    assert status_of(answer) in (200, 401, 403, 404, 503), answer[:200]
    # A barrier instead of a sleep: this request makes lbhealth probe web1 now, on
    # the loop where a probe started by the request above would have started first.
    before = victim.hits["/web1"]
    assert httpx.get(f"{lb.url}/health/web1").text == "UP\n"
    assert victim.hits["/web1"] == before + 1
    assert {path: n for path, n in victim.hits.items() if path != "/web1"} == {}


URLISH = {"url", "uri", "target", "address", "addr", "host", "endpoint", "location", "server"}


def test_no_endpoint_takes_a_target_parameter() -> None:
    """Structural guarantee behind the test above: no operation accepts a URL-ish input."""
    app = create_app(parse_inventory(one_node("http://x/")))
    schema = app.api.openapi()
    operations = [op for path in schema["paths"].values() for op in path.values()]
    names = {p["name"].lower() for op in operations for p in op.get("parameters", [])}
    components = schema.get("components", {}).get("schemas", {})
    for op in operations:  # request bodies; answers may well show a check's target
        for media in op.get("requestBody", {}).get("content", {}).values():
            body = components[media["schema"]["$ref"].rsplit("/", 1)[1]]
            names |= {name.lower() for name in body.get("properties", {})}
    assert "reason" in names  # the request body (StateChange) was inspected
    assert "node" in names  # the inspection sees the parameters that do exist
    assert not names & URLISH


# Idle, slow and flooding clients, connection limits and body caps: tests/test_client_limits.py.


@pytest.mark.parametrize("size", [100_000, 2_000_000])
def test_oversized_request_heads_are_refused_cleanly(
    size: int, served: tuple[Running, SimServer]
) -> None:
    lb, backend = served
    before = backend.hits["/"]
    request = b"GET /health/web1 HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * size + b"\r\n\r\n"
    answer = send_reading(lb.port, request)
    # 400 from lbhealth.app.server's cap; httptools alone would buffer any size.
    assert status_of(answer) == 400, answer[:200]
    assert b"larger than 65536 bytes" in answer
    assert httpx.get(f"{lb.url}/health/web1", timeout=5).status_code == 200
    assert backend.hits["/"] == before


# The schema does not depend on the inventory; the live server below does.
SCHEMA = schemathesis.openapi.from_dict(
    create_app(parse_inventory(one_node("http://x/"))).api.openapi()
)


@pytest.fixture(scope="module")
def fuzz_target(bg: Any) -> Iterator[str]:
    """A live lbhealth (real uvicorn) with an admin token, over a healthy backend."""
    backend = bg.run(SimServer({"/": IIS_WELCOME}).start())
    inventory = one_node(backend.url(), admin_token="fuzz-token-0000", cache_ttl=60)
    inventory["nodes"]["app-1.x_y"] = node("tcp", "127.0.0.1:1")
    running = start_lbhealth(inventory)
    yield running.url
    running.stop()
    bg.run(backend.stop())


#: Every operation of the schema, one test each (named by it, so that each runs under any
#: test runner, pytest-xdist's included, which tells tests apart by their ids).
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_fuzzed_api_never_answers_500(operation: Any, fuzz_target: str) -> None:
    """No 500, and every answer is documented: its status, media type, headers and model."""

    @given(case=operation.as_strategy())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    def fuzz(case: Any) -> None:
        case.call_and_validate(base_url=fuzz_target, checks=CHECKS, timeout=10)

    fuzz()
