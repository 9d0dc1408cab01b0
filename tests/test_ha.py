"""High availability: real ``lbhealth serve`` processes sharing a real redis-server.

Three instances act as one: each check is probed once per interval between them
(counted at the backend), all serve the same verdict and the same drain, a
restarted instance serves both at once, a killed lease holder is replaced, and a
hung or killed Redis costs neither an answer nor a DOWN, then heals by itself.
Nothing here asserts wall time: counts at the backend against the bound of the
time that really elapsed, and conditions waited for with deadlines.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from lbhealth.demo.cluster import IIS_APPPOOL_STOPPED, IIS_WELCOME
from lbhealth.demo.simserver import Page, SimServer
from tests._poll import wait_ready, wait_until
from tests._redis import RedisServer, Sentinel
from tests._servers import free_port
from tests._workers import descendants

Sim = Callable[..., SimServer]

TOKEN = "ha-admin-T0ken-8812"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
INTERVAL = 0.5
NODES = ("n1", "n2", "n3")
UNREACHABLE = re.compile(r"^\[\+\]store unreachable", re.MULTILINE)
CONNECTED = re.compile(r"^\[\+\]store connected", re.MULTILINE)


class Instance:
    """One ``lbhealth serve`` process on its own port."""

    def __init__(self, config: Path, workers: int = 1) -> None:
        self.config, self.workers, self.port = config, workers, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = config.parent / f"lbhealth-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Instance:
        command = [sys.executable, "-m", "lbhealth", "serve", "--config", str(self.config)]
        command += ["--port", str(self.port), "--workers", str(self.workers)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(command, stderr=log)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def get(self, path: str, timeout: float = 5) -> httpx.Response:
        # A new connection each time, so that with workers any of them may answer.
        return httpx.get(self.url + path, headers={"Connection": "close"}, timeout=timeout)

    def health(self, node: str, timeout: float = 5) -> str:
        return self.get(f"/health/{node}", timeout).text

    def readyz(self) -> str:
        return self.get("/readyz?verbose").text

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)

    def processes(self) -> set[int]:
        """The service and its processes (the probe process, whose pid holds leases)."""
        return {self.pid, *descendants(self.pid)}

    def kill(self) -> None:
        """``kill -9`` of the service and every process of it, as a crashed container."""
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        assert self.proc is not None
        self.proc.wait(15)


@pytest.fixture
def instances() -> Iterator[Callable[..., Instance]]:
    """Factory: ``instances(config)`` starts one; all are stopped at the end."""
    started: list[Instance] = []

    def start(config: Path, workers: int = 1) -> Instance:
        instance = Instance(config, workers).start()
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.stop()


def write_config(path: Path, backend: SimServer, **settings: Any) -> Path:
    """One IIS check per node, each on its own path of ``backend`` (counted apart)."""
    data = {
        "settings": {
            "log_level": "info",
            "interval": INTERVAL,
            "timeout": 1.0,
            "admin_token": TOKEN,
            **settings,
        },
        "nodes": {n: {"checks": [{"kind": "iis", "url": backend.url(f"/{n}")}]} for n in NODES},
    }
    path.write_text(yaml.safe_dump(data))
    return path


def start_group(instances: Callable[..., Instance], config: Path) -> list[Instance]:
    """Three instances on one inventory, started together, each ready."""
    group = [instances(config) for _ in range(3)]
    for instance in group:
        wait_ready(instance.url)
    return group


def backend_for(sim: Sim, page: Page = IIS_WELCOME) -> SimServer:
    return sim({f"/{n}": page for n in NODES})


def answers(group: list[Instance], node: str) -> set[str]:
    return {instance.health(node) for instance in group}


def bound(elapsed: float, interval: float = INTERVAL) -> float:
    """The issue's bound on one check's probes over ``elapsed`` seconds, any instance count."""
    return elapsed / interval + 2


def until_probed(backend: SimServer, node: str, more: int, each: Callable[[], object]) -> None:
    """Call ``each`` over and over until ``node``'s check had ``more`` probes (bounded)."""
    target, end = backend.hits[f"/{node}"] + more, time.monotonic() + 30
    while backend.hits[f"/{node}"] < target:
        assert time.monotonic() < end, f"{node}: {backend.hits[f'/{node}']} probes, not {target}"
        each()


