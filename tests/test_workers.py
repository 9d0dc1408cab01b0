"""``lbhealth serve --workers 2``: one port, two processes, each probing on its own.

What one worker is told (drain, maint, reload) must reach both; settings that
two processes cannot honour are refused at start.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from lbhealth.config import parse_inventory
from lbhealth.demo.cluster import IIS_WELCOME
from lbhealth.demo.simserver import SimServer
from lbhealth.store.admin import STATE_FILE_POLL, AdminStore
from tests._poll import wait_ready
from tests.conftest import free_port

Sim = Callable[..., SimServer]

TOKEN = "w0rkers-T0ken-51c2"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
#: A change made through one worker is served by all within this (documented) delay.
PROPAGATION = 2 * STATE_FILE_POLL + 0.5


def inventory(nodes: dict[str, str], **settings: Any) -> dict[str, Any]:
    """Single-check IIS nodes (name -> URL) with these settings."""
    return {
        "settings": {"log_level": "warning", **settings},
        "nodes": {n: {"checks": [{"kind": "iis", "url": url}]} for n, url in nodes.items()},
    }


def serve_command(config: Path, port: int, workers: int = 2) -> list[str]:
    return [
        *(sys.executable, "-m", "lbhealth", "serve", "--config", str(config)),
        *("--port", str(port), "--workers", str(workers)),
    ]


@contextmanager
def workers(tmp_path: Path, data: dict[str, Any]) -> Iterator[tuple[str, int]]:
    """``lbhealth serve --workers 2`` in a subprocess, once ready: (base URL, supervisor pid).

    Its stderr goes to ``tmp_path / "stderr.log"``.
    """
    config, stderr, port = tmp_path / "inventory.yaml", tmp_path / "stderr.log", free_port()
    config.write_text(yaml.safe_dump(data))
    with stderr.open("wb") as err:
        proc = subprocess.Popen(serve_command(config, port), stderr=err)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, f"lbhealth serve --workers 2 exited: {stderr.read_text()}"
            assert time.monotonic() < deadline, "lbhealth serve --workers 2 did not become ready"
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(15)


def poll(url: str) -> str:
    """One monitor poll on a new connection, so that any worker may accept it."""
    return httpx.get(url, headers={"Connection": "close"}).text


def poll_until(url: str, expected: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while (answer := poll(url)) != expected:
        assert time.monotonic() < deadline, f"{url} still answers {answer!r}"
        time.sleep(0.05)


def children(pid: int) -> set[int]:
    return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def test_two_workers_serve_one_port_with_bounded_probes(sim: Sim, tmp_path: Path) -> None:
    backend = sim({"/": IIS_WELCOME})
    interval, port = 0.3, free_port()
    config = tmp_path / "inventory.yaml"
    config.write_text(yaml.safe_dump(inventory({"web1": backend.url()}, interval=interval)))
    start = time.monotonic()
    proc = subprocess.Popen(serve_command(config, port))
    try:
        wait_ready(f"http://127.0.0.1:{port}")  # a worker, once its probes report
        answers = []
        with httpx.Client() as client:
            while len(answers) < 200 and time.monotonic() - start < 60:
                assert proc.poll() is None, "lbhealth serve --workers 2 exited"
                try:
                    answers.append(client.get(f"http://127.0.0.1:{port}/health/web1").text)
                except httpx.TransportError:
                    time.sleep(0.1)
        hits, elapsed = backend.hits["/"], time.monotonic() - start
    finally:
        proc.terminate()
        proc.wait(15)
    assert answers.count("UP\n") >= 150  # a worker may answer before its first probe
    assert set(answers) <= {"UP\n", "DOWN: iis: not probed yet\n"}
    # Two schedulers: at most twice one worker's bound, whatever the monitor load.
    assert hits <= 2 * (elapsed / interval + 1)


def test_admin_changes_through_any_worker_reach_every_worker(sim: Sim, tmp_path: Path) -> None:
    url = sim({"/": IIS_WELCOME}).url()
    state_file = tmp_path / "state.json"
    data = inventory(
        {"web1": url, "web2": url}, admin_token=TOKEN, state_file=str(state_file), interval=0.3
    )
    with workers(tmp_path, data) as (base, _):
        # Each change on its own connection: either worker may make it, from a
        # memory that has not seen the other change yet; neither may be lost.
        for node, state in (("web1", "drain"), ("web2", "maint")):
            change = {"state": state, "reason": "patching"}
            put = httpx.put(f"{base}/admin/nodes/{node}/state", json=change, headers=AUTH)
            assert put.status_code == 200, put.text
        poll_until(f"{base}/health/web1", "DRAIN: patching\n")
        time.sleep(PROPAGATION)
        answers = {poll(f"{base}/health/web1") for _ in range(40)}
        answers |= {poll(f"{base}/health/web2") for _ in range(40)}
    assert answers == {"DRAIN: patching\n", "MAINT: patching\n"}
    saved = json.loads(state_file.read_text())["nodes"]
    assert {node: entry["state"] for node, entry in saved.items()} == {
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
    with workers(tmp_path, inventory({"web1": url}, **settings)) as (base, supervisor):
        before = children(supervisor)
        (tmp_path / "inventory.yaml").write_text(
            yaml.safe_dump(inventory({"web1": url, "web2": url}, **settings))
        )
        reload = httpx.post(f"{base}/admin/reload", headers=AUTH)
        assert reload.status_code == 202, reload.text
        assert reload.json()["status"] == "reloading"
        poll_until(f"{base}/health/web2", "UP\n")
        time.sleep(PROPAGATION)
        answers = {poll(f"{base}/health/web2") for _ in range(40)}
        # Reloaded in place, not restarted: same processes, verdicts kept.
        assert children(supervisor) == before
    assert answers == {"UP\n"}


def test_reload_of_an_invalid_file_is_refused_with_workers(sim: Sim, tmp_path: Path) -> None:
    url = sim({"/": IIS_WELCOME}).url()
    settings = {"admin_token": TOKEN, "state_file": str(tmp_path / "state.json")}
    with workers(tmp_path, inventory({"web1": url}, **settings)) as (base, _):
        (tmp_path / "inventory.yaml").write_text("nodes: [\n")
        reload = httpx.post(f"{base}/admin/reload", headers=AUTH)
        assert reload.status_code == 422, reload.text
        assert reload.json()["status"] == "rejected"
        assert poll(f"{base}/health/web1") == "UP\n"


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
    config = tmp_path / "inventory.yaml"
    config.write_text(yaml.safe_dump(inventory({"web1": "http://127.0.0.1:9/"}, **settings)))
    done = subprocess.run(
        serve_command(config, free_port()), capture_output=True, text=True, timeout=20
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert "--workers 1" in done.stderr


@pytest.mark.parametrize("access_log", [False, True])
def test_workers_log_requests_only_with_access_log(
    access_log: bool, sim: Sim, tmp_path: Path
) -> None:
    url = sim({"/": IIS_WELCOME}).url()
    data = inventory({"web1": url}, access_log=access_log, log_level="info")
    with workers(tmp_path, data) as (base, _):
        for _ in range(20):
            poll(f"{base}/health/web1")
    lines = (tmp_path / "stderr.log").read_text().splitlines()
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    access = [entry for entry in logged if entry["logger"] == "uvicorn.access"]
    assert bool(access) is access_log
