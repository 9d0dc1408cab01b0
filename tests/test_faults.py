"""Fault injection: every row of the fault table in docs/endpoints.md, as written there.

Each case runs a real lbhealth (uvicorn) over a :class:`FaultServer` that
misbehaves one way, next to a healthy node, and holds lbhealth to the table's
row: the reason it documents (read from the page, so that the page cannot
drift from the code), and the bound. A ``timeout`` row must answer within the
check's timeout plus a scheduling margin; an ``immediate`` row runs with a
generous timeout and must answer without waiting for it. Bytes read stay
within the documented caps, and the healthy node is served meanwhile.
"""

from __future__ import annotations

import asyncio
import re
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
from tests._docs import code_spans, table
from tests._documented import BODY_READ_SLACK
from tests._inventory import check, inventory, node
from tests._poll import wait_until, wait_until_async
from tests._process import ROOT
from tests._servers import BackgroundLoop, Running, free_port

Sim = Callable[..., SimServer]
Serve = Callable[[dict[str, Any]], Running]

TIMEOUT = 1.0  # the budget of a check whose row's bound is `timeout`, seconds
MARGIN = 1.5  # scheduling slack on a loaded CI machine; still far below any backend stall
#: The budget of a check whose row says "immediate": lbhealth must not wait for it.
IMMEDIATE_BUDGET = 20.0
CAP = 64 * 1024  # max_body for these tests

BODY = b"<html><body>Welcome</body></html>"
RMI = "<tr><td>{}</td><td>\u201cRemote Object is {}\u201d</td></tr>"
#: docs/endpoints.md, "Failure behaviour": backend fault -> (reasons, bound).
TABLE = {
    row[0]: (code_spans(row[1]), row[2])
    for row in table(ROOT / "docs/endpoints.md", "backend fault")
}

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
    """One fault: where it lives, the table row it proves, the check pointed at it."""

    name: str
    row: str  # the "backend fault" cell of its row in docs/endpoints.md
    alternative: int = 0  # which of the row's " / "-separated reasons
    check: dict[str, Any] = field(default_factory=dict)
    #: Values of the placeholders the row writes as N, M, ...
    values: dict[str, str] = field(default_factory=dict)

    @property
    def documented(self) -> str:
        return TABLE[self.row][0][self.alternative]

    @property
    def waits_for_timeout(self) -> bool:
        bound = TABLE[self.row][1]
        assert bound in ("`timeout`", "immediate"), f"{self.row}: unknown bound {bound!r}"
        return bound == "`timeout`"

    @property
    def budget(self) -> float:
        return TIMEOUT if self.waits_for_timeout else IMMEDIATE_BUDGET

    def pattern(self, check_name: str) -> str:
        """The documented answer as a regex over the whole body, for this case's setup."""
        meaning = {
            "...": ".*",  # the page elides with "..."
            "host:port": r"127\.0\.0\.1:\d+",
            "'host'": r"'127\.0\.0\.1'",
            "within 3s": re.escape(f"within {self.budget:g}s"),  # the default timeout
            "1048576-byte": f"{CAP}-byte",  # the default max_body
            **{name: re.escape(value) for name, value in self.values.items()},
        }
        names = "|".join(rf"\b{re.escape(n)}\b" if n.isalnum() else re.escape(n) for n in meaning)
        parts = re.split(f"({names})", self.documented)
        text = "".join(meaning.get(part, re.escape(part)) for part in parts)
        return f"DOWN: {re.escape(check_name)}: {text}\n"


