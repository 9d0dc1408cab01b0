"""Serve side: what the other instances publish, pushed to this one; and the verdicts at start.

:class:`Subscription` listens on the store's channels (results, admin changes) and
hands each message to its channel's handler. It subscribes again on every
recovery of the link (a registered recovery step), and waits for Redis to confirm
the subscription before the other recovery steps reload the shared state: a change
published meanwhile is then either in the reloaded state or in a message, never lost.

:func:`snapshot` reads the shared verdicts of some checks in one call: a new or
restarted instance serves them at once, while they are fresh, instead of
``not probed yet``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

from redis.asyncio.client import PubSub

from lbhealth.store.link import STORE_ERRORS, StoreLink
from lbhealth.store.shared import SharedResult, verdict_key

log = logging.getLogger("lbhealth.store")

#: Seconds one wait for a message lasts (then the listener waits again).
LISTEN_WAIT = 1.0

Handler = Callable[[bytes], None]


class Subscription:
    """Messages on the store's channels, to their handlers, across reconnections."""

    def __init__(self, link: StoreLink) -> None:
        self.link = link
        self.handlers: dict[str, Handler] = {}
        self._pubsub: PubSub | None = None
        self._listener: asyncio.Task[None] | None = None

    def handle(self, channel: str, handler: Handler) -> None:
        """Call ``handler`` with the payload of every message on ``channel``."""
        self.handlers[channel] = handler

    async def resubscribe(self) -> None:
        """A recovery step: drop the old subscription, subscribe anew, wait until confirmed,
        then listen (in a task of its own, until the next recovery or a failure)."""
        await self.aclose()
        pubsub = self._pubsub = self.link.client.pubsub()
        await self.link.call("subscribe", pubsub.subscribe(*self.handlers))
        confirmed = 0
        while confirmed < len(self.handlers):
            message = await self.link.call("subscribe", pubsub.get_message(timeout=None))
            if message is None:
                continue
            if message["type"] == "subscribe":
                confirmed += 1
            else:
                self._dispatch(message)
        self._listener = asyncio.create_task(self._listen(pubsub))

    def _dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") != "message":
            return
        channel = message["channel"]
        handler = self.handlers.get(channel.decode() if isinstance(channel, bytes) else channel)
        if handler is None:
            return
        try:
            handler(message["data"])
        except Exception:  # one bad message must not stop the others
            log.exception("store message on %s could not be handled", channel)

    async def _listen(self, pubsub: PubSub) -> None:
        """Dispatch messages until cancelled; a broken subscription is a lost store."""
        while True:
            try:
                message = await pubsub.get_message(timeout=LISTEN_WAIT)
            except STORE_ERRORS as exc:
                self.link.health.failed(self.link.describe("subscription", exc))
                return
            if message is not None:
                self._dispatch(message)

    async def aclose(self) -> None:
        """Stop listening and close the subscription (it never reads two at once)."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(*STORE_ERRORS):
                await asyncio.wait_for(
                    pubsub.aclose(),  # type: ignore[no-untyped-call]
                    self.link.timeout,
                )


async def snapshot(link: StoreLink, keys: Iterable[str]) -> list[SharedResult]:
    """The shared results stored for these check keys (those not expired), in one call.

    Raises StoreUnavailable. A value that is not a shared result is logged and skipped.
    """
    wanted = list(keys)
    if not wanted:
        return []
    raws = await link.call("snapshot", link.client.mget([verdict_key(k) for k in wanted]))
    found = []
    for key, raw in zip(wanted, raws, strict=True):
        if raw is None:
            continue
        try:
            found.append(SharedResult.decode(raw))
        except ValueError as exc:
            log.warning("ignoring the shared verdict of %s: %s", key, exc, extra={"key": key})
    return found
