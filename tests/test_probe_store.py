"""With the probe process, the store's probe side lives in the child: what it says is true.

The child takes the leases and publishes over a link of its own; the serving
process must report those (``/readyz`` and ``/metrics``), tell its own child's
results from the others', and publish nothing itself while the child does,
whichever mode a reload switches to. A real redis-server, real processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import redis

from lbhealth.demo.cluster import IIS_WELCOME
from lbhealth.demo.simserver import SimServer
from lbhealth.store.shared import RESULTS, SharedResult
from lbhealth.verdict import CheckResult, Status
from tests._admin import AUTH, TOKEN
from tests._inventory import same_kind, write
from tests._poll import wait_until
from tests._redis import RedisServer
from tests._servers import Running

Sim = Callable[..., SimServer]
Serve = Callable[..., Running]
LEASES = "lbhealth:lease:*"


def metric(lb: Running, name: str, **labels: str) -> float:
    """One sample of ``/metrics`` (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    sample = f"{name}{{{wanted}}} " if labels else f"{name} "
    lines = httpx.get(f"{lb.url}/metrics").text.splitlines()
    return next((float(x.split()[-1]) for x in lines if x.startswith(sample)), 0.0)


def down_by(key: str, by: str) -> str:
    """A DOWN result of ``key``, newer than any held, by instance ``by``, as published."""
    result = CheckResult("iis", "iis", "http://127.0.0.1:9/", Status.DOWN, f"seen by {by}", 0.01, 0)
    return SharedResult(key, result, time.time() + 5, by).encode()  # ahead: taken as "now"


def test_the_probe_process_reports_its_leases_results_and_link(
    sim: Sim, redis_server: RedisServer, lbhealth_server: Serve
) -> None:
    backend = sim({"/": IIS_WELCOME})
    inventory = same_kind("iis", {"web1": backend.url()}, interval=0.2, store=redis_server.url())
    lb = lbhealth_server(inventory)
    prober, store = lb.app.prober, redis_server.client()
    assert prober is not None
    holders = wait_until(
        lambda: [store.get(k) for k in store.keys(LEASES)], lambda v: len(v) == 1 and bool(v[0])
    )
    child = holders[0].decode()
    assert child.split(":")[1] == str(prober.pid)  # the child holds the lease, not this process
    readyz = wait_until(
        lambda: httpx.get(f"{lb.url}/readyz?verbose").text, lambda t: "lease(s) held by" in t
    )
    assert f"; probes shared, 1 lease(s) held by {child}\n" in readyz
    wait_until(lambda: metric(lb, "lbhealth_store_results_total", outcome="sent"), lambda n: n >= 3)
    assert metric(lb, "lbhealth_store_leases_held") == 1
    assert metric(lb, "lbhealth_store_probe_link_state", state="connected") == 1
    # The child's results reach this process twice (the pipe, the store): the store's copy
    # is not "accepted" from another instance; another instance's result is.
    key = store.keys(LEASES)[0].decode().removeprefix("lbhealth:lease:")
    other = "another-host:4242:abcdef"
    store.publish(RESULTS, down_by(key, child))
    store.publish(RESULTS, down_by(key, other))  # after the first, on one channel

    def changes() -> list[str]:
        return [change.reason for change in lb.app.engine.history.of("web1")]

    wait_until(changes, lambda seen: f"iis: seen by {other}" in seen)
    assert f"iis: seen by {child}" not in changes()
    assert metric(lb, "lbhealth_store_results_total", outcome="accepted") == 1
    # The child's own link: a Redis that hangs is seen there too.
    redis_server.pause()
    try:
        wait_until(lambda: metric(lb, "lbhealth_store_probe_link_state", state="unreachable"), bool)
    finally:
        redis_server.resume()
    wait_until(lambda: metric(lb, "lbhealth_store_probe_link_state", state="connected"), bool)


def listen(pubsub: Any, seen: list[str]) -> list[str]:
    """``seen``, plus who published the next result on the store's channel, if one came."""
    message = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.05)
    if message is not None:
        seen.append(SharedResult.decode(message["data"]).by)
    return seen


def test_a_reload_between_modes_publishes_each_result_once(
    sim: Sim, redis_server: RedisServer, lbhealth_server: Serve, tmp_path: Path
) -> None:
    backend = sim({"/": IIS_WELCOME})
    settings = {"store": redis_server.url(), "admin_token": TOKEN, "interval": 0.2}

    def config(mode: str) -> Path:
        data = same_kind("iis", {"web1": backend.url()}, mode=mode, cache_ttl="200ms", **settings)
        return write(tmp_path / "inventory.yaml", data)

    lb = lbhealth_server(config("on-demand"))
    sharing = lb.app.sharing
    assert sharing is not None
    here = sharing.link.instance
    pubsub = redis.Redis(port=redis_server.port, password=redis_server.password).pubsub()
    pubsub.subscribe(RESULTS)

    def reload(mode: str) -> None:
        config(mode)
        assert httpx.post(f"{lb.url}/admin/reload", headers=AUTH).status_code == 200

    reload("background")
    prober = lb.app.prober
    assert prober is not None
    wait_until(lambda: prober.store, lambda link: link is not None and link.leases == 1)
    published: list[str] = []
    wait_until(lambda: listen(pubsub, published), lambda seen: len(seen) >= 12)
    # Once the child publishes, this process publishes nothing: each result once.
    assert prober.publishes_as(published[-1])
    assert here not in published[published.index(published[-1]) :]
    reload("on-demand")  # the child stops: this process probes, and publishes, again
    assert lb.app.prober is None
    published.clear()

    def ask_and_listen() -> list[str]:
        httpx.get(f"{lb.url}/health/web1")  # probes, past the 200 ms cache
        return listen(pubsub, published)

    wait_until(ask_and_listen, lambda seen: here in seen)
