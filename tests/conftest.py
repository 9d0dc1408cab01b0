"""Shared fixtures: real servers on loopback, never mocks of the transport.

Backends are :class:`lbhealth.simserver.SimServer` instances (raw-socket HTTP
servers that count requests) running on a background event loop; lbhealth
itself runs under real uvicorn with httptools in a thread, as in production.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
import uvicorn

from lbhealth.app import LBHealth, create_app
from lbhealth.app.server import uvicorn_config
from lbhealth.config import load_inventory, parse_inventory
from lbhealth.demo.simserver import Page, SimServer, TcpListener

if TYPE_CHECKING:
    from tests._redis import RedisServer

T = TypeVar("T")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def free_port() -> int:
    """A port free on loopback now (for a server started as a subprocess)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_tool(name: str) -> str:
    """Path of an external tool; outside CI a missing tool skips, under CI it fails."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is required under CI=true but is not installed")
        pytest.skip(f"{name} is not installed (./dev test installs it when run as root)")
    return path


class BackgroundLoop:
    """An event loop in a daemon thread, for servers that tests talk to over sockets."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(cancel_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


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


@dataclass
class Running:
    """An lbhealth under real uvicorn."""

    url: str
    app: LBHealth
    server: uvicorn.Server

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def start_lbhealth(inventory: dict[str, Any] | Path) -> tuple[Running, threading.Thread]:
    """Serve an inventory dict, or a config file (which the app can then reload)."""
    if isinstance(inventory, Path):
        app = create_app(load_inventory(inventory), config_path=str(inventory))
    else:
        app = create_app(parse_inventory(inventory, "test"))
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", 0, "warning", app.settings))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.01)
    assert server.started, "lbhealth did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    return Running(f"http://127.0.0.1:{port}", app, server), thread


def wait_ready(instance: Running, timeout: float = 15) -> None:
    """Wait until every check was probed once (``/readyz``), as a deployment would."""
    for _ in range(int(timeout / 0.02)):
        if instance.app.engine.probed_all:
            return
        threading.Event().wait(0.02)
    raise AssertionError("lbhealth did not become ready")


@pytest.fixture
def lbhealth_server() -> Iterator[Callable[..., Running]]:
    """Factory: ``lbhealth_server(inventory_dict_or_file)`` serves it on a free port.

    It returns once every check was probed once (``ready=False``: at once), so
    a test's first request sees real verdicts in both refresh modes.
    """
    running: list[tuple[Running, threading.Thread]] = []

    def start(inventory: dict[str, Any] | Path, ready: bool = True) -> Running:
        pair = start_lbhealth(inventory)
        running.append(pair)
        if ready:
            wait_ready(pair[0])
        return pair[0]

    yield start
    for instance, thread in running:
        instance.server.should_exit = True
        thread.join(10)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port (under CI=true, a missing one fails)."""
    require_tool("redis-server")
    from tests._redis import RedisServer  # it imports free_port from here

    # With a password, so that every test also checks that it is never shown.
    server = RedisServer(tmp_path / "redis", password="r3dis-Fixture-Pass-19").start()
    yield server
    server.stop()
