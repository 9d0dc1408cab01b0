"""Debian's headless Chromium, driven over the DevTools protocol on loopback.

For what a screenshot cannot assert: the layout a phone-width viewport gets
(measured with ``getBoundingClientRect``), the state a page keeps across its own
refresh, and every request a page makes (``Network.requestWillBeSent``), so that
"no external assets" is observed, not assumed. The browser's own DNS is pointed
nowhere (``--host-resolver-rules``): a page that needed the internet would fail.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from tests._poll import wait_until

#: A quiet headless Chromium: no sandbox (root in CI), no background traffic of its own.
HEADLESS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
FLAGS = [
    *HEADLESS,
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]


class Page:
    """One browser tab: protocol calls by id, events kept for inspection."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.requests: list[str] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        reply = self.reply(method, **params)
        assert "error" not in reply, reply
        return dict(reply.get("result", {}))

    def reply(self, method: str, **params: Any) -> dict[str, Any]:
        """The protocol's answer to one call (result or error); events meanwhile are kept."""
        call_id = next(self.ids)
        self.socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message.get("method") == "Network.requestWillBeSent":
                self.requests.append(message["params"]["request"]["url"])
            if message.get("id") == call_id:
                return dict(message)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def open(self, url: str, width: int, height: int = 900) -> None:
        """Load ``url`` in a ``width`` px wide viewport (a phone's, with ``width`` < 500)."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=width < 500,
        )
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete' && location.href === " + json.dumps(url))

    def holds(self, condition: str) -> bool:
        """Whether ``condition`` is true now; False while a navigation replaces the page."""
        reply = self.reply("Runtime.evaluate", expression=f"!!({condition})", returnByValue=True)
        result = reply.get("result", {})
        return "exceptionDetails" not in result and result.get("result", {}).get("value") is True

    def wait_for(self, condition: str, deadline: float = 20) -> None:
        wait_until(lambda: self.holds(condition), bool, deadline)


@contextmanager
def chromium_page(binary: str, workdir: Path) -> Iterator[Page]:
    """A fresh headless Chromium with one tab; killed and its profile removed afterwards."""
    profile = workdir / f"chromium-profile-{os.getpid()}"
    proc = subprocess.Popen(
        [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        wait_until(port_file.exists, bool, 30)
        port = wait_until(lambda: port_file.read_text().split("\n")[0], str.isdigit, 10)
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
        target = next(t for t in targets if t["type"] == "page")
        with connect(target["webSocketDebuggerUrl"], max_size=None) as socket:
            page = Page(socket)
            page.call("Network.enable")
            yield page
    finally:
        proc.kill()
        proc.wait(10)
        shutil.rmtree(profile, ignore_errors=True)
