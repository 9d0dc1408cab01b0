"""Verdict data: what one check concluded, and how a node's checks combine.

Small replaceable parts, as in Spring Boot Actuator: an interpreter concludes
an :class:`Outcome`, a check turns it into a :class:`CheckResult`, and
:func:`aggregate` combines a node's results into a :class:`NodeVerdict` (the
worst status wins). Mapping a verdict to HTTP is the serving side's business
(:mod:`lbhealth.serve.answer`). Pure data: shared by every layer above.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lbhealth.text.clean import clean_data, clean_reason, quoted


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
    def from_json(cls, data: Any) -> CheckResult:
        """The result :meth:`to_json` wrote (latency to 0.1 ms), read back.

        Results travel between lbhealth instances (a shared store) and across
        restarts (the verdict file): what comes from there is checked field by
        field and its text cleaned and bounded again, like any backend's, before a
        monitor reads it. ValueError, naming the field, on anything else.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"result must be an object, not {type(data).__name__}")
        details = data.get("details", {})
        if not isinstance(details, Mapping):
            raise ValueError(f"details must be an object, not {type(details).__name__}")
        status = text_field(data, "status")
        if status not in {s.value for s in Status}:
            raise ValueError(f"status must be UP or DOWN, not {quoted(status)}")
        return cls(
            name=clean_reason(text_field(data, "name")),
            kind=clean_reason(text_field(data, "kind")),
            target=clean_reason(text_field(data, "target")),
            status=Status(status),
            reason=clean_reason(text_field(data, "reason")),
            latency=number_field(data, "latency_ms") / 1000,
            checked_at=number_field(data, "checked_at"),
            details=clean_data(dict(details)),
        )


def text_field(data: Mapping[str, Any], name: str) -> str:
    """A text field of data read back from elsewhere; ValueError, naming it, if not text."""
    value = _field(data, name)
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, not {type(value).__name__}")
    return value


def number_field(data: Mapping[str, Any], name: str) -> float:
    """A finite number read back from elsewhere; ValueError, naming it, on anything else.

    JSON allows integers of any length and ``Infinity``/``NaN``: a time of 10**400
    or NaN must not reach the freshness rule.
    """
    value = _field(data, name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, not {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{name} is out of range") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, not {number}")
    return number


def _field(data: Mapping[str, Any], name: str) -> Any:
    try:
        return data[name]
    except KeyError:
        raise ValueError(f"{name} is missing") from None


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
