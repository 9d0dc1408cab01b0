"""The prober's bounds against real sockets: caps, timeouts, precise reasons."""

from __future__ import annotations

import gzip
import tracemalloc
from collections.abc import Callable

from lbhealth.demo.simserver import Page, SimServer
from lbhealth.probe import HttpTarget, new_client, probe_http, probe_tcp
from tests._servers import BackgroundLoop, free_port

Sim = Callable[..., SimServer]


def probe(
    bg: BackgroundLoop, url: str, timeout: float = 3, max_body: int = 1 << 20, **target: object
) -> object:
    async def run() -> object:
        async with new_client() as client:
            return await probe_http(client, HttpTarget(url, **target), timeout, max_body)  # type: ignore[arg-type]

    return bg.run(run())


def test_body_over_cap_is_too_large_and_reading_stops(sim: Sim, bg: BackgroundLoop) -> None:
    backend = sim({"/": Page(200, [], b"x" * 5_000_000)})
    obs = probe(bg, backend.url(), max_body=64 * 1024)
    assert obs.error == "too-large"  # type: ignore[attr-defined]
    assert "65536-byte cap" in obs.detail  # type: ignore[attr-defined]
    # Reading stopped near the cap, not at the 5 MB the backend offered.
    assert obs.bytes_read <= 64 * 1024 + 65536  # type: ignore[attr-defined]


def test_gzip_bomb_is_bounded_by_inflated_size(sim: Sim, bg: BackgroundLoop) -> None:
    bomb = gzip.compress(b"\0" * 200_000_000, compresslevel=9)
    assert len(bomb) < 300_000
    backend = sim({"/": Page(200, [("Content-Encoding", "gzip")], bomb)})
    obs = probe(bg, backend.url(), max_body=1 << 20)
    assert obs.error == "too-large"  # type: ignore[attr-defined]


def test_gzip_body_is_decoded(sim: Sim, bg: BackgroundLoop) -> None:
    backend = sim({"/": Page(200, [("Content-Encoding", "gzip")], gzip.compress(b"hello"))})
    obs = probe(bg, backend.url())
    assert obs.answer is not None and obs.answer.body == b"hello"  # type: ignore[attr-defined]


def test_redirect_is_not_followed_by_default(sim: Sim, bg: BackgroundLoop) -> None:
    backend = sim({"/": Page(302, [("Location", "/next")], b""), "/next": Page(200, [], b"ok")})
    obs = probe(bg, backend.url())
    assert obs.answer.status == 302  # type: ignore[attr-defined]
    assert backend.hits["/next"] == 0


def test_redirect_loop_is_bounded_when_following(sim: Sim, bg: BackgroundLoop) -> None:
    backend = sim({"/": Page(302, [("Location", "/")], b"")})
    obs = probe(bg, backend.url(), follow_redirects=True)
    assert obs.error == "redirects"  # type: ignore[attr-defined]
    assert backend.hits["/"] <= 6


def test_user_agent_and_custom_headers_are_sent(sim: Sim, bg: BackgroundLoop) -> None:
    backend = sim({"/": Page(200, [], b"ok")})
    probe(bg, backend.url(), headers=(("Host", "eim.example.com"), ("X-Trace", "1")))
    seen = backend.last_headers["/"]
    assert seen["user-agent"].startswith("lbhealth/")
    assert seen["host"] == "eim.example.com" and seen["x-trace"] == "1"


def test_tcp_probe_refused_and_ok(bg: BackgroundLoop, tcp_listener: object) -> None:
    ok = bg.run(probe_tcp("127.0.0.1", tcp_listener.port, 2))  # type: ignore[attr-defined]
    assert ok.error is None
    port = free_port()
    refused = bg.run(probe_tcp("127.0.0.1", port, 2))
    assert refused.error == "refused" and f"127.0.0.1:{port}" in refused.detail


def test_followed_redirect_body_is_never_read(sim: Sim, bg: BackgroundLoop) -> None:
    """A redirect's body (here a gzip bomb) is skipped, not inflated into memory."""
    bomb = gzip.compress(b"\0" * 200_000_000, compresslevel=9)
    redirect = Page(302, [("Location", "/next"), ("Content-Encoding", "gzip")], bomb)
    backend = sim({"/": redirect, "/next": Page(200, [], b"ok")})
    tracemalloc.start()
    try:
        obs = probe(bg, backend.url(), follow_redirects=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert obs.answer is not None and obs.answer.body == b"ok"  # type: ignore[attr-defined]
    assert backend.hits["/next"] == 1
    assert peak < 16 * 1024 * 1024, f"peak {peak} bytes while following a redirect"


def test_url_credentials_are_sent_as_basic_auth(sim: Sim, bg: BackgroundLoop) -> None:
    backend = sim({"/": Page(200, [], b"ok")})
    probe(bg, backend.url().replace("://", "://admin:p%40ss@"))
    # base64("admin:p@ss"): the form text/redact.py masks when a page echoes it.
    assert backend.last_headers["/"]["authorization"] == "Basic YWRtaW46cEBzcw=="


def test_each_probe_is_a_new_client_without_earlier_cookies(sim: Sim, bg: BackgroundLoop) -> None:
    page = Page(200, [("Set-Cookie", "JSESSIONID=abc123; Path=/")], b"ok")
    backend = sim({"/": page})
    for _ in range(2):
        obs = probe(bg, backend.url())
        assert obs.answer.status == 200  # type: ignore[attr-defined]
        seen = backend.last_headers["/"]
        assert seen["connection"] == "close" and "cookie" not in seen


def test_a_redirect_chain_carries_its_cookies_and_drops_credentials_off_origin(
    sim: Sim, bg: BackgroundLoop
) -> None:
    other = sim({"/away": Page(200, [], b"elsewhere")}, host="127.0.0.2")
    login = Page(302, [("Location", "/app"), ("Set-Cookie", "JSESSIONID=s1; Path=/")], b"")
    backend = sim({"/": login, "/app": Page(302, [("Location", other.url("/away"))], b"")})
    obs = probe(bg, backend.url().replace("://", "://u:secret-pw@"), follow_redirects=True)
    assert obs.answer.body == b"elsewhere"  # type: ignore[attr-defined]
    assert backend.last_headers["/app"]["cookie"] == "JSESSIONID=s1"
    assert "authorization" in backend.last_headers["/app"]
    away = other.last_headers["/away"]
    assert "authorization" not in away and "cookie" not in away
    assert away["host"] == f"127.0.0.2:{other.port}"


def test_a_cross_origin_redirect_drops_every_credential_header(
    sim: Sim, bg: BackgroundLoop
) -> None:
    """Not only Authorization: any header the redaction rules call a credential stays home."""
    other = sim({"/away": Page(200, [], b"elsewhere")}, host="127.0.0.2")
    backend = sim({"/": Page(302, [("Location", other.url("/away"))], b"")})
    headers = (("X-Auth-Token", "t0ken-value"), ("X-Api-Key", "k3y-value"), ("X-Trace", "t1"))
    obs = probe(bg, backend.url(), follow_redirects=True, headers=headers)
    assert obs.answer.body == b"elsewhere"  # type: ignore[attr-defined]
    assert backend.last_headers["/"]["x-auth-token"] == "t0ken-value"
    away = other.last_headers["/away"]
    assert "x-auth-token" not in away and "x-api-key" not in away
    assert away["x-trace"] == "t1"  # an ordinary header goes along