def probes_while(backend: SimServer, run: Callable[[], None]) -> tuple[dict[str, int], float]:
    """Each node's probes at the backend while ``run`` runs, and the seconds it took."""
    before, start = {n: backend.hits[f"/{n}"] for n in NODES}, time.monotonic()
    run()
    elapsed = time.monotonic() - start
    return {n: backend.hits[f"/{n}"] - before[n] for n in NODES}, elapsed


def test_three_instances_probe_each_check_once_and_serve_one_verdict(
    sim: Sim, redis_server: RedisServer, instances: Callable[..., Instance], tmp_path: Path
) -> None:
    backend = backend_for(sim)
    config = write_config(tmp_path / "inventory.yaml", backend, store=redis_server.url())
    seen: list[set[str]] = []

    def serve_a_while() -> None:
        group = start_group(instances, config)
        # Poll until the check had 6 probes more: the window is counted, not slept.
        until_probed(
            backend, "n1", 6, lambda: seen.append({a for n in NODES for a in answers(group, n)})
        )
        backend.pages["/n2"] = IIS_APPPOOL_STOPPED
        wait_until(lambda: answers(group, "n2"), lambda a: len(a) == 1 and "DOWN" in a.pop())
        for instance in group:
            views = instance.readyz() + instance.get("/metrics").text + instance.get("/nodes").text
            assert redis_server.password not in views
            assert "redis://***@127.0.0.1" in instance.readyz()

    probes, elapsed = probes_while(backend, serve_a_while)
    # The window starts before the instances do: start-up probes count too.
    assert all(count <= bound(elapsed) for count in probes.values()), (probes, elapsed)
    assert probes["n1"] >= 6
    assert seen and all(s == {"UP\n"} for s in seen)  # one verdict, served by all
    assert_password_never_shown(redis_server, tmp_path)


def assert_password_never_shown(redis_server: RedisServer, logs: Path) -> None:
    """The store URL's password: in no log line, no /readyz and no /metrics."""
    assert redis_server.password
    shown = [log.read_text() for log in logs.glob("lbhealth-*.log")]
    assert shown and all("redis://***@127.0.0.1" in text for text in shown)
    assert all(redis_server.password not in text for text in shown)


def test_a_drain_reaches_every_instance_and_survives_restarting_them_all(
    sim: Sim, redis_server: RedisServer, instances: Callable[..., Instance], tmp_path: Path
) -> None:
    backend = backend_for(sim, Page(200, IIS_WELCOME.headers, IIS_WELCOME.body, delay=0.5))
    # Restarting three instances takes longer than this short interval's default max_age.
    config = write_config(
        tmp_path / "inventory.yaml", backend, store=redis_server.url(), max_age=10
    )
    group = start_group(instances, config)
    change = {"state": "drain", "reason": "patching CHG42"}
    put = httpx.put(f"{group[1].url}/admin/nodes/n1/state", json=change, headers=AUTH)
    assert put.status_code == 200, put.text
    # No state file here: pushed through the store, or not at all.
    wait_until(lambda: answers(group, "n1"), lambda a: a == {"DRAIN: patching CHG42\n"}, 5)
    for instance in group:
        instance.stop()
    # A probe takes 0.5 s: restarted instances answer before any probe of their own.
    restarted = [instances(config) for _ in range(3)]
    first: dict[str, str] = {}
    for instance in restarted:
        wait_until(lambda i=instance: _listening(i), lambda up: up, 20)
        first[instance.url] = instance.health("n1") + instance.health("n2")
        assert instance.get("/readyz").status_code == 200
    assert set(first.values()) == {"DRAIN: patching CHG42\nUP\n"}, first


def _listening(instance: Instance) -> bool:
    try:
        instance.get("/livez", timeout=1)
    except httpx.TransportError:
        return False
    return True


