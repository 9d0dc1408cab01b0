"""The shared store's pieces on their own, each against a real redis-server.

Probe side: a lease has one holder, renewed only by it; a published result is
stored with its probe's wall time, pushed to subscribers, and renews only its
publisher's lease (the gate over them: ``tests/test_store_probe_side.py``). Serve
side: the subscription, the snapshot, shared verdicts that are not results (the
admin state: ``tests/test_store_admin.py``). The link: its timeout, its health
state machine (every transition logged and counted), its recovery, a hung
sentinel, and a password that never shows.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from lbhealth.admin.reload import RESTART_ONLY
from lbhealth.app.sharing import Sharing
from lbhealth.app.workers import check_workers
from lbhealth.config import ConfigError, parse_inventory
from lbhealth.config.store_url import parse_store_url
from lbhealth.core.engine import Engine
from lbhealth.demo.cluster import IIS_WELCOME
from lbhealth.demo.simserver import SimServer
from lbhealth.store.admin import AdminStore
from lbhealth.store.follow import Subscription, snapshot
from lbhealth.store.lease import Leases
from lbhealth.store.link import StoreLink, StoreUnavailable
from lbhealth.store.publish import Outgoing, ResultPublisher
from lbhealth.store.shared import RESULTS, SharedResult, lease_key, verdict_key
from lbhealth.verdict import CheckResult, Status
from tests._redis import RedisServer, Sentinel, eventually
from tests._servers import Running, free_port

PASSWORD = "s3cret-Redis-pass-77"
TOKEN = "store-admin-T0ken-66"
RESULT = CheckResult(
    name="iis",
    kind="iis",
    target="http://127.0.0.1:9/",
    status=Status.UP,
    reason="IIS answered 200",
    latency=0.0125,
    checked_at=1_700_000_000.5,
    details={"server": "Microsoft-IIS/10.0"},
)


async def connected(url: str) -> StoreLink:
    link = StoreLink(url)
    assert await link.recover()
    return link


async def test_a_lease_has_one_holder_renewed_only_by_it(redis_server: RedisServer) -> None:
    a, b = await connected(redis_server.url()), await connected(redis_server.url())
    mine, theirs = Leases(a), Leases(b)
    assert await mine.hold("web1/iis/x", 5.0)
    assert not await theirs.hold("web1/iis/x", 5.0)
    assert await mine.hold("web1/iis/x", 5.0)  # the holder renews
    assert await theirs.holder("web1/iis/x") == a.instance
    assert 4000 < redis_server.client().pttl(lease_key("web1/iis/x")) <= 5000
    await mine.release_all()
    assert await theirs.holder("web1/iis/x") is None
    # A lease nobody renews expires, and only then can another instance take it.
    assert await theirs.hold("web1/iis/x", 0.3)
    assert not await mine.hold("web1/iis/x", 5.0)
    refused = 0
    while not await mine.hold("web1/iis/x", 5.0):
        refused += 1
        await asyncio.sleep(0.02)
    assert refused >= 1
    assert not await theirs.hold("web1/iis/x", 5.0)  # it learns it lost the lease
    assert (mine.held, theirs.held) == ({"web1/iis/x"}, set())
    await asyncio.gather(a.aclose(), b.aclose())


async def test_a_result_is_stored_pushed_and_renews_only_its_publishers_lease(
    redis_server: RedisServer,
) -> None:
    a, b = await connected(redis_server.url()), StoreLink(redis_server.url())
    pushed: list[bytes] = []
    subscription = Subscription(b)
    subscription.handle(RESULTS, pushed.append)
    b.on_recovery(subscription.resubscribe)
    assert await b.recover()
    publisher, leases = ResultPublisher(a), Leases(a)
    sending = asyncio.create_task(publisher.run())
    shared = SharedResult("web1/iis/x", RESULT, time.time() - 1.0, a.instance)
    assert await leases.hold("web1/iis/x", 1.0)
    publisher.offer(shared, lifetime=20.0, lease_ttl=30.0)
    await eventually(lambda: len(pushed) == 1)
    assert SharedResult.decode(pushed[0]) == shared  # wall time and result, exactly
    assert await snapshot(b, ["web1/iis/x", "web2/iis/y"]) == [shared]
    client = redis_server.client()
    assert 0 < client.pttl(verdict_key("web1/iis/x")) <= 20_000  # gone once stale
    assert 1000 < client.pttl(lease_key("web1/iis/x")) <= 30_000  # renewed by its holder
    # Another instance publishing the same check does not renew a lease it does not hold.
    other = SharedResult("web1/iis/x", RESULT, time.time(), b.instance)
    await ResultPublisher(b).send(Outgoing(other, 20.0, 60.0))
    assert client.pttl(lease_key("web1/iis/x")) <= 30_000
    assert client.get(lease_key("web1/iis/x")) == a.instance.encode()
    sending.cancel()
    await subscription.aclose()
    await asyncio.gather(a.aclose(), b.aclose())


async def test_results_are_dropped_not_queued_while_the_store_is_lost(
    redis_server: RedisServer,
) -> None:
    link = await connected(redis_server.url())
    publisher = ResultPublisher(link)
    link.health.failed("test: store lost")
    publisher.offer(SharedResult("k", RESULT, time.time(), link.instance), 10.0)
    assert (publisher.dropped, publisher.sent) == (1, 0)
    assert redis_server.client().get(verdict_key("k")) is None
    await link.aclose()


def test_a_shared_result_that_is_not_one_is_refused() -> None:
    for raw in (b"{", b"[]", b'{"key": "k"}', json.dumps({"key": 1, "result": {}}).encode()):
        with pytest.raises(ValueError, match="not a shared result"):
            SharedResult.decode(raw)


async def test_shared_verdicts_that_are_not_results_are_skipped_and_the_store_connects(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Values under ``lbhealth:verdict:*`` or on the channel that are not results (another
    writer, a damaged store) are logged and skipped: the link connects, the rest is served."""
    nodes = {n: {"checks": [{"kind": "tcp", "address": "127.0.0.1:9"}]} for n in ("a", "b", "c")}
    engine = Engine(parse_inventory({"nodes": nodes}, "test"))
    sharing = Sharing(engine, AdminStore(engine.inventory), redis_server.url(), probing=False)
    checks = [engine.checks[n][0] for n in nodes]
    keys = [sharing.index.key(check) for check in checks]
    good = SharedResult(keys[2], RESULT, time.time() - 1, "another")
    client = redis_server.client()
    client.set(verdict_key(keys[0]), json.dumps({**good.to_json(), "result": "oops"}))
    client.set(verdict_key(keys[1]), json.dumps({**good.to_json(), "probed_at": 10**400}))
    client.set(verdict_key(keys[2]), good.encode())
    await sharing.start()
    try:
        assert sharing.link.health.state == "connected"
        assert engine.current(checks[2]).reason == RESULT.reason
        assert engine.current(checks[0]).reason == "not probed yet"
        pushed = dataclasses.replace(RESULT, reason="pushed")
        later = SharedResult(keys[1], pushed, time.time(), "another")
        for bad in ("[" * 100_000, json.dumps({**later.to_json(), "probed_at": float("nan")})):
            client.publish(RESULTS, bad)
        client.publish(RESULTS, later.encode())
        await eventually(lambda: engine.current(checks[1]).reason == "pushed")
    finally:
        await sharing.stop()
    skipped = [r.getMessage() for r in caplog.records if "shared verdict" in r.getMessage()]
    assert len(skipped) == 2 and "probed_at is out of range" in skipped[1]
    assert caplog.text.count("ignoring a result from the store") == 2


