"""``lbhealth serve --workers 2``: one port, two processes, each probing on its own.

What one worker is told (drain, maint, reload) must reach both; settings that
two processes cannot honour are refused at start.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from lbhealth.config import parse_inventory
from lbhealth.demo.cluster import IIS_WELCOME
from lbhealth.demo.simserver import SimServer
from lbhealth.store.admin import AdminStore
from tests._admin import AUTH, TOKEN
from tests._inventory import same_kind, write
from tests._poll import wait_ready, wait_until
from tests._process import lbhealth_command, running
from tests._servers import free_port
from tests._workers import children, every_worker

Sim = Callable[..., SimServer]


def config(nodes: dict[str, str], **settings: Any) -> dict[str, Any]:
    """Single-check IIS nodes (name -> URL) with these settings."""
    return same_kind("iis", nodes, **{"log_level": "warning", **settings})


def serve_command(config: Path, port: int, workers: int = 2) -> list[str]:
    return lbhealth_command(
        "serve", "--config", str(config), "--port", str(port), "--workers", str(workers)
    )


@dataclass
class Workers:
    """``lbhealth serve --workers 2`` running: its port, supervisor and worker pids."""

    port: int
    supervisor: int
    pids: set[int]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def every_worker(self, path: str) -> dict[int, str]:
        return every_worker(self.port, path, self.pids)

    def until_every_worker(self, path: str, expected: str) -> None:
        """Until each worker, asked in turn, answers ``expected`` (each on its own schedule)."""
        wait_until(lambda: self.every_worker(path), lambda a: set(a.values()) == {expected})


@contextmanager
def workers(tmp_path: Path, data: dict[str, Any]) -> Iterator[Workers]:
    """``lbhealth serve --workers 2`` in a subprocess, once both workers are ready.

    Its output goes to ``tmp_path / "serve.log"``.
    """
    config, port = write(tmp_path / "inventory.yaml", data), free_port()
    with running(serve_command(config, port), tmp_path / "serve.log") as proc:
        wait_ready(f"http://127.0.0.1:{port}", process=proc)
        pids = wait_until(lambda: children(proc.pid), lambda found: len(found) == 2)
        running_workers = Workers(port, proc.pid, pids)
        running_workers.until_every_worker("/readyz", "readyz check passed\n")
        yield running_workers


def test_two_workers_serve_one_port_with_bounded_probes(sim: Sim, tmp_path: Path) -> None:
    backend = sim({"/": IIS_WELCOME})
    interval = 0.3
    start = time.monotonic()
    # Once both workers have probed: one keep-alive connection stays with one worker, and
    # the second worker's probe process may take a while to start on a loaded machine.
    with workers(tmp_path, config({"web1": backend.url()}, interval=interval)) as served:
        with httpx.Client() as client:
            answers = [client.get(f"{served.base}/health/web1").text for _ in range(200)]
        hits, elapsed = backend.hits["/"], time.monotonic() - start
    assert answers == ["UP\n"] * 200
    # Two schedulers: at most twice one worker's bound, whatever the monitor load.
    assert hits <= 2 * (elapsed / interval + 1)


def test_admin_changes_through_any_worker_reach_every_worker(sim: Sim, tmp_path: Path) -> None:
    url = sim({"/": IIS_WELCOME}).url()
    state_file = tmp_path / "state.json"
    data = config(
        {"web1": url, "web2": url}, admin_token=TOKEN, state_file=str(state_file), interval=0.3
    )
    with workers(tmp_path, data) as served:
        # Each change on its own connection: either worker may make it, from a
        # memory that has not seen the other change yet; neither may be lost.
        for name, state in (("web1", "drain"), ("web2", "maint")):
            change = {"state": state, "reason": "patching"}
            put = httpx.put(f"{served.base}/admin/nodes/{name}/state", json=change, headers=AUTH)
            assert put.status_code == 200, put.text
        # Every worker (each asked until it has answered) serves both changes.
        served.until_every_worker("/health/web1", "DRAIN: patching\n")
        served.until_every_worker("/health/web2", "MAINT: patching\n")
    saved = json.loads(state_file.read_text())["nodes"]
    assert {name: entry["state"] for name, entry in saved.items()} == {
        "web1": "drain",
        "web2": "maint",
    }


async def test_a_stale_store_changes_only_its_node_and_follows_the_file(tmp_path: Path) -> None:
    nodes = {n: {"checks": [{"kind": "tcp", "address": "127.0.0.1:9"}]} for n in ("a", "b")}
    inv = parse_inventory({"settings": {"state_file": str(tmp_path / "s.json")}, "nodes": nodes})
    first, second = AdminStore(inv), AdminStore(inv)
    told: list[str] = []
    second.listeners.append(told.append)
    await first.set("a", "drain", "patching", "ops")
    await second.set("b", "maint", "disk", "ops")  # second has not seen a's drain yet
    assert told == ["a", "b"]  # ...and learns it from the file when it writes
    assert await first.refresh() == ["b"]
    assert await first.refresh() == []  # unchanged file: nothing to do
    assert {n: e.state for n, e in first.all().items()} == {"a": "drain", "b": "maint"}
    assert second.all() == first.all()


def test_reload_through_one_worker_reloads_every_worker_in_place(sim: Sim, tmp_path: Path) -> None:
    url = sim({"/": IIS_WELCOME}).url()
    settings = {"admin_token": TOKEN, "state_file": str(tmp_path / "state.json")}
    with workers(tmp_path, config({"web1": url}, **settings)) as served:
        write(tmp_path / "inventory.yaml", config({"web1": url, "web2": url}, **settings))
        reload = httpx.post(f"{served.base}/admin/reload", headers=AUTH)
        assert reload.status_code == 202, reload.text
        assert reload.json()["status"] == "reloading"
        served.until_every_worker("/health/web2", "UP\n")
        # Reloaded in place, not restarted: same processes, web1's verdict kept.
        assert children(served.supervisor) == served.pids
        assert set(served.every_worker("/health/web1").values()) == {"UP\n"}


def test_reload_of_an_invalid_file_is_refused_with_workers(sim: Sim, tmp_path: Path) -> None:
    url = sim({"/": IIS_WELCOME}).url()
    settings = {"admin_token": TOKEN, "state_file": str(tmp_path / "state.json")}
    with workers(tmp_path, config({"web1": url}, **settings)) as served:
        (tmp_path / "inventory.yaml").write_text("nodes: [\n")
        reload = httpx.post(f"{served.base}/admin/reload", headers=AUTH)
        assert reload.status_code == 422, reload.text
        assert reload.json()["status"] == "rejected"
        assert set(served.every_worker("/health/web1").values()) == {"UP\n"}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"admin_token": TOKEN}, "settings.admin_token with --workers 2: "),
        ({"agent_port": 9777}, "settings.agent_port with --workers 2: "),
    ],
)
def test_settings_two_workers_cannot_honour_are_refused(
    settings: dict[str, Any], message: str, tmp_path: Path
) -> None:
    data = config({"web1": "http://127.0.0.1:9/"}, **settings)
    config_file = write(tmp_path / "inventory.yaml", data)
    done = subprocess.run(
        serve_command(config_file, free_port()), capture_output=True, text=True, timeout=20
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert "--workers 1" in done.stderr


@pytest.mark.parametrize("access_log", [False, True])
def test_workers_log_requests_only_with_access_log(
    access_log: bool, sim: Sim, tmp_path: Path
) -> None:
    url = sim({"/": IIS_WELCOME}).url()
    data = config({"web1": url}, access_log=access_log, log_level="info")
    with workers(tmp_path, data) as served:
        answers = [served.every_worker("/health/web1") for _ in range(3)]  # every worker, 3 times
    assert all(set(a.values()) == {"UP\n"} for a in answers)
    lines = (tmp_path / "serve.log").read_text().splitlines()
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    access = [entry for entry in logged if entry["logger"] == "uvicorn.access"]
    assert bool(access) is access_log