def test_a_killed_lease_holder_is_replaced_and_the_others_never_go_stale(
    sim: Sim, redis_server: RedisServer, instances: Callable[..., Instance], tmp_path: Path
) -> None:
    backend = backend_for(sim)
    config = write_config(tmp_path / "inventory.yaml", backend, store=redis_server.url())
    group = start_group(instances, config)
    store = redis_server.client()

    def holder() -> Instance | None:
        keys = store.keys("lbhealth:lease:n1/*")
        value = store.get(keys[0]) if keys else None
        pid = int(value.decode().rsplit(":", 2)[1]) if value else 0  # host:pid:tag
        return next((i for i in group if pid in i.processes()), None)

    dead = wait_until(holder, lambda found: found is not None)
    assert dead is not None
    survivors = [i for i in group if i is not dead]
    served: list[str] = []

    def takeover() -> None:
        dead.kill()
        until_probed(backend, "n1", 4, lambda: served.extend(answers(survivors, "n1")))
        wait_until(holder, lambda found: found in survivors)

    probes, elapsed = probes_while(backend, takeover)
    assert probes["n1"] <= bound(elapsed)
    # Taken over within interval + TTL: the verdict the others serve never went stale.
    assert served and set(served) == {"UP\n"}


def test_a_hung_then_lost_store_costs_no_answer_and_no_down_then_heals(
    sim: Sim, redis_server: RedisServer, instances: Callable[..., Instance], tmp_path: Path
) -> None:
    backend = backend_for(sim)
    config = write_config(tmp_path / "inventory.yaml", backend, store=redis_server.url())
    group = start_group(instances, config)
    maint = {"state": "maint", "reason": "disk swap"}
    assert httpx.put(f"{group[0].url}/admin/nodes/n3/state", json=maint, headers=AUTH).is_success
    wait_until(lambda: answers(group, "n3"), lambda a: a == {"MAINT: disk swap\n"}, 5)

    redis_server.pause()  # SIGSTOP: every store call hangs
    try:
        wait_until(lambda: [bool(UNREACHABLE.search(i.readyz())) for i in group], all)
        # Monitors are answered within a second all along (the client gives up after 1 s).
        backend.pages["/n1"] = IIS_APPPOOL_STOPPED
        wait_until(lambda: answers(group, "n1"), lambda a: all("DOWN" in x for x in a))
        quick = [i.health(node, timeout=1) for i in group for node in NODES for _ in range(5)]
        assert set(quick) >= {"UP\n", "MAINT: disk swap\n"}
        assert "MAINT: disk swap\n" in answers(group, "n3")
        assert len(answers(group, "n3")) == 1  # the last admin state known, by all
        refused = httpx.put(f"{group[1].url}/admin/nodes/n2/state", json=maint, headers=AUTH)
        assert refused.status_code == 503 and "nothing was changed" in refused.text
    finally:
        redis_server.resume()
    wait_until(lambda: [bool(CONNECTED.search(i.readyz())) for i in group], all)
    backend.pages["/n1"] = IIS_WELCOME

    redis_server.kill()  # everything in Redis is lost
    wait_until(lambda: [bool(UNREACHABLE.search(i.readyz())) for i in group], all)
    restarted = RedisServer(redis_server.workdir, port=redis_server.port).start()  # empty
    try:
        wait_until(lambda: [bool(CONNECTED.search(i.readyz())) for i in group], all, 20)
        wait_until(lambda: answers(group, "n1"), lambda a: a == {"UP\n"})
        written_back: list[set[str]] = []

        def converged_window() -> None:
            until_probed(backend, "n2", 4, lambda: written_back.append(answers(group, "n3")))

        probes, elapsed = probes_while(backend, converged_window)
        assert all(count <= bound(elapsed) for count in probes.values()), (probes, elapsed)
        assert written_back and all(a == {"MAINT: disk swap\n"} for a in written_back)
        metrics = group[2].get("/metrics").text
    finally:
        restarted.stop()
    lost = re.search(r'^lbhealth_store_transitions_total\{to="unreachable"\} (\S+)$', metrics, re.M)
    assert lost is not None and float(lost.group(1)) >= 2  # SIGSTOP, then kill -9
    assert 'lbhealth_store_state{state="connected"} 1.0' in metrics


