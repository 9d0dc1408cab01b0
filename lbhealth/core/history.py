"""The last verdict changes of each node, in memory: when app2 went down, why, when back.

Only changes are kept (not every probe), in a bounded deque per node, so the
memory is ``nodes x history_size`` entries however long the service runs and
however often it is polled. A node's verdict is taken once every one of its
checks has a result; before that, a half-probed node would record a change
that never happened.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from lbhealth.verdict import CheckResult, Status, aggregate


@dataclass(frozen=True, slots=True)
class Change:
    """A node's verdict changed to ``status`` at ``at`` (epoch seconds)."""

    at: float
    status: Status
    reason: str

    def to_json(self) -> dict[str, object]:
        return {"at": self.at, "status": self.status.value, "reason": self.reason}


class History:
    """Per node, the last ``size`` verdict changes, oldest first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._changes: dict[str, deque[Change]] = {}

    def observe(self, node: str, results: Iterable[CheckResult | None], at: float) -> None:
        """Record the node's verdict if it differs from the last one recorded."""
        known = list(results)
        if any(r is None for r in known):
            return
        status, reason = aggregate(r for r in known if r is not None)
        changes = self._changes.setdefault(node, deque(maxlen=self.size))
        if not changes or changes[-1].status is not status:
            changes.append(Change(at, status, reason))

    def of(self, node: str) -> list[Change]:
        return list(self._changes.get(node, ()))

    def last_change(self, node: str) -> Change | None:
        changes = self._changes.get(node)
        return changes[-1] if changes else None
