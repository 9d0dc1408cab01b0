"""Counting backends for the benchmark: one SimServer on a background loop in this process."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from lbhealth.demo.cluster import IIS_WELCOME
from lbhealth.demo.simserver import Page, SimServer


class Backends:
    """One counting SimServer on a background loop, one path per check."""

    def __init__(self, paths: int, extra: dict[str, Page] | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        pages = {f"/{i}": IIS_WELCOME for i in range(paths)} | (extra or {})
        self.server = self._run(SimServer(pages).start())

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def inventory(self, nodes: int, interval: float) -> dict[str, Any]:
        return {
            "settings": {"interval": interval, "log_level": "warning"},
            "nodes": {
                f"n{i}": {"checks": [{"kind": "iis", "url": self.server.url(f"/{i}")}]}
                for i in range(nodes)
            },
        }

    def close(self) -> None:
        self._run(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
