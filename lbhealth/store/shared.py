"""What instances share through the store: key names, channels, and a shared result's form.

A check is shared under a key that names its node and check and a digest of its
resolved spec (:func:`lbhealth.core.sharing.shared_key`): two instances share a
verdict only when they probe the same thing, so a rolling update that changes a
check never serves one version's verdict for the other.

Everything lives under :data:`PREFIX`; one lbhealth deployment per Redis database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lbhealth.verdict import CheckResult, number_field, text_field

PREFIX = "lbhealth:"
#: Channel of every result published (:class:`lbhealth.store.publish.ResultPublisher`).
RESULTS = f"{PREFIX}results"
#: Hash of the API-set admin entries, and the channel of their changes.
ADMIN = f"{PREFIX}admin"


def lease_key(key: str) -> str:
    """Who probes the check now (a lease: the holder's instance id, with a TTL)."""
    return f"{PREFIX}lease:{key}"


def verdict_key(key: str) -> str:
    """The check's latest shared result (expires with the result's lifetime)."""
    return f"{PREFIX}verdict:{key}"


@dataclass(frozen=True, slots=True)
class SharedResult:
    """A check's result as instances exchange it: with the wall-clock time of its probe.

    Wall time, because each instance's monotonic clock is its own; each converts on
    receipt (:meth:`lbhealth.store.verdicts.VerdictStore.from_wall`).
    """

    key: str
    result: CheckResult
    probed_at: float
    by: str

    def to_json(self) -> dict[str, Any]:
        data = {"key": self.key, "by": self.by, "probed_at": self.probed_at}
        return {**data, "result": self.result.to_json()}

    @classmethod
    def from_json(cls, data: Any) -> SharedResult:
        """Read :meth:`to_json`'s data; ValueError, naming the field, on anything else (a foreign
        writer, a damaged file): the result is checked and its text cleaned
        (:meth:`lbhealth.verdict.CheckResult.from_json`)."""
        try:
            if not isinstance(data, Mapping):
                raise ValueError(f"an object, not {type(data).__name__}")
            return cls(
                key=text_field(data, "key"),
                result=CheckResult.from_json(data.get("result")),
                probed_at=number_field(data, "probed_at"),
                by=text_field(data, "by"),
            )
        except ValueError as exc:
            raise ValueError(f"not a shared result: {exc}") from None

    def encode(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"))

    @classmethod
    def decode(cls, raw: bytes | str) -> SharedResult:
        """Read :meth:`encode`'s text; ValueError on anything else."""
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:  # JSON and Unicode errors; nesting too deep
            raise ValueError(f"not a shared result: {type(exc).__name__}: {exc}") from None
        return cls.from_json(data)
