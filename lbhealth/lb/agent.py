"""HAProxy agent-check: one shared TCP port, the node named by ``agent-send``.

HAProxy connects to ``settings.agent_port``, sends the server's
``agent-send`` string (``agent-send "app1\\n"``: the node name and a newline)
and reads one line back, which lbhealth builds from the same verdict and admin
state as ``/health/{node}``::

    <up|down> <ready|drain|maint>[ <weight>%][ #<reason>]

The first word is the node's operational state, the second its admin state.
Both are always sent because HAProxy remembers an agent's last ``drain`` or
``maint`` until told ``ready``: re-enabling a node must undo them. The weight
(``agent_weight`` of the node) is sent only when the node is UP. One shared
port (rather than one per node) keeps firewalls and the inventory simple.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from lbhealth.config import NODE_NAME
from lbhealth.serve.answer import monitor_answer
from lbhealth.store.entries import AdminEntry
from lbhealth.text.clean import clean_reason, quoted
from lbhealth.verdict import NodeVerdict, Status

log = logging.getLogger("lbhealth.agent")

#: HAProxy sends the agent-send string at once; a peer that does not is not HAProxy.
READ_TIMEOUT = 2.0
_MAX_REQUEST = 128
_ADMIN_WORD = {"enabled": "ready", "drain": "drain", "maint": "maint"}

Lookup = Callable[[str], Awaitable[tuple[NodeVerdict, AdminEntry, int | None] | None]]


def agent_reply(verdict: NodeVerdict, admin: AdminEntry, weight: int | None) -> bytes:
    """The one-line agent answer for a node (pure)."""
    up = verdict.status is Status.UP
    words = ["up" if up else "down", _ADMIN_WORD[admin.state]]
    if up and weight is not None:
        words.append(f"{weight}%")
    reason = clean_reason(monitor_answer(verdict, admin).reason, 100)
    return (" ".join(words) + (f" #{reason}" if reason else "") + "\n").encode()


def unknown_reply(request: str) -> bytes:
    shown = quoted(request)
    return f'down #no node named {shown}; set agent-send "<node>\\n"\n'.encode()


async def _answer(lookup: Lookup, request: bytes) -> bytes:
    name = request.decode("ascii", "replace").strip()
    found = await lookup(name) if NODE_NAME.match(name) else None
    if found is None:
        return unknown_reply(name)
    return agent_reply(*found)


@contextlib.asynccontextmanager
async def agent_listener(host: str, port: int | None, lookup: Lookup) -> AsyncIterator[None]:
    """Serve the agent protocol on ``host:port`` while the context is open; off if no port."""
    if port is None:
        yield
        return

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), READ_TIMEOUT)
            writer.write(await _answer(lookup, request))
            await writer.drain()
        except (OSError, ValueError, TimeoutError, asyncio.IncompleteReadError):
            pass  # a peer that hangs up, stalls or sends a flood gets nothing
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    server = await asyncio.start_server(handle, host, port, limit=_MAX_REQUEST)
    log.info("agent-check listener on %s:%d", host, port, extra={"agent_port": port})
    try:
        yield
    finally:
        server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 2)