async def test_a_hung_store_is_unreachable_then_recovered_without_help(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, redis_server: RedisServer
) -> None:
    """SIGSTOP: every call is cut at the timeout; SIGCONT: back in sync, every step logged."""
    caplog.set_level(logging.INFO, "lbhealth.store")
    server = RedisServer(tmp_path / "auth", password=PASSWORD).start()
    resyncs: list[float] = []

    async def resync() -> None:
        resyncs.append(time.monotonic())

    link = StoreLink(server.url())
    link.on_recovery(resync)
    assert await link.recover()
    supervising = asyncio.create_task(link.supervise(every=0.1))
    server.pause()
    try:
        await eventually(lambda: link.health.state == "unreachable")
        with pytest.raises(StoreUnavailable) as refused:
            await link.call("get", link.client.get("anything"))
    finally:
        server.resume()
    await eventually(lambda: link.health.state == "connected")
    supervising.cancel()
    await link.aclose()
    server.stop()
    moves = [(r.from_state, r.to_state) for r in caplog.records if hasattr(r, "to_state")]
    assert moves[0] == ("recovering", "connected")
    assert ("connected", "unreachable") in moves
    assert moves[-2:] == [("unreachable", "recovering"), ("recovering", "connected")]
    assert link.health.transitions["connected"] == moves.count(("recovering", "connected"))
    assert len(resyncs) == link.health.transitions["connected"] >= 2
    shown = [str(refused.value), link.health.last_error, caplog.text]
    assert "no answer within 0.5s" in str(refused.value)
    assert all(PASSWORD not in text for text in shown)
    assert "redis://***@127.0.0.1" in str(refused.value)


