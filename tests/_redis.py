"""A real ``redis-server`` for the tests: on a free loopback port, stopped, killed, restarted.

Debian's ``redis-server`` package (``./dev test`` installs it) also runs Redis
Sentinel (``redis-server <file> --sentinel``). Redis keeps nothing on disk here
(``--save '' --appendonly no``): a killed and restarted Redis comes back empty,
the harshest case for the instances that share it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis

from tests._servers import free_port


class RedisServer:
    """One redis-server process (or a sentinel) that a test controls."""

    def __init__(self, workdir: Path, password: str | None = None, port: int = 0) -> None:
        self.workdir = workdir
        self.password = password
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.extra: list[str] = []

    def command(self) -> list[str]:
        auth = ["--requirepass", self.password] if self.password else []
        return [
            *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", str(self.workdir)),
            *auth,
            *self.extra,
        ]

    def start(self) -> RedisServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = (self.workdir / f"redis-{self.port}.log").open("ab")
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while True:
            assert self.proc.poll() is None, f"redis-server exited: {self.command()}"
            try:
                if self.client().ping():
                    return self
            except redis.RedisError:
                pass
            assert time.monotonic() < deadline, "redis-server did not answer PING"
            time.sleep(0.02)

    def url(self, db: int = 0) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/{db}"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, password=self.password, socket_timeout=2)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def pause(self) -> None:
        """``SIGSTOP``: connections stay open and every call hangs."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def kill(self) -> None:
        """``kill -9``: everything in it is lost."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.resume()
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


async def eventually(accept: Callable[[], bool], deadline: float = 15) -> None:
    """Async twin of :func:`tests._poll.wait_until`: yield to the loop until ``accept`` holds."""
    end = time.monotonic() + deadline
    while not accept():
        assert time.monotonic() < end, f"still not true after {deadline}s"
        await asyncio.sleep(0.02)


class Sentinel(RedisServer):
    """A Redis Sentinel watching one master as ``mymaster``, quick to fail over."""

    def __init__(self, workdir: Path, master: RedisServer) -> None:
        super().__init__(workdir)
        self.master_port, self.master_password = master.port, master.password

    def command(self) -> list[str]:
        config = self.workdir / f"sentinel-{self.port}.conf"
        auth = self.master_password
        config.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self.workdir}\n"
            f"sentinel monitor mymaster 127.0.0.1 {self.master_port} 1\n"
            "sentinel down-after-milliseconds mymaster 500\n"
            "sentinel failover-timeout mymaster 3000\n"
            + (f"sentinel auth-pass mymaster {auth}\n" if auth else "")
        )
        return ["redis-server", str(config), "--sentinel"]

    def master(self) -> int:
        """The port of the master it names now."""
        _, port = self.client().execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster")
        return int(port)
