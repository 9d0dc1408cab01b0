"""Fixtures: real servers on loopback, never mocks of the transport (see ``tests/_servers.py``).

No test module imports this file: helpers live in ``tests/_*.py`` modules,
each imported under one name (``tests.<module>``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lbhealth.demo.simserver import Page, SimServer, TcpListener
from tests._cluster import SimCluster
from tests._redis import RedisServer
from tests._servers import BackgroundLoop, Running, require_tool, start_lbhealth


@pytest.fixture(scope="session")
def bg() -> Iterator[BackgroundLoop]:
    loop = BackgroundLoop()
    yield loop
    loop.close()


@pytest.fixture
def sim(bg: BackgroundLoop) -> Iterator[Callable[..., SimServer]]:
    """Factory: ``sim({"/": Page(...)})`` starts a counting HTTP backend."""
    started: list[SimServer] = []

    def start(pages: dict[str, Page] | None = None, host: str = "127.0.0.1") -> SimServer:
        server = bg.run(SimServer(pages, host).start())
        started.append(server)
        return server

    yield start
    for server in started:
        bg.run(server.stop())


@pytest.fixture
def tcp_listener(bg: BackgroundLoop) -> Iterator[TcpListener]:
    listener = bg.run(TcpListener().start())
    yield listener
    bg.run(listener.stop())


@pytest.fixture
def cluster(bg: BackgroundLoop, sim: Callable[..., SimServer]) -> Iterator[SimCluster]:
    """The simulated EIM/WIM cluster of ``tests/_cluster.py``, every node UP."""
    started = SimCluster.start(bg, sim)
    yield started
    started.stop(bg)


@pytest.fixture
def lbhealth_server() -> Iterator[Callable[..., Running]]:
    """Factory: ``lbhealth_server(inventory_dict_or_file)`` serves it on a free port.

    It returns once every check was probed once (``ready=False``: at once), so
    a test's first request sees real verdicts in both refresh modes.
    """
    running: list[Running] = []

    def start(inventory: dict[str, Any] | Path, ready: bool = True) -> Running:
        instance = start_lbhealth(inventory)
        running.append(instance)
        if ready:
            instance.wait_probed()
        return instance

    yield start
    for instance in running:
        instance.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port (under CI=true, a missing one fails)."""
    require_tool("redis-server")
    # With a password, so that every test also checks that it is never shown.
    server = RedisServer(tmp_path / "redis", password="r3dis-Fixture-Pass-19").start()
    yield server
    server.stop()
