"""What the EIM/WIM guide knows about a whole cluster: start order, pools, impact.

Node verdicts say whether one server may take traffic; an operator also needs
to know whether the *cluster* works, which tier to fix first, and what users
lose meanwhile. The guide starts the servers in tiers (database, file server,
messaging, then services and application servers in parallel, then web), so
the first tier with a DOWN role is the one that blocks everything after it.

Pure: node verdicts in, a :class:`ClusterView` out; no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from lbhealth.config import ROLES, START_ORDER
from lbhealth.verdict import Status

#: What users lose when a server of the role is down (the guide's failover notes).
IMPACT = {
    "database": (
        "SQL Server unreachable: no activity, chat, email or case can be read or saved;"
        " the whole cluster stops and no server can start"
    ),
    "file": (
        "file server unreachable: attachments and knowledge-base content cannot be read"
        " or stored; services that use the shared file location fail"
    ),
    "messaging": (
        "active chats paused, new chats not processed, messages in transit lost"
        " until the messaging server is back"
    ),
    "services": (
        "emails not retrieved or sent, workflows and routing stop (RX, DX, EAAS),"
        " ICM integration (MR, ARM) lost: new activities reach no agent"
    ),
    "application": (
        "the chat sessions on that application server are lost; its agents must log in again"
    ),
    "web": (
        "agents and customers connected through that web server lose their sessions and must"
        " reconnect through another one"
    ),
}

#: A role's or the cluster's state: DEGRADED is some nodes down but enough still UP.
UP, DEGRADED, DOWN = "UP", "DEGRADED", "DOWN"


class Verdict(Protocol):
    """The part of a node verdict the cluster view reads."""

    @property
    def node(self) -> str: ...
    @property
    def role(self) -> str | None: ...
    @property
    def status(self) -> Status: ...
    @property
    def reason(self) -> str: ...


@dataclass(frozen=True, slots=True)
class NodeState:
    node: str
    status: str
    reason: str

    def to_json(self) -> dict[str, object]:
        return {"node": self.node, "status": self.status, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Pool:
    """The nodes of one role, judged together: UP while at least ``min_up`` are UP."""

    role: str
    nodes: tuple[NodeState, ...]
    min_up: int

    @property
    def up(self) -> int:
        return sum(n.status == UP for n in self.nodes)

    @property
    def status(self) -> str:
        if self.up < self.min_up:
            return DOWN
        return UP if self.up == len(self.nodes) else DEGRADED

    @property
    def summary(self) -> str:
        """``2/2 application nodes up (min 1)``, the body of ``/health/role/{role}``."""
        return f"{self.up}/{len(self.nodes)} {self.role} nodes up (min {self.min_up})"

    @property
    def impact(self) -> str | None:
        """What users lose, shown while any node of the role is not UP."""
        return IMPACT[self.role] if self.status != UP else None

    def to_json(self) -> dict[str, object]:
        return {
            "role": self.role,
            "status": self.status,
            "up": self.up,
            "total": len(self.nodes),
            "min_up": self.min_up,
            "summary": self.summary,
            "impact": self.impact,
            "nodes": [n.to_json() for n in self.nodes],
        }


def _state(verdict: Verdict, served: Mapping[str, tuple[str, str]]) -> NodeState:
    status, reason = served.get(verdict.node, (verdict.status.value, verdict.reason))
    return NodeState(verdict.node, status, reason)


def pool(
    role: str,
    verdicts: Iterable[Verdict],
    min_up: Mapping[str, int],
    served: Mapping[str, tuple[str, str]] | None = None,
) -> Pool:
    """The pool of ``role`` among ``verdicts`` (``min_up`` per role, default 1).

    ``served`` overrides a node's state and reason with what monitors are told
    (``DRAIN``, ``MAINT``): a drained or maintained node takes no new sessions, so it does
    not count towards the pool's capacity even while its backend is UP.
    """
    overrides = served or {}
    nodes = tuple(_state(v, overrides) for v in verdicts if v.role == role)
    return Pool(role, nodes, min_up.get(role, 1))


@dataclass(frozen=True, slots=True)
class ClusterView:
    """Every configured role in start order, and where the cluster is blocked."""

    #: (tier number in the guide's start order, its configured roles)
    tiers: tuple[tuple[int, tuple[Pool, ...]], ...]
    unassigned: tuple[NodeState, ...]

    @property
    def pools(self) -> list[Pool]:
        return [p for _, pools in self.tiers for p in pools]

    @property
    def blocking(self) -> tuple[int, tuple[Pool, ...]] | None:
        """The first tier (1-based) with a DOWN role: everything after it waits on it."""
        for number, pools in self.tiers:
            down = tuple(p for p in pools if p.status == DOWN)
            if down:
                return number, down
        return None

    @property
    def status(self) -> str:
        states = {p.status for p in self.pools}
        return DOWN if DOWN in states else DEGRADED if DEGRADED in states else UP

    @property
    def summary(self) -> str:
        """One line: ``DOWN: blocked at tier 4 (services: 0/1 ...)`` or ``UP: ...``."""
        blocking = self.blocking
        if blocking is not None:
            number, pools = blocking
            what = "; ".join(p.summary for p in pools)
            return f"DOWN: blocked at tier {number} ({what})"
        degraded = [p.role for p in self.pools if p.status == DEGRADED]
        if degraded:
            return f"DEGRADED: some {', '.join(degraded)} nodes down, enough still up"
        return "UP: every configured role has enough nodes up"

    def to_json(self) -> dict[str, object]:
        blocking = self.blocking
        return {
            "status": self.status,
            "summary": self.summary,
            "blocked_at": (
                {"tier": blocking[0], "roles": [p.role for p in blocking[1]]} if blocking else None
            ),
            "tiers": [
                {"tier": number, "roles": [p.to_json() for p in pools]}
                for number, pools in self.tiers
            ],
            "unassigned": [n.to_json() for n in self.unassigned],
        }


def cluster_view(
    verdicts: Iterable[Verdict],
    min_up: Mapping[str, int],
    served: Mapping[str, tuple[str, str]] | None = None,
) -> ClusterView:
    """Group node verdicts by role in the guide's start order; empty roles are left out."""
    known = list(verdicts)
    overrides = served or {}
    tiers = []
    for number, roles in enumerate(START_ORDER, 1):
        pools = tuple(p for p in (pool(r, known, min_up, overrides) for r in roles) if p.nodes)
        if pools:
            tiers.append((number, pools))
    unassigned = tuple(_state(v, overrides) for v in known if v.role not in ROLES)
    return ClusterView(tuple(tiers), unassigned)
