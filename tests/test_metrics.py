"""``/metrics`` over a real server: what Prometheus scrapes matches what happened.

The exposition is linted by Prometheus's own ``promtool check metrics``, and the
alert rules the chart ships (``helm/lbhealth/files/lbhealth-alerts.yaml``) are run by
``promtool test rules`` on series scraped from two real replicas, so that an alert is
shown to fire once per node, not once per replica.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from lbhealth import __version__
from lbhealth.demo.cluster import IIS_APPPOOL_STOPPED, IIS_WELCOME, JBOSS_WELCOME
from lbhealth.demo.simserver import SimServer
from tests._admin import ADMIN, AUTH, set_state
from tests._inventory import inventory, jboss_node, node, write
from tests._servers import Running, free_port, require_tool

Sim = Callable[..., SimServer]
Serve = Callable[..., Running]
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
CHART = Path(__file__).resolve().parents[1] / "helm" / "lbhealth"
ALERTS = CHART / "files" / "lbhealth-alerts.yaml"
STATES = ("up", "drain", "down", "maint")


def scrape(lb: Running) -> Samples:
    response = httpx.get(f"{lb.url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def labels(**pairs: str) -> frozenset[tuple[str, str]]:
    return frozenset(pairs.items())


def test_metrics_report_verdicts_probes_and_requests(sim: Sim, lbhealth_server: Serve) -> None:
    up, down = sim({"/": IIS_WELCOME}), sim({"/": IIS_APPPOOL_STOPPED})
    nodes = {
        "web1": node("iis", up.url(), "web"),
        "web2": node("iis", down.url(), "web"),
        "db1": node("tcp", f"127.0.0.1:{free_port()}"),
    }
    lb = lbhealth_server(inventory(nodes, **{**ADMIN, "interval": 60}))
    before = scrape(lb)
    for _ in range(7):
        httpx.get(f"{lb.url}/health/web1")
    httpx.get(f"{lb.url}/health/nope")
    after = scrape(lb)

    assert after[("lbhealth_check_up", labels(node="web1", check="iis"))] == 1
    assert after[("lbhealth_check_up", labels(node="web2", check="iis"))] == 0
    assert after[("lbhealth_node_up", labels(node="web1", role="web"))] == 1
    assert after[("lbhealth_node_up", labels(node="db1", role=""))] == 0  # no role: empty label
    probes = {
        dict(labels)["reason"]: value
        for (name, labels), value in after.items()
        if name == "lbhealth_probes_total"
    }
    # Reason kinds, not free text: the refused TCP port, the HTTP.sys 503 page, the UP page.
    assert probes == {"refused": 1, "verdict": 1, "ok": 1}
    web1 = labels(node="web1", check="iis")
    assert after[("lbhealth_probe_duration_seconds_count", web1)] == 1

    def grew(name: str) -> float:
        return after[(name, frozenset())] - before[(name, frozenset())]

    assert grew("lbhealth_health_requests_total") == 8
    assert grew("lbhealth_cache_hits_total") == 7
    assert grew("lbhealth_cache_misses_total") == 0


def test_a_node_removed_by_a_reload_leaves_no_series(
    sim: Sim, lbhealth_server: Serve, tmp_path: Path
) -> None:
    backend = sim({"/": IIS_WELCOME})
    nodes = {name: node("iis", backend.url(), "web") for name in ("web1", "web2")}
    path = tmp_path / "inventory.yaml"
    write(path, inventory(nodes, **{**ADMIN, "interval": 60}))
    lb = lbhealth_server(path)
    web2 = labels(node="web2", check="iis")
    assert scrape(lb)[("lbhealth_probe_duration_seconds_count", web2)] == 1
    del nodes["web2"]
    write(path, inventory(nodes, **{**ADMIN, "interval": 60}))
    assert httpx.post(f"{lb.url}/admin/reload", headers=AUTH).json()["removed"] == 1
    left = {dict(series).get("node") for _, series in scrape(lb)}
    assert "web1" in left and "web2" not in left


def served(samples: Samples, node: str, role: str) -> dict[str, float]:
    return {
        state: samples[("lbhealth_node_served", labels(node=node, role=role, state=state))]
        for state in STATES
    }


def test_served_state_shows_drain_and_maint_that_node_up_hides(
    sim: Sim, lbhealth_server: Serve
) -> None:
    ok, broken = sim({"/": JBOSS_WELCOME}), sim({"/": IIS_APPPOOL_STOPPED})
    nodes = {n: jboss_node(ok) for n in ("app1", "app2", "app3")}
    nodes["web1"] = {"role": "web", "checks": [{"kind": "iis", "url": broken.url()}]}
    lb = lbhealth_server(inventory(nodes, **{**ADMIN, "interval": 60}))
    assert set_state(lb.url, "app1", "drain", "patching").status_code == 200
    assert set_state(lb.url, "app2", "maint", "disk").status_code == 200
    samples = scrape(lb)
    # The node's checks pass, but the load balancer takes it out: only the served state says so.
    assert samples[("lbhealth_node_up", labels(node="app1", role="application"))] == 1
    assert served(samples, "app1", "application") == {"up": 0, "drain": 1, "down": 0, "maint": 0}
    assert served(samples, "app2", "application") == {"up": 0, "drain": 0, "down": 0, "maint": 1}
    assert served(samples, "app3", "application") == {"up": 1, "drain": 0, "down": 0, "maint": 0}
    assert served(samples, "web1", "web") == {"up": 0, "drain": 0, "down": 1, "maint": 0}
    # The same answers the monitors get.
    for name, code in (("app1", 404), ("app2", 503), ("app3", 200), ("web1", 503)):
        assert httpx.get(f"{lb.url}/health/{name}").status_code == code


def test_build_info_process_metrics_no_created_series_and_head(
    sim: Sim, lbhealth_server: Serve
) -> None:
    lb = lbhealth_server(inventory({"app1": jboss_node(sim({"/": JBOSS_WELCOME}))}, **ADMIN))
    text = httpx.get(f"{lb.url}/metrics").text
    samples = scrape(lb)
    assert samples[("lbhealth_build_info", labels(version=__version__))] == 1
    assert samples[("process_resident_memory_bytes", frozenset())] > 0
    assert samples[("process_start_time_seconds", frozenset())] > 0
    assert "_created" not in text
    head = httpx.head(f"{lb.url}/metrics")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"].startswith("text/plain; version=")


def test_promtool_finds_no_problem_in_the_exposition(sim: Sim, lbhealth_server: Serve) -> None:
    promtool = require_tool("promtool")
    nodes = {"app1": jboss_node(sim({"/": JBOSS_WELCOME})), "app2": jboss_node(sim({}))}
    lb = lbhealth_server(inventory(nodes, **{**ADMIN, "interval": 60}))
    set_state(lb.url, "app1", "drain")
    exposition = httpx.get(f"{lb.url}/metrics").text
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=exposition, capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0 and checked.stdout + checked.stderr == "", checked.stderr


def series(samples: Samples, instance: str) -> list[dict[str, str]]:
    """Scraped node metrics as promtool input series: six hours of the same value."""
    out = []
    for (name, pairs), value in sorted(samples.items(), key=str):
        if name in ("lbhealth_node_up", "lbhealth_node_served"):
            shown = ",".join(f'{k}="{v}"' for k, v in sorted({*pairs, ("instance", instance)}))
            out.append({"series": f"{name}{{{shown}}}", "values": f"{value:g}x360"})
    return out


def alert(name: str, **expected: Any) -> dict[str, Any]:
    return {"eval_time": "5h", "alertname": name, "exp_alerts": expected.get("alerts", [])}


def test_alert_rules_fire_once_per_node_not_per_replica(
    sim: Sim, lbhealth_server: Serve, tmp_path: Path
) -> None:
    promtool = require_tool("promtool")
    ok, broken = sim({"/": JBOSS_WELCOME}), sim({"/": IIS_APPPOOL_STOPPED})
    nodes = {
        "app1": jboss_node(ok),
        "app2": jboss_node(ok),
        "web1": {"role": "web", "checks": [{"kind": "iis", "url": broken.url()}]},
    }
    replicas = [lbhealth_server(inventory(nodes, **{**ADMIN, "interval": 60})) for _ in range(2)]
    # A drain set through one replica's admin API only: the replicas now disagree on app1.
    assert set_state(replicas[0].url, "app1", "drain", "patching").status_code == 200
    inputs = [s for i, lb in enumerate(replicas) for s in series(scrape(lb), f"lbhealth-{i}")]
    web1 = {"node": "web1", "role": "web"}
    tests = {
        "rule_files": [str(ALERTS)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": inputs,
                "alert_rule_test": [
                    alert(
                        "LBHealthNodeDown",
                        alerts=[
                            {
                                "exp_labels": {**web1, "severity": "warning"},
                                "exp_annotations": {
                                    "summary": "web1 (web) is DOWN: GET /health/web1 says why"
                                },
                            }
                        ],
                    ),
                    alert(
                        "LBHealthRoleDown",
                        alerts=[
                            {
                                "exp_labels": {"role": "web", "severity": "critical"},
                                "exp_annotations": {"summary": "no web node is served UP"},
                            }
                        ],
                    ),
                    alert(
                        "LBHealthReplicasDisagree",
                        alerts=[
                            {
                                "exp_labels": {"node": "app1", "severity": "warning"},
                                "exp_annotations": {
                                    "summary": "lbhealth replicas serve different states for app1"
                                },
                            }
                        ],
                    ),
                    alert(
                        "LBHealthNodeOutOfService",
                        alerts=[
                            {
                                "exp_labels": {
                                    "node": "app1",
                                    "role": "application",
                                    "state": "drain",
                                    "severity": "info",
                                },
                                "exp_annotations": {
                                    "summary": "app1 has been served drain for 4 hours"
                                },
                            }
                        ],
                    ),
                ],
            }
        ],
    }
    test_file = tmp_path / "alerts-test.yaml"
    test_file.write_text(yaml.safe_dump(tests))
    checked = subprocess.run(
        [promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    result = subprocess.run(
        [promtool, "test", "rules", str(test_file)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