async def test_a_wrong_password_is_a_clear_error_that_shows_none(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "auth", password=PASSWORD).start()
    link = StoreLink(server.url().replace(PASSWORD, "wrong-pass-1234"))
    try:
        assert not await link.recover()
    finally:
        await link.aclose()
        server.stop()
    assert link.health.state == "unreachable"
    assert "AuthenticationError" in link.health.last_error
    assert "wrong-pass-1234" not in link.health.last_error


async def test_a_hung_sentinel_listed_first_does_not_keep_the_store_away(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """A sentinel that accepts connections but never answers (a stopped one) is listed first:
    the other one names the master, at the first try and at every reconnection."""
    sentinel = Sentinel(tmp_path / "sentinel", redis_server).start()
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(64)  # the kernel accepts; nothing ever answers
    sentinels = f"127.0.0.1:{hung.getsockname()[1]},127.0.0.1:{sentinel.port}"
    link = StoreLink(f"redis+sentinel://:{redis_server.password}@{sentinels}/mymaster/0")
    try:
        for _ in range(3):
            assert await link.recover(), link.health.last_error
            await link.client.connection_pool.disconnect()  # the next call asks again
        assert link.health.transitions["unreachable"] == 0
    finally:
        await link.aclose()
        hung.close()
        sentinel.stop()


@pytest.mark.parametrize(
    ("url", "sentinels", "service", "db"),
    [
        ("redis://127.0.0.1:6379/2", (), "", 2),
        (f"rediss://:{PASSWORD}@redis.example.com:6380", (), "", 0),
        (
            f"redis+sentinel://:{PASSWORD}@s1:26379,s2,[::1]:26380/mymaster/3",
            (("s1", 26379), ("s2", 26379), ("::1", 26380)),
            "mymaster",
            3,
        ),
    ],
)
def test_store_url_forms(url: str, sentinels: tuple[Any, ...], service: str, db: int) -> None:
    target = parse_store_url(url)
    assert (target.sentinels, target.service, target.db) == (sentinels, service, db)
    assert PASSWORD not in target.shown and PASSWORD not in repr(target)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"http://:{PASSWORD}@h:1/0", "'http://***@h:1/0': unknown scheme 'http'; write redis://"),
        (f"redis://:{PASSWORD}@h:99999/0", "'redis://***@h:99999/0' has no valid host[:port]"),
        (f"redis://:{PASSWORD}@h/x", "the database must be a number (/0), not 'x'"),
        (f"redis+sentinel://:{PASSWORD}@a,b/", "a sentinel URL names its sentinels and service"),
        (f"redis://h/0?password={PASSWORD}", "'redis://h/0?password=***': option 'password'"),
    ],
)
def test_a_bad_store_url_names_the_field_and_the_forms_never_the_password(
    url: str, message: str
) -> None:
    nodes = {"a": {"checks": [{"kind": "tcp", "address": "127.0.0.1:9"}]}}
    with pytest.raises(ConfigError) as refused:
        parse_inventory({"settings": {"store": url}, "nodes": nodes})
    (error,) = refused.value.errors
    assert error.startswith("settings.store: ") and message in error
    assert PASSWORD not in error


