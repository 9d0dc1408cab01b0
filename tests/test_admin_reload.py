"""Admin API, config reload without loss, secrets kept out of sight, structured logs."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from lbhealth.app.logs import JsonFormatter, quiet_libraries
from lbhealth.demo.cluster import IIS_APPPOOL_STOPPED, IIS_WELCOME
from lbhealth.demo.simserver import SimServer
from tests import faults
from tests._admin import AUTH, TOKEN
from tests._inventory import inventory, node, same_kind, write
from tests._poll import wait_ready, wait_until, wait_until_async
from tests._process import lbhealth_command, running
from tests._servers import BackgroundLoop, Running, free_port

Sim = Callable[..., SimServer]
Serve = Callable[[dict[str, Any] | Path], Running]
T = TypeVar("T")


def config(nodes: dict[str, str], **settings: Any) -> dict[str, Any]:
    """Single-check IIS nodes (name -> URL), the admin API on, a long cache."""
    return same_kind("iis", nodes, **{"admin_token": TOKEN, "cache_ttl": 60, **settings})


@pytest.fixture(autouse=True)
def production_log_policy() -> None:
    """The library log levels ``lbhealth serve`` sets (caplog replaces its handler)."""
    quiet_libraries()


def log_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Captured records as the JSON lines lbhealth would write."""
    formatter = JsonFormatter()
    return [formatter.format(r) for r in caplog.records]


