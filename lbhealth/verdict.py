"""Verdict data: what one check concluded, and how a node's checks combine.

Three small replaceable parts, as in Spring Boot Actuator: a check produces a
:class:`CheckResult`, :func:`aggregate` combines a node's results (the worst
status wins), and :func:`http_code` is the only place that maps a status to an
HTTP code.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: Longest reason served to a monitor. Monitors read the first line of a small
#: body; a reason that embeds a whole stack trace helps nobody at 3 a.m.
MAX_REASON = 300

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]+")


class Status(enum.Enum):
    """A check's or node's health. The value is the word monitors match."""

    UP = "UP"
    DOWN = "DOWN"


def clean_reason(text: str, limit: int = MAX_REASON) -> str:
    """Fold a reason onto one printable line of bounded length.

    Reasons quote backend output (error titles, exception names), which may hold
    newlines or control characters; a monitor reads one line, and a log line
    must not be splittable by a backend.
    """
    one_line = " ".join(_UNPRINTABLE.sub(" ", text).split())
    if len(one_line) > limit:
        return one_line[: limit - 3].rstrip() + "..."
    return one_line


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an interpreter concluded from one answer: pure data, no I/O.

    ``details`` carries what the interpreter parsed (processes, links) for the
    JSON view; it must be JSON-serialisable.
    """

    status: Status
    reason: str
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def up(cls, reason: str, **details: Any) -> Outcome:
        return cls(Status.UP, clean_reason(reason), details)

    @classmethod
    def down(cls, reason: str, **details: Any) -> Outcome:
        return cls(Status.DOWN, clean_reason(reason), details)


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


def aggregate(results: Iterable[CheckResult]) -> tuple[Status, str]:
    """Combine a node's check results: UP only when every check is UP.

    The reason names each failing check (``name: reason``) so that a monitor's
    one-line answer already says where to look.
    """
    failing = [r for r in results if r.status is not Status.UP]
    if not failing:
        return Status.UP, ""
    return Status.DOWN, clean_reason("; ".join(f"{r.name}: {r.reason}" for r in failing))


def http_code(status: Status) -> int:
    """The one mapping from health to HTTP: UP is 200, anything else 503."""
    return 200 if status is Status.UP else 503
