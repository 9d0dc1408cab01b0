"""A node's administrative state (enabled, drain, maint): who set it, when, why.

Entries are read back from places anyone may have written (the state file, the
shared store), so :func:`decode_entry` checks and bounds every field: one rule for
both, with the repairs it made named for a warning.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Literal, get_args

from lbhealth.config import MAX_ADMIN_REASON, AdminState
from lbhealth.text.clean import clean_reason

ADMIN_STATES: tuple[AdminState, ...] = get_args(AdminState)
Source = Literal["api", "inventory", "default"]
#: Longest operator name kept (``by``).
MAX_OPERATOR = 80
#: Latest time accepted in ``at`` (year 9999): later ones cannot be formatted.
_LATEST = 253_402_300_799.0


@dataclass(frozen=True, slots=True)
class AdminEntry:
    """A node's administrative state and where it came from."""

    state: AdminState
    reason: str
    source: Source
    by: str | None = None
    at: float | None = None

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def _text(raw: object, limit: int, field: str, repairs: list[str]) -> str:
    """A text field of an entry as one clean line of at most ``limit``; other types are dropped."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        repairs.append(f"{field}: {type(raw).__name__} is not text; dropped")
        return ""
    shown = clean_reason(raw, limit)
    if len(raw) > limit:
        repairs.append(f"{field}: {len(raw)} characters; cut to {limit}")
    elif shown != raw:
        repairs.append(f"{field}: not one printable line; cleaned")
    return shown


def _time(raw: object, field: str, repairs: list[str]) -> float | None:
    """Seconds since the epoch, or None: NaN, infinities, negatives and non-numbers are dropped."""
    if raw is None:
        return None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        at = float(raw)
        if math.isfinite(at) and 0 <= at <= _LATEST:
            return at
    repairs.append(f"{field}: {clean_reason(str(raw), 40)!r} is not a time; dropped")
    return None


def decode_entry(raw: object, where: str, repairs: list[str]) -> AdminEntry:
    """An API-set entry read back: ValueError without a valid ``state``; the other fields
    repaired when they do not fit (wrong type, too long, not a finite time), each repair
    named in ``repairs``."""
    if not isinstance(raw, Mapping) or raw.get("state") not in ADMIN_STATES:
        raise ValueError(f"{where}: expected {{state: enabled|drain|maint, ...}}")
    return AdminEntry(
        state=raw["state"],
        reason=_text(raw.get("reason"), MAX_ADMIN_REASON, f"{where}.reason", repairs),
        source="api",
        by=_text(raw.get("by"), MAX_OPERATOR, f"{where}.by", repairs) or "unknown",
        at=_time(raw.get("at"), f"{where}.at", repairs),
    )


def encode_entry(entry: AdminEntry) -> dict[str, object]:
    """What :func:`decode_entry` reads back."""
    return {"state": entry.state, "reason": entry.reason, "by": entry.by, "at": entry.at}
