"""``/metrics`` over a real server: what Prometheus scrapes matches what happened."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from lbhealth.demo.cluster import IIS_APPPOOL_STOPPED, IIS_WELCOME
from lbhealth.demo.simserver import SimServer
from tests._inventory import inventory, node
from tests._servers import Running, free_port

Sim = Callable[..., SimServer]
Serve = Callable[..., Running]


def scrape(lb: Running) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = httpx.get(f"{lb.url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_metrics_report_verdicts_probes_and_requests(sim: Sim, lbhealth_server: Serve) -> None:
    up, down = sim({"/": IIS_WELCOME}), sim({"/": IIS_APPPOOL_STOPPED})
    nodes = {
        "web1": node("iis", up.url()),
        "web2": node("iis", down.url()),
        "db1": node("tcp", f"127.0.0.1:{free_port()}"),
    }
    lb = lbhealth_server(inventory(nodes, interval=60))
    before = scrape(lb)
    for _ in range(7):
        httpx.get(f"{lb.url}/health/web1")
    httpx.get(f"{lb.url}/health/nope")
    after = scrape(lb)

    assert after[("lbhealth_check_up", frozenset({("node", "web1"), ("check", "iis")}))] == 1
    assert after[("lbhealth_check_up", frozenset({("node", "web2"), ("check", "iis")}))] == 0
    assert after[("lbhealth_node_up", frozenset({("node", "db1")}))] == 0
    probes = {
        dict(labels)["reason"]: value
        for (name, labels), value in after.items()
        if name == "lbhealth_probes_total"
    }
    # Reason kinds, not free text: the refused TCP port, the HTTP.sys 503 page, the UP page.
    assert probes == {"refused": 1, "verdict": 1, "ok": 1}
    web1 = frozenset({("node", "web1"), ("check", "iis")})
    assert after[("lbhealth_probe_duration_seconds_count", web1)] == 1

    def grew(name: str) -> float:
        return after[(name, frozenset())] - before[(name, frozenset())]

    assert grew("lbhealth_health_requests_total") == 8
    assert grew("lbhealth_cache_hits_total") == 7
    assert grew("lbhealth_cache_misses_total") == 0
