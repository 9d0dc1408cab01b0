"""The JSON of the cluster views (``/cluster``, ``/health/role/{role}``, ``/history``), as models.

Descriptions only, as in :mod:`lbhealth.serve.schemas`: the bodies are built
by :mod:`lbhealth.cluster.model`'s ``to_json`` methods.
"""

from __future__ import annotations

from typing import Literal

from lbhealth.serve.schemas import Change, Model

#: A role's or the cluster's state: DEGRADED is some nodes down but enough still up.
PoolState = Literal["UP", "DEGRADED", "DOWN"]


class PoolNode(Model):
    """A node as its pool counts it: DRAIN and MAINT (what monitors see) are not UP."""

    node: str
    status: Literal["UP", "DOWN", "DRAIN", "MAINT"]
    reason: str


class Pool(Model):
    """A role's nodes judged together: UP while at least ``min_up`` of them are UP."""

    role: str
    status: PoolState
    up: int
    total: int
    min_up: int
    summary: str
    #: What users lose while the role is not fully UP (the guide's failover notes).
    impact: str | None
    nodes: list[PoolNode]


class Tier(Model):
    """One step of the guide's start order (1 database ... 5 web)."""

    tier: int
    roles: list[Pool]


class BlockedAt(Model):
    """The first tier with a DOWN role: everything after it waits on it."""

    tier: int
    roles: list[str]


class ClusterStatus(Model):
    """``/cluster``: every configured role in start order, and where the cluster is blocked."""

    status: PoolState
    summary: str
    blocked_at: BlockedAt | None
    tiers: list[Tier]
    unassigned: list[PoolNode]


class UnknownRole(Model):
    """The JSON answer for a role no node of the inventory has."""

    error: str


class NodeHistory(Model):
    """``/history/{node}``: the node's last verdict changes, oldest first."""

    node: str
    history: list[Change]
