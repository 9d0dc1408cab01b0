"""Metrics of the probing side: is the schedule kept, is the probe process running.

Read at scrape time from :class:`lbhealth.core.lag.ScheduleLag` and the probe
process, so probing pays nothing extra for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from lbhealth.core.lag import ScheduleLag
from lbhealth.core.probe_process import ProbeProcess


class ProbingCollector(Collector):
    """Schedule lateness and the probe process's state."""

    def __init__(self, lag: ScheduleLag, prober: Callable[[], ProbeProcess | None]) -> None:
        self.lag = lag
        self.prober = prober

    def collect(self) -> Iterator[Metric]:
        report = self.lag.report()
        yield CounterMetricFamily(
            "lbhealth_probes_late",
            "Probes that started late against their schedule (busy process or no probe slot)",
            value=self.lag.late_total,
        )
        yield GaugeMetricFamily(
            "lbhealth_schedule_behind",
            "1 while more than 10% of the last minute's probes started late",
            value=int(report.behind),
        )
        yield GaugeMetricFamily(
            "lbhealth_schedule_lag_max_seconds",
            "Worst lateness of a probe start in the last minute",
            value=report.max_lag,
        )
        prober = self.prober()
        if prober is not None:
            yield GaugeMetricFamily(
                "lbhealth_probe_process_up",
                "1 while the probe process runs (background mode, probe_process: true)",
                value=int(prober.alive),
            )
            yield CounterMetricFamily(
                "lbhealth_probe_process_restarts",
                "Times the probe process was restarted (it died, fell silent or could not start)",
                value=prober.restarts,
            )
            yield CounterMetricFamily(
                "lbhealth_probe_process_stalls",
                "Times the probe process fell silent (its loop stuck) and was killed",
                value=prober.stalls,
            )
            yield CounterMetricFamily(
                "lbhealth_probe_process_start_failures",
                "Tries to start the probe process that failed (out of file descriptors,"
                " processes or memory)",
                value=prober.start_failures,
            )
