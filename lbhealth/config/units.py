"""Parsing of the human-friendly durations and sizes the inventory accepts."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?\s*$", re.IGNORECASE)
_DURATION_FACTORS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}

_SIZE = re.compile(r"^\s*(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$", re.IGNORECASE)
_SIZE_FACTORS = {
    "b": 1,
    "k": 1024,
    "kb": 1000,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gb": 1000**3,
    "gib": 1024**3,
}


def parse_duration(value: object) -> float:
    """Seconds from ``3``, ``2.5``, ``"500ms"``, ``"2s"``, ``"1m"``.

    A bare number means seconds, as the issue fixes; a unit suffix exists
    because operators think of probe timeouts in milliseconds.
    """
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 2, '500ms' or '2s', not a boolean")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a duration; write e.g. 2, '500ms' or '2s'")
        unit = (match.group(2) or "s").lower()
        seconds = float(match.group(1)) * _DURATION_FACTORS[unit]
    else:
        raise ValueError(f"expected a duration such as 2, '500ms' or '2s', got {value!r}")
    if seconds <= 0:
        raise ValueError(f"a duration must be positive, got {value!r}")
    return seconds


def parse_size(value: object) -> int:
    """Bytes from ``1048576``, ``"64KiB"``, ``"1MiB"``."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 1048576 or '1MiB', not a boolean")
    if isinstance(value, int):
        size = value
    elif isinstance(value, str):
        match = _SIZE.match(value)
        if not match:
            raise ValueError(f"{value!r} is not a size; write e.g. 65536, '64KiB' or '1MiB'")
        size = int(match.group(1)) * _SIZE_FACTORS[(match.group(2) or "b").lower()]
    else:
        raise ValueError(f"expected a size such as 1048576 or '1MiB', got {value!r}")
    if size <= 0:
        raise ValueError(f"a size must be positive, got {value!r}")
    return size
