"""Open connections by client address, so one client cannot exhaust the serving port.

The load balancers polling ``/health`` must keep their answers while another
address floods the port. uvicorn's own ``limit_concurrency`` answers 503 to
*every* client once the total is reached, so a flood from one address reads
as every node DOWN to every monitor. Here a connection is admitted by address:

- an address holding ``per_client`` connections has its new ones closed;
- at ``total`` open connections, the address holding the most loses its oldest
  connection to make room, unless the newcomer's own address would then hold
  as many: a client over its share always pays with its own connections.

One table serves one server process (with ``--workers N`` each worker has its
own: a client may hold ``N * per_client`` connections over the shared port).
"""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger("lbhealth.server")

#: Addresses remembered as already warned about; past it the memory starts over
#: (a flood from many addresses logs a line per address and round, never unbounded).
MAX_WARNED = 1024


class Connection(Protocol):
    """What the table needs of a connection: a way to drop it."""

    def drop(self) -> None:
        """Close the connection now (it leaves the table when it is lost)."""


class ClientTable:
    """The open connections of one server, grouped by client address."""

    def __init__(self, per_client: int, total: int) -> None:
        self.per_client = per_client
        self.total = total
        self.count = 0
        # Insertion-ordered: the first connection of an address is its oldest.
        self.by_address: dict[str, dict[Connection, None]] = {}
        self.warned: set[str] = set()  # addresses told about, until they hold none

    def admit(self, conn: Connection, address: str) -> bool:
        """Register a new connection; False when it must be closed at once."""
        held = self.by_address.get(address)
        holding = len(held) if held else 0
        if holding >= self.per_client:
            self._warn(address, f"holds {holding} connections (max_connections_per_client)")
            return False
        if self.count >= self.total and not self._make_room(address, holding):
            return False
        if held is None:
            held = self.by_address[address] = {}
        held[conn] = None
        self.count += 1
        return True

    def release(self, conn: Connection, address: str) -> None:
        """Forget a lost connection (one that was never admitted is ignored)."""
        held = self.by_address.get(address)
        if held is None or conn not in held:
            return
        del held[conn]
        self.count -= 1
        if not held:
            del self.by_address[address]
            self.warned.discard(address)

    def holding(self, address: str) -> int:
        """Open connections of one address."""
        return len(self.by_address.get(address, ()))

    def _make_room(self, address: str, holding: int) -> bool:
        """At the total: drop the heaviest client's oldest connection, or refuse."""
        heaviest = max(self.by_address, key=lambda a: len(self.by_address[a]))
        held = self.by_address[heaviest]
        if len(held) <= holding + 1:
            # The newcomer's address would hold as many as anyone: it is the one to refuse.
            self._warn(address, f"opens one of {self.total} connections (max_connections)")
            return False
        self._warn(heaviest, f"holds {len(held)} of {self.total} connections (max_connections)")
        oldest = next(iter(held))
        self.release(oldest, heaviest)
        oldest.drop()
        return True

    def _warn(self, address: str, what: str) -> None:
        """One line per address and episode, not one per refused connection of a flood."""
        if address not in self.warned:
            if len(self.warned) >= MAX_WARNED:
                self.warned.clear()
            self.warned.add(address)
            log.warning(
                "client %s %s: its connections are closed while others are served",
                address or "(unix socket)",
                what,
            )
