"""What a load balancer is told: a node's verdict combined with its admin state.

One small table decides it, so HAProxy, F5, Kubernetes and curl all see the
same thing:

========  ============================  =====  ===========================
served    when                          HTTP   body (first word)
========  ============================  =====  ===========================
up        enabled and UP                200    ``UP``
drain     drained and UP                404    ``DRAIN: <reason>``
down      enabled or drained, not UP    503    ``DOWN: <reason>``
maint     in maintenance, any verdict   503    ``MAINT: <reason>``
========  ============================  =====  ===========================

404 for drain is what HAProxy's ``http-check disable-on-404`` turns into NOLB
(no new sessions, existing ones finish) for a server that is UP; any other
monitor (Kubernetes: any non-2xx/3xx) sees it as not ready. A drained node
whose backend breaks reads DOWN: draining must never hide a failure.

Every answer also carries ``X-LBHealth-State: up|drain|down|maint``: the
token F5 receive strings match (against the whole response). Reasons quote
backends; every reason is made by ``clean_reason`` (interpreters' outcomes,
a node's combined reason, admin reasons), which defuses that token and keeps
them on one line, so no reason anywhere (answers, pools, JSON, history, logs)
can forge the token, start a header line or a body line of its own.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from lbhealth.store.entries import AdminEntry
from lbhealth.text.clean import clean_reason
from lbhealth.verdict import NodeVerdict, Status

STATE_HEADER = "X-LBHealth-State"


class Served(enum.Enum):
    """The state a load balancer acts on; the value is the ``X-LBHealth-State`` token."""

    UP = "up"
    DRAIN = "drain"
    DOWN = "down"
    MAINT = "maint"


#: The one mapping from a state word to HTTP, as Spring's ``SimpleHttpCodeStatusMapper``:
#: node answers (UP, DRAIN, DOWN, MAINT) and pools and the cluster (UP, DEGRADED, DOWN).
#: Only "not serving" is 503; DRAIN is 404 for ``http-check disable-on-404``.
HTTP_CODES = {"UP": 200, "DEGRADED": 200, "DRAIN": 404, "DOWN": 503, "MAINT": 503}


def http_code(state: str) -> int:
    """HTTP code for a state word; anything unknown is not serving (503)."""
    return HTTP_CODES.get(state.upper(), 503)


def served_state(status: Status, admin: AdminEntry) -> Served:
    if admin.state == "maint":
        return Served.MAINT
    if status is not Status.UP:
        return Served.DOWN
    return Served.DRAIN if admin.state == "drain" else Served.UP


@dataclass(frozen=True, slots=True)
class MonitorAnswer:
    """The plain-text answer to a monitor, before it becomes HTTP."""

    served: Served
    reason: str

    @property
    def code(self) -> int:
        return http_code(self.served.name)

    @property
    def body(self) -> bytes:
        if self.served is Served.UP:
            return b"UP\n"
        return f"{self.served.name}: {self.reason}\n".encode()


def monitor_answer(verdict: NodeVerdict, admin: AdminEntry) -> MonitorAnswer:
    served = served_state(verdict.status, admin)
    if served is Served.DOWN:
        reason = verdict.reason
    elif served is Served.UP:
        reason = ""
    else:
        default = "in maintenance" if served is Served.MAINT else "draining"
        reason = admin.reason or f"{default} (set by {admin.source})"
    return MonitorAnswer(served, clean_reason(reason))


def node_json(verdict: NodeVerdict, admin: AdminEntry) -> dict[str, object]:
    """The JSON view of a node: verdict, admin state and what monitors are served."""
    answer = monitor_answer(verdict, admin)
    return {**verdict.to_json(), "admin": admin.to_json(), "served": answer.served.value}
