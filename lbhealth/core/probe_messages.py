"""What crosses the pipe between the serving process and the probe process, and nothing else.

To the child: :class:`Configure` (an inventory under a generation number; the
first one of each child also carries :class:`ChildStart`: its name in the store
and what the serving side knows of each check, so that a restarted child keeps
the schedule and the rise/fall state instead of probing everything at once), and
``None`` (stop). From the child: a :class:`Report` per probe, and a
:class:`Heartbeat` every :data:`HEARTBEAT_EVERY` seconds from its event loop (a
loop stuck in a page stops it), with the state of its own store link
(:class:`LinkReport`), which only the child can see.
"""

from __future__ import annotations

from dataclasses import dataclass

from lbhealth.config import Inventory
from lbhealth.core.sharing import ProbeSharing
from lbhealth.store.health import State
from lbhealth.store.link import StoreLink
from lbhealth.store.verdicts import Key
from lbhealth.verdict import CheckResult

#: Seconds between two heartbeats of the child.
HEARTBEAT_EVERY = 1.0


@dataclass(frozen=True, slots=True)
class Report:
    """One probe's result, from the child: under which inventory, how late it started."""

    generation: int
    key: Key
    result: CheckResult
    kind: str
    #: Seconds after its planned start the probe began (None: start-up round, no plan).
    lag: float | None


@dataclass(frozen=True, slots=True)
class Known:
    """A check's latest result as the serving side holds it, with its probe's wall time."""

    key: Key
    result: CheckResult
    probed_at: float


@dataclass(frozen=True, slots=True)
class ChildStart:
    """What a new child needs once: its name in the store, and the results known so far."""

    instance: str
    known: tuple[Known, ...]


@dataclass(frozen=True, slots=True)
class Configure:
    """To the child: probe this inventory from now on."""

    generation: int
    inventory: Inventory
    #: Only in a child's first message.
    start: ChildStart | None = None


@dataclass(frozen=True, slots=True)
class LinkReport:
    """The probe side's store link: its state, the leases it holds, what it published."""

    #: The name it holds leases and publishes under.
    instance: str
    state: State
    #: Seconds in that state when reported.
    age: float
    last_error: str
    leases: int
    sent: int
    dropped: int

    @classmethod
    def of(cls, link: StoreLink, probe: ProbeSharing) -> LinkReport:
        health, publisher = link.health, probe.publisher
        return cls(
            link.instance,
            health.state,
            health.age(),
            health.last_error,
            len(probe.leases.held),
            publisher.sent,
            publisher.dropped,
        )


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """From the child's event loop: it turns; and how its store link does (None: no store)."""

    store: LinkReport | None
