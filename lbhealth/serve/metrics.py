"""Prometheus metrics at ``/metrics``.

Probe metrics are recorded when a probe reports (a few per second). Verdicts,
served states and the ``/health`` counters are read only when Prometheus
scrapes, by a custom collector: the monitor fast path pays nothing but plain
``int`` increments. Label values are bounded by the inventory (node, role,
check) and by fixed vocabularies (served state, outcome, reason kind): never
free text from a backend.

``lbhealth_node_served`` is what a load balancer acts on: a drained node stays
``lbhealth_node_up 1`` while HAProxy takes it out, so alerts and dashboards read
the served state, one series per state as kube-state-metrics does for pod
phases. No ``_created`` series: they double the series count and no alert here
uses them.
"""

from __future__ import annotations

from collections.abc import Iterator

import prometheus_client
from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from lbhealth import __version__
from lbhealth.core.checks import Check
from lbhealth.serve.answer import Served, served_state
from lbhealth.serve.http import NO_STORE
from lbhealth.serve.prebuilt import AnswerBook
from lbhealth.serve.schemas import Responses
from lbhealth.verdict import CheckResult, NodeVerdict, Status

#: Probe durations from a fast loopback answer to a full timeout.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]


class _StateCollector(Collector):
    """Current verdicts, served states and ``/health`` counters, computed at scrape time."""

    def __init__(self, book: AnswerBook) -> None:
        self.book = book

    def _verdicts(self, check_up: GaugeMetricFamily) -> Iterator[NodeVerdict]:
        """Each node's verdict from its checks' current results, filling ``check_up``.

        Background mode: stale or missing results count as DOWN, as monitors are
        told. On-demand mode: the latest result of each check; a node with a
        check never probed yet has no verdict to report.
        """
        engine = self.book.engine
        for node, checks in engine.checks.items():
            results: list[CheckResult] = []
            for check in checks:
                result = engine.current(check) if engine.background else engine.latest(check.key)
                if result is not None:
                    check_up.add_metric([node, check.name], int(result.status is Status.UP))
                    results.append(result)
            if len(results) == len(checks):
                yield engine.verdict(node, tuple(results))

    def collect(self) -> Iterator[Metric]:
        check_up = GaugeMetricFamily(
            "lbhealth_check_up",
            "1 when the check's current verdict is UP, 0 when DOWN (stale included)",
            labels=["node", "check"],
        )
        node_up = GaugeMetricFamily(
            "lbhealth_node_up", "1 when every check of the node is UP", labels=["node", "role"]
        )
        node_served = GaugeMetricFamily(
            "lbhealth_node_served",
            "1 for the state monitors are served for the node (up, drain, down, maint), 0 for"
            " the others",
            labels=["node", "role", "state"],
        )
        for verdict in self._verdicts(check_up):
            role = verdict.role or ""
            node_up.add_metric([verdict.node, role], int(verdict.status is Status.UP))
            served = served_state(verdict.status, self.book.admin.get(verdict.node))
            for state in Served:
                node_served.add_metric([verdict.node, role, state.value], int(state is served))
        yield from (check_up, node_up, node_served)
        counts = self.book.served
        yield CounterMetricFamily(
            "lbhealth_health_requests",
            "/health/{node} text answers served (known and unknown nodes)",
            value=counts.prebuilt + counts.computed + counts.unknown,
        )
        yield CounterMetricFamily(
            "lbhealth_cache_hits",
            "/health answers served prebuilt from memory",
            value=counts.prebuilt,
        )
        yield CounterMetricFamily(
            "lbhealth_cache_misses",
            "/health answers computed: verdict stale or not yet probed (background),"
            " expired from the cache (on-demand)",
            value=counts.computed,
        )
        build = GaugeMetricFamily(
            "lbhealth_build_info", "Always 1; the running lbhealth's version", labels=["version"]
        )
        build.add_metric([__version__], 1)
        yield build


class Metrics:
    """One registry per app, so several apps in a process (tests) do not collide."""

    def __init__(self, book: AnswerBook) -> None:
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
        #: The (node, check) label pairs of the duration histogram.
        self._timed: set[tuple[str, str]] = set()
        self.registry.register(_StateCollector(book))
        # CPU, memory, open file descriptors and start time of this process (Linux /proc).
        ProcessCollector(registry=self.registry)
        self._engine = book.engine
        book.engine.observers.append(self._on_probe)

    def _on_probe(self, check: Check, result: CheckResult, kind: str) -> None:
        self._duration.labels(check.node, check.name).observe(result.latency)
        self._timed.add((check.node, check.name))
        self._probes.labels(result.status.value.lower(), kind).inc()

    def _forget_removed(self) -> None:
        """Drop the duration series of checks a reload removed: Prometheus would otherwise
        keep scraping a node that no longer exists, as if it were still probed."""
        current = {c.key for checks in self._engine.checks.values() for c in checks}
        for node, check in self._timed - current:
            self._duration.remove(node, check)
        self._timed &= current

    def exposition(self) -> Response:
        """The text exposition; HEAD gets the same headers (uvicorn drops the body)."""
        self._forget_removed()
        return Response(
            generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST, headers=NO_STORE
        )

    def router(self) -> APIRouter:
        """``GET`` and ``HEAD /metrics`` (blackbox checks and some scrapers send HEAD)."""
        router = APIRouter()
        documented: Responses = {200: {"description": "Prometheus text exposition format"}}
        body = {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}

        async def metrics() -> Response:
            """Prometheus text exposition of probe, verdict, served-state and process metrics."""
            return self.exposition()

        get: Responses = {200: {**documented[200], "content": body}}
        for method, responses in (("GET", get), ("HEAD", documented)):
            router.add_api_route(
                "/metrics",
                metrics,
                methods=[method],
                operation_id=f"{method.lower()}_metrics",
                response_class=Response,
                responses=responses,
            )
        return router