async def hammer(url: str, stop: asyncio.Event, codes: list[int]) -> None:
    """Monitors polling throughout a reload."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        while not stop.is_set():
            for name in ("web1", "web2"):
                codes.append((await client.get(f"/health/{name}")).status_code)


async def under_load(
    url: str, act: Callable[[], Awaitable[T]], done: Callable[[], Awaitable[object]]
) -> tuple[T, list[int]]:
    """Monitors poll; once they are at it, ``act()``; they keep polling until ``done()``.

    Returns what ``act`` returned and every status the monitors got.
    """
    codes: list[int] = []
    stop = asyncio.Event()
    pollers = [asyncio.create_task(hammer(url, stop, codes)) for _ in range(4)]

    async def polled(more: int) -> None:
        target = len(codes) + more
        await wait_until_async(lambda: len(codes), lambda n: n >= target)

    try:
        await polled(20)  # the monitors are polling
        result = await act()
        await done()
        await polled(20)  # ...and still are, after the change
    finally:
        stop.set()
        await asyncio.gather(*pollers)
    return result, codes


async def reload_under_load(
    url: str, rewrite: Callable[[], None]
) -> tuple[httpx.Response, list[int]]:
    async def post_reload() -> httpx.Response:
        rewrite()
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            return await client.post("/admin/reload", headers=AUTH)

    return await under_load(url, post_reload, lambda: asyncio.sleep(0))


def test_reload_applies_valid_config_keeping_unchanged_verdicts(
    sim: Sim, lbhealth_server: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    a, b, c = sim({"/": IIS_WELCOME}), sim({"/": IIS_APPPOOL_STOPPED}), sim({"/": IIS_WELCOME})
    # A long interval: no scheduled probe of web1 while the test runs, however slowly.
    path = write(tmp_path / "inv.yaml", config({"web1": a.url(), "web2": b.url()}, interval=60))
    lb = lbhealth_server(path)
    web1_before = httpx.get(f"{lb.url}/health/web1?format=json").json()["checks"][0]
    new = config({"web1": a.url(), "web2": c.url(), "web3": c.url()}, interval=60)
    response, codes = asyncio.run(reload_under_load(lb.url, lambda: write(path, new)))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "reloaded" and (body["kept"], body["new"], body["removed"]) == (
        1,
        2,
        0,
    )
    assert response.headers["x-request-id"] == body["request_id"]
    # No monitor request failed or got anything but a verdict during the reload.
    assert len(codes) > 20 and set(codes) <= {200, 503}
    wait_ready(lb.url)  # the new and changed checks are probed without waiting for a monitor
    assert httpx.get(f"{lb.url}/health/web2").status_code == 200  # the change took effect
    assert httpx.get(f"{lb.url}/health/web3").status_code == 200
    # web1's spec did not change: same verdict, not probed again.
    assert httpx.get(f"{lb.url}/health/web1?format=json").json()["checks"][0] == web1_before
    assert a.hits["/"] == 1
    reloaded = [r for r in caplog.records if r.name == "lbhealth.reload"]
    assert reloaded[-1].__dict__["request_id"] == body["request_id"]
    assert reloaded[-1].__dict__["action"] == "reload"


def test_reload_removing_a_node_stops_serving_its_prebuilt_answer(
    sim: Sim, lbhealth_server: Serve, tmp_path: Path
) -> None:
    a, b = sim({"/": IIS_WELCOME}), sim({"/": IIS_WELCOME})
    path = write(tmp_path / "inv.yaml", config({"web1": a.url(), "web2": b.url()}, interval=60))
    lb = lbhealth_server(path)
    assert httpx.get(f"{lb.url}/health/web2").status_code == 200  # served prebuilt
    write(path, config({"web1": a.url()}, interval=60))
    response = httpx.post(f"{lb.url}/admin/reload", headers=AUTH)
    assert response.json()["removed"] == 1
    gone = httpx.get(f"{lb.url}/health/web2")
    assert gone.status_code == 404 and gone.text.startswith("UNKNOWN:")
    # The kept node keeps its verdict and its schedule: no extra probe on reload.
    assert httpx.get(f"{lb.url}/health/web1").status_code == 200
    assert a.hits["/"] == 1


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        ({}, []),
        ({"agent_port": 15555}, ["agent_port"]),
        ({"port": 1, "host": "0.0.0.0"}, ["host", "port"]),
        (
            {
                "log_level": "debug",
                "access_log": True,
                "max_connections": 7,
                "keep_alive_timeout": 9,
                "history_size": 3,
            },
            ["log_level", "access_log", "max_connections", "keep_alive_timeout", "history_size"],
        ),
    ],
)
def test_reload_names_changed_settings_that_need_a_restart(
    sim: Sim,
    lbhealth_server: Serve,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    changed: dict[str, Any],
    expected: list[str],
) -> None:
    caplog.set_level(logging.INFO)
    url = sim({"/": IIS_WELCOME}).url()
    path = write(tmp_path / "inv.yaml", config({"web1": url}))
    lb = lbhealth_server(path)
    running = lb.app.engine.inventory.settings
    write(path, config({"web1": url}, cache_ttl=30, **changed))
    response = httpx.post(f"{lb.url}/admin/reload", headers=AUTH)
    assert response.status_code == 200
    assert response.json()["restart_needed"] == expected
    # The reload applied what it can and kept serving with the running startup values.
    settings = lb.app.engine.inventory.settings
    assert settings.cache_ttl == 30
    assert [getattr(settings, n) for n in expected] == [getattr(running, n) for n in expected]
    assert httpx.get(f"{lb.url}/health/web1").status_code == 200
    # Still due at the next reload: the restart has not happened yet.
    again = httpx.post(f"{lb.url}/admin/reload", headers=AUTH)
    assert again.json()["restart_needed"] == expected
    reloaded = [r for r in caplog.records if r.name == "lbhealth.reload"][-1]
    assert reloaded.__dict__["restart_needed"] == expected
    if expected:
        assert reloaded.levelno == logging.WARNING
        assert f"restart needed for {', '.join(expected)}" in reloaded.getMessage()
    else:
        assert "restart" not in reloaded.getMessage()


def test_reloaded_admin_token_guards_every_admin_route(
    sim: Sim, lbhealth_server: Serve, tmp_path: Path
) -> None:
    path = write(tmp_path / "inv.yaml", config({"web1": sim({"/": IIS_WELCOME}).url()}))
    lb = lbhealth_server(path)
    rotated = "r0tated-T0ken-51b2"
    write(path, config({"web1": sim({"/": IIS_WELCOME}).url()}, admin_token=rotated))
    assert httpx.post(f"{lb.url}/admin/reload", headers=AUTH).status_code == 200
    new_auth = {"Authorization": f"Bearer {rotated}"}
    assert httpx.get(f"{lb.url}/admin/nodes", headers=AUTH).status_code == 401
    assert httpx.get(f"{lb.url}/admin/nodes", headers=new_auth).status_code == 200
    drained = httpx.put(
        f"{lb.url}/admin/nodes/web1/state", json={"state": "drain"}, headers=new_auth
    )
    assert drained.status_code == 200
    old = httpx.put(f"{lb.url}/admin/nodes/web1/state", json={"state": "maint"}, headers=AUTH)
    assert old.status_code == 401


def test_reload_shortening_cache_ttl_applies_to_prebuilt_answers(
    sim: Sim, lbhealth_server: Serve, tmp_path: Path
) -> None:
    backend = sim({"/": IIS_WELCOME})
    path = write(tmp_path / "inv.yaml", config({"web1": backend.url()}, mode="on-demand"))
    lb = lbhealth_server(path)  # cache_ttl 60: the warm-up probe serves for a minute
    assert backend.hits["/"] == 1
    write(path, config({"web1": backend.url()}, mode="on-demand", cache_ttl="300ms"))
    assert httpx.post(f"{lb.url}/admin/reload", headers=AUTH).status_code == 200
    # Under the old TTL no request would probe for a minute; under the new one a
    # request made more than 300 ms after the last probe probes again.
    before = backend.hits["/"]
    wait_until(
        lambda: (httpx.get(f"{lb.url}/health/web1").status_code, backend.hits["/"]),
        lambda seen: seen[0] == 200 and seen[1] > before,
    )


def test_invalid_config_is_rejected_and_old_one_keeps_serving(
    sim: Sim, lbhealth_server: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    a = sim({"/": IIS_WELCOME})
    path = write(tmp_path / "inv.yaml", config({"web1": a.url(), "web2": a.url()}))
    lb = lbhealth_server(path)
    broken = config({"web1": "ftp://user:pa55word-xyz@host/", "web2": a.url()})
    broken["settings"]["cache_ttl"] = "soon"
    response, codes = asyncio.run(reload_under_load(lb.url, lambda: write(path, broken)))

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert any(e.startswith("nodes.web1.checks[0].url: ") for e in errors)
    assert any(e.startswith("settings.cache_ttl: ") for e in errors)
    assert "pa55word-xyz" not in response.text  # URL credentials masked in errors too
    assert set(codes) <= {200, 503} and len(codes) > 20
    assert httpx.get(f"{lb.url}/health/web1").status_code == 200  # still the old config
    rejected = [r for r in caplog.records if "reload rejected" in r.getMessage()]
    assert rejected and rejected[0].levelno == logging.ERROR
    assert "nodes.web1.checks[0].url" in rejected[0].getMessage()
    assert all("pa55word-xyz" not in line for line in log_lines(caplog))


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": f"Bearer {TOKEN[:-1]}"}, 401),  # a prefix is not the token
        ({"Authorization": f"Basic {TOKEN}"}, 401),
        ({"Authorization": TOKEN}, 401),
    ],
)
def test_admin_needs_the_bearer_token(
    headers: dict[str, str], code: int, sim: Sim, lbhealth_server: Serve, tmp_path: Path
) -> None:
    path = write(tmp_path / "inv.yaml", config({"web1": sim({"/": IIS_WELCOME}).url()}))
    lb = lbhealth_server(path)
    response = httpx.post(f"{lb.url}/admin/reload", headers=headers)
    assert response.status_code == code
    assert response.json() == {"detail": "unauthorized"}  # nothing about why
    assert response.headers["www-authenticate"] == "Bearer"


def test_admin_is_disabled_without_a_token(sim: Sim, lbhealth_server: Serve) -> None:
    lb = lbhealth_server(inventory({"web1": node("iis", "http://x/")}))
    response = httpx.post(f"{lb.url}/admin/reload", headers=AUTH)
    assert response.status_code == 403
    assert "admin API disabled" in response.text


def test_request_id_is_propagated_or_generated(
    sim: Sim, lbhealth_server: Serve, tmp_path: Path
) -> None:
    path = write(tmp_path / "inv.yaml", config({"web1": sim({"/": IIS_WELCOME}).url()}))
    lb = lbhealth_server(path)
    mine = httpx.post(f"{lb.url}/admin/reload", headers={**AUTH, "X-Request-ID": "lb-42.a"})
    assert mine.headers["x-request-id"] == "lb-42.a" and mine.json()["request_id"] == "lb-42.a"
    forged = httpx.post(f"{lb.url}/admin/reload", headers={**AUTH, "X-Request-ID": "a b\tc"})
    assert forged.headers["x-request-id"] != "a b\tc" and len(forged.headers["x-request-id"]) == 32
    refused = httpx.post(f"{lb.url}/admin/reload", headers={"X-Request-ID": "lb-43"})
    assert refused.status_code == 401 and refused.headers["x-request-id"] == "lb-43"


async def echo_authorization(conn: faults.Conn) -> None:
    """A debug page that echoes the request's credentials in its title, as some do."""
    auth = next(
        (line for line in conn.request.decode().split("\r\n") if line.lower().startswith("auth")),
        "",
    )
    host = conn.request.decode().split("\r\n")[0]
    page = f"<html><title>Denied {auth} {host}</title></html>".encode()
    await faults.page(page, "Content-Type: text/html", status="500 Internal Server Error")(conn)