def test_workers_share_the_store_like_instances(
    sim: Sim, redis_server: RedisServer, instances: Callable[..., Instance], tmp_path: Path
) -> None:
    backend = backend_for(sim)
    config = write_config(tmp_path / "inventory.yaml", backend, store=redis_server.url())
    workers = instances(config, workers=2)
    seen: list[str] = []

    def serve_a_while() -> None:
        wait_ready(workers.url)
        until_probed(backend, "n1", 6, lambda: seen.append(workers.health("n1")))

    probes, elapsed = probes_while(backend, serve_a_while)
    assert all(count <= bound(elapsed) for count in probes.values()), (probes, elapsed)
    assert set(seen) == {"UP\n"}
    change = {"state": "drain", "reason": "patching"}
    assert httpx.put(f"{workers.url}/admin/nodes/n2/state", json=change, headers=AUTH).is_success
    wait_until(lambda: workers.health("n2"), lambda a: a == "DRAIN: patching\n", 5)
    assert {workers.health("n2") for _ in range(20)} == {"DRAIN: patching\n"}  # every worker


def test_without_a_store_a_restart_serves_the_verdicts_kept_on_disk(
    sim: Sim, instances: Callable[..., Instance], tmp_path: Path
) -> None:
    backend = backend_for(sim, Page(200, IIS_WELCOME.headers, IIS_WELCOME.body, delay=0.5))
    state = tmp_path / "state" / "state.json"
    config = write_config(tmp_path / "inventory.yaml", backend, state_file=str(state), max_age=10)
    kept = state.with_name("state.verdicts.json")  # the default verdict_file
    first = instances(config)
    wait_ready(first.url)
    wait_until(kept.exists, bool)
    first.stop()
    restarted = instances(config)
    wait_until(lambda: _listening(restarted), bool, 20)
    # A probe takes 0.5 s: this answer comes from the file, not from a probe.
    assert [restarted.health(n) for n in NODES] == ["UP\n"] * 3
    assert restarted.get("/readyz").status_code == 200
    # Without the file, the same restart answers what the issue measured.
    bare = instances(write_config(tmp_path / "bare.yaml", backend, max_age=10))
    wait_until(lambda: _listening(bare), bool, 20)
    assert bare.health("n1") == "DOWN: iis: not probed yet\n"


def test_a_sentinel_store_follows_a_failover(
    sim: Sim, redis_server: RedisServer, instances: Callable[..., Instance], tmp_path: Path
) -> None:
    """``redis+sentinel://``: the master dies, the sentinel promotes its replica, lbhealth
    follows without an operator and still serves the drain made before."""
    password = redis_server.password
    replica = RedisServer(tmp_path / "replica", password=password)
    replica.extra = ["--replicaof", "127.0.0.1", str(redis_server.port), "--masterauth", password]
    sentinel = Sentinel(tmp_path / "sentinel", redis_server)
    replica.start()
    sentinel.start()
    try:
        backend = backend_for(sim)
        url = f"redis+sentinel://:{password}@127.0.0.1:{sentinel.port}/mymaster/0"
        group = [instances(write_config(tmp_path / "inventory.yaml", backend, store=url))]
        wait_ready(group[0].url)
        assert CONNECTED.search(group[0].readyz())
        change = {"state": "drain", "reason": "failover drill"}
        assert httpx.put(f"{group[0].url}/admin/nodes/n1/state", json=change, headers=AUTH)
        wait_until(lambda: replica.client().hget("lbhealth:admin", "n1"), bool)  # replicated
        redis_server.kill()
        wait_until(sentinel.master, lambda port: port == replica.port, 20)
        wait_until(lambda: bool(CONNECTED.search(group[0].readyz())), bool, 20)
        assert replica.client().info("replication")["role"] == "master"
        assert group[0].health("n1") == "DRAIN: failover drill\n"
        # Shared again through the new master: the lease lives there now.
        wait_until(lambda: replica.client().keys("lbhealth:lease:n2/*"), bool)
    finally:
        sentinel.stop()
        replica.stop()