CASES = [
    Case("refused", "connection refused"),
    Case("silent", "accepts, never answers"),
    Case("status-then-stall", "status line, then stalls"),
    Case("drip", "drips one byte per second (slowloris)"),
    Case("reset-mid-body", "resets the connection mid-body"),
    Case("close-before-headers", "closes before sending headers"),
    Case("garbage", "non-HTTP bytes"),
    Case("invalid-status-line", "invalid status line"),
    Case("headers-70k", "response headers over 64 KiB"),
    Case("headers-200k", "response headers over 64 KiB"),
    Case("header-line-200k", "response headers over 64 KiB"),
    # No Content-Length: the body ends with the connection (HTTP/1.0), and is judged.
    Case("body-until-close", "body ended by closing the connection", check={"expect": "absent"}),
    Case("one-gib", "1 GiB body"),
    Case("gzip-bomb", "gzip bomb"),
    Case("bad-chunk-size", "bad chunk size / chunked body cut short"),
    Case("chunked-cut", "bad chunk size / chunked body cut short", 1),
    Case(
        "length-longer",
        "`Content-Length` longer than the body",
        values={"N": str(len(BODY)), "M": "1000"},
    ),
    # Framing says the body is 12 bytes: lbhealth judges only those, so the
    # page's marker is missing.
    Case("length-shorter", "`Content-Length` shorter than the body", check={"expect": "Welcome"}),
    Case(
        "redirect-loop",
        "redirect loop (`follow_redirects: true`)",
        check={"follow_redirects": True},
    ),
    Case("self-signed", "self-signed / expired / wrong-host certificate"),
    Case("expired", "self-signed / expired / wrong-host certificate", 1, {"ca_file": "CA"}),
    Case("wrong-host", "self-signed / expired / wrong-host certificate", 2, {"ca_file": "CA"}),
    Case("empty", "200 with an empty body (`jsp`)", check={"kind": "jsp"}),
]


def test_every_row_of_the_fault_table_has_a_case() -> None:
    encodings = "body in Windows-1252, or invalid UTF-8"  # not a fault: see below
    assert {case.row for case in CASES} | {encodings} == set(TABLE)
    for row, (reasons, _) in TABLE.items():
        if row != encodings:
            cases = {c.alternative for c in CASES if c.row == row}
            assert cases == set(range(len(reasons))), row


@dataclass
class Backends:
    plain: faults.FaultServer
    tls: dict[str, faults.FaultServer]
    ca_file: str

    def url_for(self, case: Case) -> str:
        if case.name == "refused":
            return f"http://127.0.0.1:{free_port()}/"
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


def faulty_inventory(faulty: dict[str, Any], healthy_url: str, timeout: float) -> dict[str, Any]:
    # On demand: a monitor's request is what triggers (or joins) the probe here;
    # background mode's independence from hanging backends is in test_scheduler.
    nodes = {"faulty": {"checks": [faulty]}, "healthy": node("iis", healthy_url)}
    return inventory(nodes, mode="on-demand", timeout=timeout, max_body=CAP, cache_ttl=60)


def faulty_check(case: Case, backends: Backends) -> dict[str, Any]:
    options = {"kind": "http", **case.check}
    spec = check(options.pop("kind"), backends.url_for(case), **options)
    if spec.get("ca_file") == "CA":
        spec["ca_file"] = backends.ca_file
    return spec


async def probe_both(lb: Running) -> tuple[httpx.Response, float, list[int], bool]:
    """Ask for the faulty node and, while it is pending, the healthy one five times."""
    async with httpx.AsyncClient(base_url=lb.url, timeout=60) as client:
        start = time.monotonic()
        faulty = asyncio.create_task(client.get("/health/faulty"))
        elapsed: list[float] = []
        faulty.add_done_callback(lambda _: elapsed.append(time.monotonic() - start))
        healthy = [(await client.get("/health/healthy")).status_code for _ in range(5)]
        faulty_pending = not faulty.done()
        response = await faulty
    return response, elapsed[0], healthy, faulty_pending


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_backend_fault_reads_as_its_table_row(
    case: Case, backends: Backends, sim: Sim, lbhealth_server: Serve
) -> None:
    healthy = sim({"/": IIS_WELCOME})
    spec = faulty_check(case, backends)
    lb = lbhealth_server(faulty_inventory(spec, healthy.url(), case.budget), ready=False)
    response, elapsed, healthy_codes, faulty_pending = asyncio.run(probe_both(lb))
    assert response.status_code == 503
    assert re.fullmatch(case.pattern(spec["kind"]), response.text, re.S), (
        f"{response.text!r} is not the documented {case.documented!r}"
    )
    # The bound: a timeout row's answer comes within its timeout (plus scheduling
    # slack); an immediate row's comes without waiting for its (long) timeout.
    if case.waits_for_timeout:
        assert elapsed <= TIMEOUT + MARGIN
        assert faulty_pending  # the healthy node was served while the probe waited
    else:
        assert elapsed < IMMEDIATE_BUDGET
    assert healthy_codes == [200] * 5


