"""Fault injection: every way a backend misbehaves is a 503 with a precise reason.

Each case runs a real lbhealth (uvicorn) over a :class:`FaultServer` that
misbehaves one way, next to a healthy node. For every fault lbhealth must
answer ``503 DOWN: <reason>`` within the check's timeout plus a margin (a
bound, not a speed claim), read a bounded number of bytes, and keep serving
the healthy node meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from lbhealth.demo.cluster import IIS_WELCOME
from lbhealth.demo.simserver import SimServer
from lbhealth.probe import HttpTarget, new_client, probe_http
from tests import faults
from tests.conftest import BackgroundLoop, Running

Sim = Callable[..., SimServer]
Serve = Callable[[dict[str, Any]], Running]

TIMEOUT = 1.0  # each faulty check's budget, seconds
MARGIN = 1.5  # scheduling slack on a loaded CI machine; still far below any backend stall
CAP = 64 * 1024  # max_body for these tests
# What a probe may read past the cap: the one chunk that crossed it.
READ_SLACK = 128 * 1024

BODY = b"<html><body>Welcome</body></html>"
RMI = "<tr><td>{}</td><td>\u201cRemote Object is {}\u201d</td></tr>"

PLAIN: dict[str, faults.Fault] = {
    "/silent": faults.silent,
    "/status-then-stall": faults.status_then_stall,
    "/drip": faults.drip,
    "/reset-mid-body": faults.reset_mid_body,
    "/close-before-headers": faults.close_before_headers,
    "/garbage": faults.respond(b"\x00\xff\xfeSSH-2.0-OpenSSH_8.9\r\n" * 40),
    "/invalid-status-line": faults.respond(b"HTTP/1.1 OK 200\r\n\r\n"),
    "/headers-70k": faults.respond(
        faults.head("200 OK", *[f"X-Pad-{i}: {'a' * 1000}" for i in range(70)]) + BODY
    ),
    "/headers-200k": faults.respond(
        faults.head("200 OK", *[f"X-Pad-{i}: {'a' * 1000}" for i in range(200)]) + BODY
    ),
    "/header-line-200k": faults.respond(b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 200_000),
    "/body-until-close": faults.respond(
        b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + BODY
    ),
    "/one-gib": faults.endless_body,
    "/gzip-bomb": faults.gzip_bomb(),
    "/bad-chunk-size": faults.respond(
        faults.head("200 OK", "Transfer-Encoding: chunked") + b"zz\r\nhello\r\n0\r\n\r\n"
    ),
    "/chunked-cut": faults.respond(
        faults.head("200 OK", "Transfer-Encoding: chunked") + b"100\r\nhello"
    ),
    "/length-longer": faults.respond(faults.head("200 OK", "Content-Length: 1000") + BODY),
    "/length-shorter": faults.respond(faults.head("200 OK", "Content-Length: 12") + BODY),
    "/redirect-loop": faults.redirect_to("/redirect-loop"),
    "/empty": faults.page(b"", "Content-Type: text/html"),
    "/rmi-cp1252": faults.page(
        (
            "<table>" + "".join(RMI.format(p, "Alive") for p in ("DX", "RX", "EAAS")) + "</table>"
        ).encode("cp1252"),
        "Content-Type: text/html; charset=windows-1252",
    ),
    "/rmi-bad-utf8": faults.page(
        b"<table>\xff\xfe\xc3"
        + (RMI.format("DX", "Alive") + RMI.format("EAAS", "Not Alive")).encode("cp1252")
        + b"</table>",
        "Content-Type: text/html; charset=UTF-8",
    ),
}


@dataclass(frozen=True)
class Case:
    """One fault: where it lives, the check pointed at it, the reason lbhealth must give."""

    name: str
    reason: str
    check: dict[str, Any] = field(default_factory=dict)
    slow: bool = False  # holds the probe until its timeout


CASES = [
    Case("refused", "http: connection refused by 127.0.0.1:"),
    Case("silent", "no complete answer within 1s (waiting for the response)", slow=True),
    Case("status-then-stall", "no complete answer within 1s (waiting for the response)", slow=True),
    Case("drip", "no complete answer within 1s (waiting for the response)", slow=True),
    Case("reset-mid-body", "connection reset by the backend while reading the body"),
    Case("close-before-headers", "connection closed before any response"),
    Case("garbage", "not an HTTP response: the backend sent no valid status line"),
    Case("invalid-status-line", "invalid HTTP from backend: illegal status line"),
    Case("headers-70k", "response headers larger than the 65536-byte cap"),
    Case("headers-200k", "response headers larger than the 65536-byte cap"),
    Case("header-line-200k", "response headers larger than the 65536-byte cap"),
    # No Content-Length: the body ends with the connection (HTTP/1.0), and is judged.
    Case("body-until-close", "body does not match expect /absent/", {"expect": "absent"}),
    Case("one-gib", "body larger than the 65536-byte cap"),
    Case("gzip-bomb", "body larger than the 65536-byte cap"),
    Case("bad-chunk-size", "invalid HTTP from backend: illegal chunk header"),
    Case("chunked-cut", "connection closed mid-body"),
    Case("length-longer", "connection closed mid-body"),
    # Framing says the body is 12 bytes: lbhealth judges only those, so the
    # page's marker is missing.
    Case(
        "length-shorter",
        "body does not match expect /Welcome/",
        {"expect": "Welcome"},
    ),
    Case("redirect-loop", "more than 5 redirects", {"follow_redirects": True}),
    Case("self-signed", "TLS certificate rejected by 127.0.0.1:", {}),
    Case("expired", "certificate has expired", {"ca_file": "CA"}),
    Case("wrong-host", "certificate is not valid for '127.0.0.1'", {"ca_file": "CA"}),
    Case("empty", "jsp: empty body", {"kind": "jsp"}),
]


@dataclass
class Backends:
    plain: faults.FaultServer
    tls: dict[str, faults.FaultServer]
    ca_file: str

    def url_for(self, case: Case) -> str:
        if case.name == "refused":
            return f"http://127.0.0.1:{faults.closed_port()}/"
        if case.name in self.tls:
            return self.tls[case.name].url()
        return self.plain.url(f"/{case.name}")


@pytest.fixture(scope="module")
def backends(bg: BackgroundLoop, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backends]:
    certs = faults.make_certs(str(tmp_path_factory.mktemp("certs")))
    contexts = {
        "self-signed": certs.self_signed,
        "expired": certs.expired,
        "wrong-host": certs.wrong_host,
    }
    plain = bg.run(faults.FaultServer(PLAIN).start())
    tls = {
        name: bg.run(faults.FaultServer({"/": faults.page(BODY)}, tls=ctx).start())
        for name, ctx in contexts.items()
    }
    yield Backends(plain, tls, certs.ca_file)
    for server in (plain, *tls.values()):
        bg.run(server.stop())


def inventory(faulty: dict[str, Any], healthy_url: str) -> dict[str, Any]:
    return {
        # On demand: a monitor's request is what triggers (or joins) the probe here;
        # background mode's independence from hanging backends is in test_scheduler.
        "settings": {"mode": "on-demand", "timeout": TIMEOUT, "max_body": CAP, "cache_ttl": 60},
        "nodes": {
            "faulty": {"checks": [faulty]},
            "healthy": {"checks": [{"kind": "iis", "url": healthy_url}]},
        },
    }


def faulty_check(case: Case, backends: Backends) -> dict[str, Any]:
    check: dict[str, Any] = {"kind": "http", "url": backends.url_for(case), **case.check}
    if check.get("ca_file") == "CA":
        check["ca_file"] = backends.ca_file
    return check


async def probe_both(lb: Running) -> tuple[httpx.Response, float, list[int], bool]:
    """Ask for the faulty node and, while it is pending, the healthy one five times."""
    async with httpx.AsyncClient(base_url=lb.url, timeout=30) as client:
        start = time.monotonic()
        faulty = asyncio.create_task(client.get("/health/faulty"))
        elapsed: list[float] = []
        faulty.add_done_callback(lambda _: elapsed.append(time.monotonic() - start))
        healthy = [(await client.get("/health/healthy")).status_code for _ in range(5)]
        faulty_pending = not faulty.done()
        response = await faulty
    return response, elapsed[0], healthy, faulty_pending


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_backend_fault_is_503_with_precise_reason_within_budget(
    case: Case, backends: Backends, sim: Sim, lbhealth_server: Serve
) -> None:
    healthy = sim({"/": IIS_WELCOME})
    lb = lbhealth_server(inventory(faulty_check(case, backends), healthy.url()), ready=False)
    response, elapsed, healthy_codes, faulty_pending = asyncio.run(probe_both(lb))
    assert response.status_code == 503
    assert response.text.startswith("DOWN: ") and response.text.count("\n") == 1
    assert case.reason in response.text
    assert elapsed <= TIMEOUT + MARGIN
    # The healthy node kept answering meanwhile: for a stalling backend, while
    # the faulty request was still waiting on it.
    assert healthy_codes == [200] * 5
    if case.slow:
        assert faulty_pending


@pytest.mark.parametrize(
    ("path", "max_sent"),
    [("/one-gib", 64 << 20), ("/gzip-bomb", 1 << 20), ("/headers-200k", 1 << 20)],
)
def test_oversized_answers_are_read_only_up_to_the_cap(
    path: str, max_sent: int, backends: Backends, bg: BackgroundLoop
) -> None:
    async def run() -> Any:
        async with new_client() as client:
            return await probe_http(client, HttpTarget(backends.plain.url(path)), 5, CAP)

    before = len(backends.plain.sent[path])
    observation = bg.run(run())
    assert observation.error == "too-large"
    assert observation.bytes_read <= CAP + READ_SLACK
    # The backend could hand the kernel only a bounded amount before lbhealth
    # hung up: 1 GiB was offered.
    deadline = time.monotonic() + 5
    while len(backends.plain.sent[path]) == before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert backends.plain.sent[path][-1] <= max_sent


def test_redirect_loop_stops_after_five_redirects(
    backends: Backends, sim: Sim, lbhealth_server: Serve
) -> None:
    before = backends.plain.hits["/redirect-loop"]
    case = next(c for c in CASES if c.name == "redirect-loop")
    lb = lbhealth_server(inventory(faulty_check(case, backends), sim({"/": IIS_WELCOME}).url()))
    assert httpx.get(f"{lb.url}/health/faulty", timeout=10).status_code == 503
    assert backends.plain.hits["/redirect-loop"] - before == 6  # the first request + 5 redirects


@pytest.mark.parametrize(
    ("path", "code", "text"),
    [
        ("/rmi-cp1252", 200, "UP\n"),
        ("/rmi-bad-utf8", 503, "EAAS not alive"),
    ],
)
def test_odd_encodings_are_still_interpreted(
    path: str, code: int, text: str, backends: Backends, sim: Sim, lbhealth_server: Serve
) -> None:
    check = {"kind": "rmi-objects", "url": backends.plain.url(path)}
    lb = lbhealth_server(inventory(check, sim({"/": IIS_WELCOME}).url()))
    response = httpx.get(f"{lb.url}/health/faulty", timeout=10)
    assert response.status_code == code
    assert text in response.text


def test_all_faults_at_once_leave_healthy_node_served(
    backends: Backends, sim: Sim, lbhealth_server: Serve
) -> None:
    """Every faulty node probed concurrently; the healthy node answers throughout."""
    nodes: dict[str, Any] = {
        case.name: {"checks": [faulty_check(case, backends)]} for case in CASES
    }
    nodes["healthy"] = {"checks": [{"kind": "iis", "url": sim({"/": IIS_WELCOME}).url()}]}
    settings = {"mode": "on-demand", "timeout": TIMEOUT, "max_body": CAP, "cache_ttl": 0.2}
    lb = lbhealth_server({"settings": settings, "nodes": nodes}, ready=False)

    async def run() -> tuple[dict[str, int], list[int]]:
        async with httpx.AsyncClient(base_url=lb.url, timeout=30) as client:
            faulty = {c.name: asyncio.create_task(client.get(f"/health/{c.name}")) for c in CASES}
            healthy = []
            while not all(t.done() for t in faulty.values()):
                healthy.append((await client.get("/health/healthy")).status_code)
                await asyncio.sleep(0.02)
            return {n: (await t).status_code for n, t in faulty.items()}, healthy

    faulty_codes, healthy_codes = asyncio.run(run())
    assert faulty_codes == {c.name: 503 for c in CASES}
    assert len(healthy_codes) >= 5 and set(healthy_codes) == {200}