@pytest.fixture
def echo(bg: BackgroundLoop) -> Iterator[faults.FaultServer]:
    server = bg.run(faults.FaultServer({"/echo": echo_authorization}).start())
    yield server
    bg.run(server.stop())


def test_secrets_never_appear_in_views_reasons_or_logs(
    echo: faults.FaultServer,
    lbhealth_server: Serve,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    header_secret, url_secret = "hdr-S3cret-4417", "url-S3cret-9921"
    echo_url = f"http://127.0.0.1:{echo.port}/echo"
    nodes = {
        "web1": node("http", echo_url, headers={"Authorization": f"Bearer {header_secret}"}),
        "web2": node("http", echo_url.replace("//", f"//svc:{url_secret}@")),
    }
    lb = lbhealth_server(write(tmp_path / "inv.yaml", inventory(nodes, admin_token=TOKEN)))
    texts = []
    for path in ("/health/web1", "/health/web2", "/health/web2?format=json", "/nodes"):
        response = httpx.get(f"{lb.url}{path}", timeout=10)
        texts.append(str(response.headers) + response.text)
    for headers in (AUTH, {"Authorization": "Bearer nope"}, {}):
        response = httpx.post(f"{lb.url}/admin/reload", headers=headers)
        texts.append(str(response.headers) + response.text)
    assert echo.hits["/echo"] >= 1
    # The backend got the credentials and echoed them; lbhealth masked them.
    assert "Denied Authorization: *** GET" in texts[0]
    assert "Denied Authorization: Basic ***" in texts[1]
    assert "***@127.0.0.1" in texts[2]
    basic = base64.b64encode(f"svc:{url_secret}".encode()).decode()
    for secret in (TOKEN, header_secret, url_secret, basic):
        assert not [t for t in texts if secret in t], secret
        assert not [line for line in log_lines(caplog) if secret in line], secret


def test_one_log_line_per_verdict_change_and_none_per_cached_request(
    sim: Sim, lbhealth_server: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    backend = sim({"/": IIS_APPPOOL_STOPPED})
    lb = lbhealth_server(config({"web1": backend.url()}, interval=60))  # returns once probed
    # The result is stored, then its change logged, in one turn of the serving loop: an answer
    # from that loop comes after both (the stored result alone may be seen before the log line).
    wait_ready(lb.url)
    changes = [r for r in caplog.records if r.name == "lbhealth.engine"]
    assert len(changes) == 1
    line = json.loads(JsonFormatter().format(changes[0]))
    assert (line["node"], line["check"], line["old"], line["new"]) == (
        "web1",
        "iis",
        "none",
        "DOWN",
    )
    assert "HTTP 503" in line["reason"]
    caplog.clear()
    with httpx.Client() as client:
        for _ in range(50):
            assert client.get(f"{lb.url}/health/web1").status_code == 503
    assert caplog.records == []


def test_sighup_reloads_a_real_process_without_dropping_requests(sim: Sim, tmp_path: Path) -> None:
    a, b = sim({"/": IIS_WELCOME}), sim({"/": IIS_APPPOOL_STOPPED})
    path = write(tmp_path / "inv.yaml", config({"web1": a.url(), "web2": b.url()}))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LBHEALTH_LOG_LEVEL": "info"}
    log = tmp_path / "serve.log"
    command = lbhealth_command("serve", "--config", str(path), "--port", str(port))

    def reloads() -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        return [line for line in lines if line.get("action") == "reload"]

    with running(command, log, env) as process:
        wait_ready(url, process=process)

        def hup(data: dict[str, Any]) -> Callable[[], Awaitable[None]]:
            async def act() -> None:
                write(path, data)
                process.send_signal(signal.SIGHUP)

            return act

        async def web2_up() -> None:
            async with httpx.AsyncClient(base_url=url, timeout=10) as client:
                await wait_until_async(
                    lambda: client.get("/health/web2"), lambda r: r.status_code == 200
                )

        _, codes = asyncio.run(
            under_load(url, hup(config({"web1": a.url(), "web2": a.url()})), web2_up)
        )
        assert len(codes) > 40 and set(codes) <= {200, 503}
        _, codes = asyncio.run(
            under_load(
                url, hup(inventory({})), lambda: wait_until_async(reloads, lambda r: len(r) == 2)
            )
        )
        assert len(codes) > 40 and set(codes) <= {200, 503}
        assert httpx.get(f"{url}/health/web2").status_code == 200  # old config still serves
        assert process.poll() is None
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    # Hundreds of monitor requests and probes, no line for any of them.
    assert not [line for line in lines if line["logger"] in ("httpx", "uvicorn.access")]
    assert [(r["level"], r["trigger"]) for r in reloads()] == [
        ("info", "SIGHUP"),
        ("error", "SIGHUP"),
    ]
    assert reloads()[1]["errors"] == ["nodes: needs at least one entry"]


def test_drain_and_maint_actions_are_logged_with_the_request_id(
    sim: Sim, lbhealth_server: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    path = write(tmp_path / "inv.yaml", config({"web1": sim({"/": IIS_WELCOME}).url()}))
    lb = lbhealth_server(path)
    response = httpx.put(
        f"{lb.url}/admin/nodes/web1/state",
        json={"state": "drain", "reason": "patching"},
        headers={**AUTH, "X-Request-ID": "change-1234"},
    )
    assert response.status_code == 200 and response.headers["x-request-id"] == "change-1234"
    changes = [r for r in caplog.records if r.getMessage().startswith("admin state web1")]
    assert [r.__dict__.get("request_id") for r in changes] == ["change-1234"]
    assert all(TOKEN not in line for line in log_lines(caplog))