@pytest.mark.parametrize(
    ("path", "max_sent"),
    [("/one-gib", 64 << 20), ("/gzip-bomb", 1 << 20), ("/headers-200k", 1 << 20)],
)
def test_oversized_answers_are_read_only_up_to_the_cap(
    path: str, max_sent: int, backends: Backends, bg: BackgroundLoop
) -> None:
    target = f"{path}?probe={time.monotonic_ns()}"  # this test's own connection

    async def run() -> Any:
        async with new_client() as client:
            return await probe_http(client, HttpTarget(backends.plain.url(target)), 5, CAP)

    observation = bg.run(run())
    assert observation.error == "too-large"
    # docs/endpoints.md: never more than max_body plus one 64 KiB read.
    assert observation.bytes_read <= CAP + BODY_READ_SLACK
    # The backend could hand the kernel only a bounded amount before lbhealth
    # hung up: 1 GiB was offered.
    sent = wait_until(lambda: backends.plain.sent_to.get(target), lambda n: n is not None)
    assert sent <= max_sent


def test_redirect_loop_stops_after_five_redirects(
    backends: Backends, sim: Sim, lbhealth_server: Serve
) -> None:
    before = backends.plain.hits["/redirect-loop"]
    case = next(c for c in CASES if c.name == "redirect-loop")
    healthy = sim({"/": IIS_WELCOME}).url()
    lb = lbhealth_server(faulty_inventory(faulty_check(case, backends), healthy, TIMEOUT))
    assert httpx.get(f"{lb.url}/health/faulty", timeout=10).status_code == 503
    # docs/endpoints.md: "(6 requests reach the backend)"
    assert backends.plain.hits["/redirect-loop"] - before == 6


@pytest.mark.parametrize(
    ("path", "code", "text"),
    [
        ("/rmi-cp1252", 200, "UP\n"),
        ("/rmi-bad-utf8", 503, TABLE["body in Windows-1252, or invalid UTF-8"][0][0]),
    ],
)
def test_odd_encodings_are_still_interpreted(
    path: str, code: int, text: str, backends: Backends, sim: Sim, lbhealth_server: Serve
) -> None:
    spec = check("rmi-objects", backends.plain.url(path))
    lb = lbhealth_server(faulty_inventory(spec, sim({"/": IIS_WELCOME}).url(), TIMEOUT))
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
    nodes["healthy"] = node("iis", sim({"/": IIS_WELCOME}).url())
    settings = {"mode": "on-demand", "timeout": TIMEOUT, "max_body": CAP, "cache_ttl": 0.2}
    lb = lbhealth_server(inventory(nodes, **settings), ready=False)

    async def run() -> tuple[dict[str, int], list[int]]:
        async with httpx.AsyncClient(base_url=lb.url, timeout=30) as client:
            faulty = {c.name: asyncio.create_task(client.get(f"/health/{c.name}")) for c in CASES}
            healthy = []

            async def ask_healthy() -> bool:
                healthy.append((await client.get("/health/healthy")).status_code)
                return all(t.done() for t in faulty.values())

            await wait_until_async(ask_healthy)  # ...until every faulty node has answered
            return {n: (await t).status_code for n, t in faulty.items()}, healthy

    faulty_codes, healthy_codes = asyncio.run(run())
    assert faulty_codes == {c.name: 503 for c in CASES}
    assert len(healthy_codes) >= 5 and set(healthy_codes) == {200}
