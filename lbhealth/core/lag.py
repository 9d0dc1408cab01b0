"""Is the scheduler keeping its schedule? Probe lateness measured, and said when it falls behind.

A machine that cannot keep up (too many checks, pages too heavy to read, a
starved process) must not silently probe less often than configured: the
verdicts would age while looking current. Each probe reports how late it
started (:data:`lbhealth.core.scheduler.OnStart`); over a sliding window this
says "behind" when too many probes were late, and logs each transition.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("lbhealth.scheduler")

#: A probe that starts this much after its planned time (and at least
#: :data:`LATE_FRACTION` of its interval) counts as late.
LATE_SECONDS = 0.5
LATE_FRACTION = 0.25
#: Behind: more than this share of the window's probes were late, among at least
#: :data:`MIN_PROBES` (a few late probes of a tiny inventory are no trend).
BEHIND_SHARE = 0.10
MIN_PROBES = 10
WINDOW = 60.0
#: Probes remembered at most (the window's share is computed over these).
_MAX_SAMPLES = 10_000


@dataclass(frozen=True, slots=True)
class LagReport:
    """The window's figures, for ``/readyz?verbose`` and the metrics."""

    probes: int
    late: int
    max_lag: float
    behind: bool

    def describe(self) -> str:
        if not self.probes:
            return "no probe started in the last minute"
        share = 100 * self.late / self.probes
        return (
            f"{self.late} of {self.probes} probes in the last {WINDOW:g}s started late"
            f" ({share:.0f}%, worst {self.max_lag:.1f}s)"
        )


class ScheduleLag:
    """Lateness of recent probe starts, and whether the schedule is kept."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._samples: deque[tuple[float, float, bool]] = deque()
        self._late = 0  # late probes among the samples
        self.late_total = 0
        self.behind = False

    def _trim(self) -> None:
        horizon = self._clock() - WINDOW
        samples = self._samples
        while samples and (samples[0][0] < horizon or len(samples) > _MAX_SAMPLES):
            self._late -= samples.popleft()[2]

    def started(self, lag: float, interval: float) -> None:
        """One probe started ``lag`` seconds after its plan (its check's ``interval``)."""
        late = lag > max(LATE_SECONDS, LATE_FRACTION * interval)
        self.late_total += late
        self._late += late
        self._samples.append((self._clock(), lag, late))
        self._trim()
        count = len(self._samples)
        behind = count >= MIN_PROBES and self._late > BEHIND_SHARE * count
        if behind != self.behind:
            self.behind = behind
            report = self.report()
            if behind:
                log.warning(
                    "probes fall behind their schedule: %s; verdicts age faster than configured",
                    report.describe(),
                    extra={"late": report.late, "probes": report.probes},
                )
            else:
                log.info("probes keep their schedule again", extra={"probes": report.probes})

    def report(self) -> LagReport:
        """The window's figures (O(window): for scrapes and ``/readyz``, not per probe)."""
        self._trim()
        probes = len(self._samples)
        max_lag = max((lag for _, lag, _ in self._samples), default=0.0)
        return LagReport(probes, self._late, max_lag, probes > 0 and self.behind)