def test_settings_store_from_the_environment_is_a_secret_and_restart_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LBHEALTH_STORE", f"redis://:{PASSWORD}@127.0.0.1:6379/0")
    nodes = {"a": {"checks": [{"kind": "tcp", "address": "127.0.0.1:9"}]}}
    settings = {"state_file": str(tmp_path / "state.json"), "admin_token": "t0ken-4321"}
    inventory = parse_inventory({"settings": settings, "nodes": nodes})
    assert inventory.settings.store is not None
    assert PASSWORD not in repr(inventory.settings)
    assert inventory.settings.verdict_file == tmp_path / "state.verdicts.json"
    assert "store" in RESTART_ONLY
    check_workers(inventory.settings, 2)  # workers share drain/maint through the store
    alone = inventory.settings.model_copy(update={"store": None, "state_file": None})
    with pytest.raises(ConfigError) as refused:
        check_workers(alone, 2)
    assert "set settings.store or settings.state_file" in refused.value.errors[0]


def test_an_instance_whose_store_is_down_at_start_serves_alone(
    sim: Callable[..., SimServer], lbhealth_server: Callable[..., Running]
) -> None:
    """No Redis at all: start-up is not held up, probes run, monitors are answered, an admin
    change is refused (503, nothing changed), and ``/readyz?verbose`` says why."""
    backend = sim({"/": IIS_WELCOME})
    settings = {"store": f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/0", "admin_token": TOKEN}
    nodes = {"web1": {"checks": [{"kind": "iis", "url": backend.url()}]}}
    running = lbhealth_server({"settings": settings, "nodes": nodes})
    assert httpx.get(f"{running.url}/health/web1").text == "UP\n"
    verbose = httpx.get(f"{running.url}/readyz?verbose")
    assert verbose.status_code == 200
    assert "[+]store unreachable for" in verbose.text
    assert "ConnectionError" in verbose.text and PASSWORD not in verbose.text
    change = {"state": "drain", "reason": "patching"}
    headers = {"Authorization": f"Bearer {TOKEN}"}
    refused = httpx.put(f"{running.url}/admin/nodes/web1/state", json=change, headers=headers)
    assert refused.status_code == 503
    assert "nothing was changed, retry" in refused.json()["error"]
    assert PASSWORD not in refused.text
    assert httpx.get(f"{running.url}/health/web1").text == "UP\n"
    metrics = httpx.get(f"{running.url}/metrics").text
    assert 'lbhealth_store_state{state="unreachable"} 1.0' in metrics


def test_without_a_store_readyz_says_this_instance_is_alone(
    sim: Callable[..., SimServer], lbhealth_server: Callable[..., Running]
) -> None:
    nodes = {"web1": {"checks": [{"kind": "iis", "url": sim({"/": IIS_WELCOME}).url()}]}}
    running = lbhealth_server({"nodes": nodes})
    verbose = httpx.get(f"{running.url}/readyz?verbose").text
    assert "[+]store ok: none set; this instance probes and serves alone" in verbose
    assert "lbhealth_store_state" not in httpx.get(f"{running.url}/metrics").text
