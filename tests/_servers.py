"""Real servers on loopback for tests: lbhealth under uvicorn, an event loop for backends.

Backends are :class:`lbhealth.demo.simserver.SimServer` instances (raw-socket
HTTP servers that count requests) running on a :class:`BackgroundLoop`;
lbhealth itself runs under real uvicorn with httptools in a thread, as in
production. ``conftest.py`` turns these into fixtures; test modules import
them from here, so that no test module imports ``conftest``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn

from lbhealth.app import LBHealth, create_app
from lbhealth.app.server import uvicorn_config
from lbhealth.config import load_inventory, parse_inventory
from tests._poll import wait_until

T = TypeVar("T")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def free_port() -> int:
    """A loopback port free now, nothing listening (a server started later, or refused)."""
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


@dataclass
class Running:
    """An lbhealth under real uvicorn, in a thread of the test process."""

    url: str
    app: LBHealth
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def wait_probed(self) -> None:
        """Until every check was probed once (what ``/readyz`` reports)."""
        wait_until(lambda: self.app.engine.probed_all)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def start_lbhealth(inventory: dict[str, Any] | Path) -> Running:
    """Serve an inventory dict, or a config file (which the app can then reload)."""
    if isinstance(inventory, Path):
        app = create_app(load_inventory(inventory), config_path=str(inventory))
    else:
        app = create_app(parse_inventory(inventory, "test"))
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", 0, "warning", app.settings))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive())
    assert server.started, "lbhealth did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    return Running(f"http://127.0.0.1:{port}", app, server, thread)
