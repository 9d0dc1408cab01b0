"""A node's administrative state (enabled, drain, maint): who set it, when, why."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal, get_args

from lbhealth.config import AdminState

ADMIN_STATES: tuple[AdminState, ...] = get_args(AdminState)
Source = Literal["api", "inventory", "default"]
#: Longest operator name kept (``by``).
MAX_OPERATOR = 80


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
