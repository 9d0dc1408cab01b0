"""One instance's link to the shared store (Redis, through redis-py's asyncio client).

Every store call goes through :meth:`StoreLink.call`: bounded by :data:`CALL_TIMEOUT`
(a stopped Redis, ``SIGSTOP``, hangs a call; it must not hang lbhealth), with
redis-py's own retries off (a retry would stretch the bound), and any failure
turns the link ``unreachable`` (:mod:`lbhealth.store.health`). Nothing a monitor
waits for ever calls the store: the calls run in background tasks and in admin
requests.

:meth:`StoreLink.supervise` watches the link: a ``PING`` every :data:`PING_EVERY`
seconds finds a lost store; once it answers again, the recovery steps that the
pieces registered (:meth:`StoreLink.on_recovery`: subscribe again, reload the
admin state and the verdicts) run in order, and only then is the link
``connected``. So instances converge after an outage without an operator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import MasterNotFoundError, Sentinel
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from lbhealth.config.store_url import StoreUrl, parse_store_url
from lbhealth.store.health import StoreHealth
from lbhealth.text.clean import clean_reason
from lbhealth.text.redact import redact, secret_values

log = logging.getLogger("lbhealth.store")

T = TypeVar("T")
#: Longest a store call may take before the store counts as unreachable.
CALL_TIMEOUT = 0.5
#: Seconds between two pings of the store, and between two tries to get it back.
PING_EVERY = 1.0
#: What a failing call may raise: redis-py's errors, the socket's, and the timeout.
STORE_ERRORS = (RedisError, OSError, TimeoutError)

Step = Callable[[], Awaitable[None]]


class StoreUnavailable(Exception):
    """The store failed or did not answer in time. The message names no secret."""


def instance_id(pid: int | None = None) -> str:
    """A process's name in the store (lease holders): host, pid (this one's by default), and
    a random tag. The probe process is named by its parent, which so knows its results."""
    return f"{socket.gethostname()}:{pid or os.getpid()}:{secrets.token_hex(3)}"


class Sentinels(Sentinel):
    """Redis Sentinel asked all at once: the first sentinel to name the master is believed.

    redis-py asks the sentinels one after another, each for up to the socket
    timeout, and moves one to the front only once it answered. A first sentinel
    that accepts connections but never answers (stopped, ``SIGSTOP``, a host
    gone half-way) would then use up every call's whole budget before the next
    sentinel is asked: the store would stay unreachable for as long as it hangs.
    Asked together, a hung sentinel costs nothing; the master is known within
    one round trip of the quickest sentinel that answers.
    """

    async def discover_master(self, service_name: str) -> tuple[str, int]:
        asked = [asyncio.ensure_future(self._ask(s, service_name)) for s in self.sentinels]
        failures: list[str] = []
        try:
            for answer in asyncio.as_completed(asked):
                try:
                    master = await answer
                except STORE_ERRORS as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                if master is not None:
                    return master
        finally:
            # Not awaited: redis-py may finish a cancelled handshake first, and a hung
            # sentinel would hold the answer up to its socket timeout. Each ends by then.
            for task in asked:
                task.cancel()
                task.add_done_callback(_settled)
        told = f" ({'; '.join(failures)})" if failures else ""
        raise MasterNotFoundError(f"no sentinel names a master for {service_name!r}{told}")

    async def _ask(self, sentinel: Redis, service_name: str) -> tuple[str, int] | None:
        """The master one sentinel names, if it names a healthy one."""
        masters = await sentinel.sentinel_masters()
        state = masters.get(service_name) if isinstance(masters, dict) else None
        if state and self.check_master_state(state, service_name):
            return state["ip"], state["port"]
        return None


def _settled(task: asyncio.Future[Any]) -> None:
    """Take a dropped sentinel question's outcome, so that no failure is reported unread."""
    if not task.cancelled():
        task.exception()


def connect(target: StoreUrl, timeout: float) -> Redis:
    """A client for the store; it connects lazily, on its first call."""
    options: dict[str, Any] = {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": Retry(NoBackoff(), 0),
        "client_name": "lbhealth",
    }
    if not target.sentinels:
        return Redis.from_url(target.url, **options)
    sentinel = Sentinels(list(target.sentinels), sentinel_kwargs=options)  # type: ignore[no-untyped-call]
    master: Redis = sentinel.master_for(
        target.service,
        db=target.db,
        username=target.username,
        password=target.password,
        **options,
    )
    return master


class StoreLink:
    """The client, its health, and the calls' one timeout rule."""

    def __init__(
        self, url: str, *, timeout: float = CALL_TIMEOUT, instance: str | None = None
    ) -> None:
        self.target = parse_store_url(url)
        self.timeout = timeout
        #: This process's identity as lease holder and publisher.
        self.instance = instance or instance_id()
        self.health = StoreHealth(self.target.shown)
        self.client = connect(self.target, timeout)
        self._secrets = secret_values(url, {})
        self._steps: list[Step] = []

    def describe(self, what: str, exc: BaseException) -> str:
        """A one-line, secret-free account of a failed call."""
        detail = str(exc) or "no answer"
        if isinstance(exc, TimeoutError) and not isinstance(exc, RedisError):
            detail = f"no answer within {self.timeout:g}s"
        return clean_reason(redact(f"{what}: {type(exc).__name__}: {detail}", self._secrets))

    async def call(self, what: str, operation: Awaitable[T]) -> T:
        """Run one store operation within the timeout; StoreUnavailable if it fails."""
        try:
            return await asyncio.wait_for(operation, self.timeout)
        except STORE_ERRORS as exc:
            why = self.describe(what, exc)
            self.health.failed(why)
            raise StoreUnavailable(f"store {self.target.shown} unavailable: {why}") from None

    def on_recovery(self, step: Step) -> None:
        """Run ``step`` (which raises StoreUnavailable on failure) on each (re)connection."""
        self._steps.append(step)

    async def recover(self) -> bool:
        """Ping, then run every recovery step in order; True once in sync (``connected``)."""
        try:
            await self.call("ping", self.client.ping())
            self.health.answering()
            for step in self._steps:
                await step()
        except StoreUnavailable:
            return False
        except Exception as exc:  # bad shared data or a bug: keep probing alone, say why
            log.exception("store resynchronisation failed")
            self.health.failed(self.describe("resync", exc))
            return False
        self.health.synced()
        return True

    async def supervise(self, every: float = PING_EVERY) -> None:
        """Until cancelled: ping while connected, try to recover while not."""
        while True:
            if self.health.sharing:
                await asyncio.sleep(every)
                with contextlib.suppress(StoreUnavailable):
                    await self.call("ping", self.client.ping())
            elif not await self.recover():
                await asyncio.sleep(every)

    async def aclose(self) -> None:
        with contextlib.suppress(*STORE_ERRORS):
            await asyncio.wait_for(self.client.aclose(), self.timeout)
