"""Verdict data: what one check concluded, and how a node's checks combine.

Small replaceable parts, as in Spring Boot Actuator: an interpreter concludes
an :class:`Outcome`, a check turns it into a :class:`CheckResult`, and
:func:`aggregate` combines a node's results into a :class:`NodeVerdict` (the
worst status wins). Mapping a verdict to HTTP is the serving side's business
(:mod:`lbhealth.serve.answer`). Pure data: shared by every layer above.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lbhealth.text.clean import clean_data, clean_reason


class Status(enum.Enum):
    """A check's or node's health. The value is the word monitors match."""

    UP = "UP"
    DOWN = "DOWN"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an interpreter concluded from one answer: pure data, no I/O.

    ``details`` carries what the interpreter parsed (processes, links) for the
    JSON view; it must be JSON-serialisable. :meth:`up` and :meth:`down` make
    the reason and every string of the details one clean, bounded line
    (``clean_reason``), so nothing a backend sends is shown raw anywhere.
    """

    status: Status
    reason: str
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def up(cls, reason: str, **details: Any) -> Outcome:
        return cls(Status.UP, clean_reason(reason), clean_data(details))

    @classmethod
    def down(cls, reason: str, **details: Any) -> Outcome:
        return cls(Status.DOWN, clean_reason(reason), clean_data(details))


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's verdict with the evidence a human needs to trust it."""

    name: str
    kind: str
    target: str
    status: Status
    reason: str
    latency: float
    checked_at: float
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "target": self.target,
            "status": self.status.value,
            "reason": self.reason,
            "latency_ms": round(self.latency * 1000, 1),
            "checked_at": self.checked_at,
            **({"details": dict(self.details)} if self.details else {}),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CheckResult:
        """The result :meth:`to_json` wrote (latency to 0.1 ms), read back.

        Results travel between lbhealth instances (a shared store) and across
        restarts (the verdict file): text from there is cleaned again before a
        monitor reads it. Raises KeyError, TypeError or ValueError on anything else.
        """
        details = data.get("details", {})
        if not isinstance(details, Mapping):
            raise TypeError(f"details must be a mapping, not {type(details).__name__}")
        return cls(
            name=str(data["name"]),
            kind=str(data["kind"]),
            target=str(data["target"]),
            status=Status(data["status"]),
            reason=clean_reason(str(data["reason"])),
            latency=float(data["latency_ms"]) / 1000,
            checked_at=float(data["checked_at"]),
            details=dict(details),
        )


def aggregate(results: Iterable[CheckResult]) -> tuple[Status, str]:
    """Combine a node's check results: UP only when every check is UP.

    The reason names each failing check (``name: reason``) so that a monitor's
    one-line answer already says where to look.
    """
    failing = [r for r in results if r.status is not Status.UP]
    if not failing:
        return Status.UP, ""
    return Status.DOWN, clean_reason("; ".join(f"{r.name}: {r.reason}" for r in failing))


@dataclass(frozen=True, slots=True)
class NodeVerdict:
    """A node's combined verdict and the results it was built from."""

    node: str
    role: str | None
    status: Status
    reason: str
    checks: tuple[CheckResult, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "node": self.node,
            "role": self.role,
            "status": self.status.value,
            "reason": self.reason,
            "checks": [c.to_json() for c in self.checks],
        }
