"""Prometheus metrics at ``/metrics``.

Probe metrics are recorded when a probe reports (a few per second). Verdicts
and the ``/health`` counters are read only when Prometheus scrapes, by a
custom collector: the monitor fast path pays nothing but plain ``int``
increments. Label values are bounded by the inventory (node, check) and by
fixed vocabularies (outcome, reason kind): never free text from a backend.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from lbhealth.core.checks import Check
from lbhealth.core.engine import Engine
from lbhealth.serve.prebuilt import ServedCounts
from lbhealth.verdict import CheckResult, Status

#: Probe durations from a fast loopback answer to a full timeout.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _StateCollector(Collector):
    """Current verdicts and ``/health`` counters, computed at scrape time."""

    def __init__(self, engine: Engine, served: ServedCounts) -> None:
        self.engine = engine
        self.served = served

    def _results(self) -> Iterator[tuple[Check, CheckResult]]:
        engine = self.engine
        for checks in engine.checks.values():
            for check in checks:
                if engine.background:
                    yield check, engine.current(check)  # stale counts as DOWN
                elif (latest := engine.latest(check.key)) is not None:
                    yield check, latest

    def collect(self) -> Iterator[Metric]:
        check_up = GaugeMetricFamily(
            "lbhealth_check_up",
            "1 when the check's current verdict is UP, 0 when DOWN (stale included)",
            labels=["node", "check"],
        )
        node_up: dict[str, int] = {}
        for check, result in self._results():
            up = int(result.status is Status.UP)
            check_up.add_metric([check.node, check.name], up)
            node_up[check.node] = min(node_up.get(check.node, 1), up)
        yield check_up
        nodes = GaugeMetricFamily(
            "lbhealth_node_up", "1 when every check of the node is UP", labels=["node"]
        )
        for node, up in node_up.items():
            nodes.add_metric([node], up)
        yield nodes
        served = self.served
        yield CounterMetricFamily(
            "lbhealth_health_requests",
            "/health/{node} text answers served (known and unknown nodes)",
            value=served.prebuilt + served.computed + served.unknown,
        )
        yield CounterMetricFamily(
            "lbhealth_cache_hits",
            "/health answers served prebuilt from memory",
            value=served.prebuilt,
        )
        yield CounterMetricFamily(
            "lbhealth_cache_misses",
            "/health answers computed: verdict stale or not yet probed (background),"
            " expired from the cache (on-demand)",
            value=served.computed,
        )


class Metrics:
    """One registry per app, so several apps in a process (tests) do not collide."""

    def __init__(self, engine: Engine, served: ServedCounts) -> None:
        self.registry = CollectorRegistry()
        self._duration = Histogram(
            "lbhealth_probe_duration_seconds",
            "Time a probe took, per check",
            ["node", "check"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self._probes = Counter(
            "lbhealth_probes",
            "Probes by outcome and reason kind (timeout, refused, tls, verdict, ok, ...)",
            ["outcome", "reason"],
            registry=self.registry,
        )
        self.registry.register(_StateCollector(engine, served))
        engine.observers.append(self._on_probe)

    def _on_probe(self, check: Check, result: CheckResult, kind: str) -> None:
        self._duration.labels(check.node, check.name).observe(result.latency)
        self._probes.labels(result.status.value.lower(), kind).inc()

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.get("/metrics", response_class=Response)
        async def metrics() -> Response:
            """Prometheus text exposition of probe, verdict and request metrics."""
            return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

        return router
