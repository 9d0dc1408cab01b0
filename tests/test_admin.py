"""Drain and maintenance through the admin API, over real sockets."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from lbhealth.config import ConfigError, parse_inventory
from lbhealth.demo.cluster import IIS_APPPOOL_STOPPED, JBOSS_WELCOME
from lbhealth.demo.simserver import SimServer
from lbhealth.store.admin import AdminStore
from tests._admin import ADMIN, AUTH, TOKEN, set_state
from tests._inventory import inventory, jboss_node, node
from tests._servers import Running

Sim = Callable[..., SimServer]
Serve = Callable[[dict[str, Any]], Running]


def test_admin_api_disabled_without_token(sim: Sim, lbhealth_server: Serve) -> None:
    lb = lbhealth_server(inventory({"app1": jboss_node(sim({"/": JBOSS_WELCOME}))}))
    response = set_state(lb.url, "app1", "drain")
    assert response.status_code == 403
    assert "admin API disabled" in response.json()["detail"]
    assert httpx.get(f"{lb.url}/health/app1").status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", f"bearer {TOKEN}x"])
def test_admin_api_rejects_bad_token(header: str | None, sim: Sim, lbhealth_server: Serve) -> None:
    lb = lbhealth_server(inventory({"app1": jboss_node(sim({"/": JBOSS_WELCOME}))}, **ADMIN))
    headers = {"Authorization": header} if header else {}
    response = httpx.put(
        f"{lb.url}/admin/nodes/app1/state", json={"state": "drain"}, headers=headers
    )
    assert response.status_code == 401
    assert TOKEN not in response.text
    assert httpx.get(f"{lb.url}/health/app1").status_code == 200


def test_drain_answers_404_drain_with_reason(sim: Sim, lbhealth_server: Serve) -> None:
    lb = lbhealth_server(inventory({"app1": jboss_node(sim({"/": JBOSS_WELCOME}))}, **ADMIN))
    changed = set_state(lb.url, "app1", "drain", "patching KB5034441")
    assert changed.status_code == 200
    assert changed.json()["state"] == "drain" and changed.json()["source"] == "api"
    response = httpx.get(f"{lb.url}/health/app1")
    assert (response.status_code, response.text) == (404, "DRAIN: patching KB5034441\n")
    assert response.headers["x-lbhealth-state"] == "drain"


def test_drained_node_with_broken_backend_reads_down(sim: Sim, lbhealth_server: Serve) -> None:
    lb = lbhealth_server(
        inventory({"web2": node("iis", sim({"/": IIS_APPPOOL_STOPPED}).url())}, **ADMIN)
    )
    set_state(lb.url, "web2", "drain", "patching")
    response = httpx.get(f"{lb.url}/health/web2")
    assert response.status_code == 503
    assert response.text.startswith("DOWN: iis: HTTP 503 from HTTP.sys")
    assert response.headers["x-lbhealth-state"] == "down"


def test_maint_answers_503_maint(sim: Sim, lbhealth_server: Serve) -> None:
    lb = lbhealth_server(inventory({"app1": jboss_node(sim({"/": JBOSS_WELCOME}))}, **ADMIN))
    set_state(lb.url, "app1", "maint", "disk replacement")
    response = httpx.get(f"{lb.url}/health/app1")
    assert (response.status_code, response.text) == (503, "MAINT: disk replacement\n")
    assert response.headers["x-lbhealth-state"] == "maint"
    set_state(lb.url, "app1", "enabled", "done")
    assert httpx.get(f"{lb.url}/health/app1").text == "UP\n"


def test_json_views_include_admin_state(sim: Sim, lbhealth_server: Serve) -> None:
    lb = lbhealth_server(inventory({"app1": jboss_node(sim({"/": JBOSS_WELCOME}))}, **ADMIN))
    set_state(lb.url, "app1", "drain", "patching")
    view = httpx.get(f"{lb.url}/health/app1?format=json")
    assert view.status_code == 404
    body = view.json()
    assert body["status"] == "UP" and body["served"] == "drain"
    assert body["admin"]["state"] == "drain" and body["admin"]["reason"] == "patching"
    assert body["admin"]["by"] == "127.0.0.1" and body["admin"]["at"] > 0
    nodes = httpx.get(f"{lb.url}/nodes").json()["nodes"]
    assert nodes[0]["served"] == "drain"
    listed = httpx.get(f"{lb.url}/admin/nodes", headers=AUTH).json()["nodes"]
    assert listed["app1"]["state"] == "drain"


def test_readiness_probe_sees_drain_and_maint_as_not_ready(
    sim: Sim, lbhealth_server: Serve
) -> None:
    lb = lbhealth_server(inventory({"app1": jboss_node(sim({"/": JBOSS_WELCOME}))}, **ADMIN))
    for state in ("drain", "maint"):
        set_state(lb.url, "app1", state)
        # Kubernetes' httpGet probe: success is any status from 200 to 399.
        assert not 200 <= httpx.get(f"{lb.url}/health/app1").status_code < 400, state


@pytest.mark.parametrize(
    ("node", "body", "code"),
    [
        ("nope", {"state": "drain"}, 404),
        ("app1", {"state": "drained"}, 422),
        ("app1", {"state": "drain", "reason": "x" * 201}, 422),
        ("app1", {"state": "drain", "extra": 1}, 422),
    ],
)
def test_admin_api_rejects_bad_input(
    node: str, body: dict[str, Any], code: int, sim: Sim, lbhealth_server: Serve
) -> None:
    lb = lbhealth_server(inventory({"app1": jboss_node(sim({"/": JBOSS_WELCOME}))}, **ADMIN))
    response = httpx.put(f"{lb.url}/admin/nodes/{node}/state", json=body, headers=AUTH)
    assert response.status_code == code
    assert httpx.get(f"{lb.url}/health/app1").status_code == 200


def test_inventory_declares_drain_and_api_overrides_until_reset(
    sim: Sim, lbhealth_server: Serve
) -> None:
    app1 = jboss_node(sim({"/": JBOSS_WELCOME}), admin_state="drain", admin_reason="retiring")
    lb = lbhealth_server(inventory({"app1": app1}, **ADMIN))
    assert httpx.get(f"{lb.url}/health/app1").text == "DRAIN: retiring\n"
    set_state(lb.url, "app1", "enabled", "needed for the campaign")
    assert httpx.get(f"{lb.url}/health/app1").text == "UP\n"
    reset = httpx.delete(f"{lb.url}/admin/nodes/app1/state", headers=AUTH)
    assert reset.json()["source"] == "inventory"
    assert httpx.get(f"{lb.url}/health/app1").text == "DRAIN: retiring\n"


def test_changes_are_logged_with_who_and_why(
    sim: Sim, lbhealth_server: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    lb = lbhealth_server(inventory({"app1": jboss_node(sim({"/": JBOSS_WELCOME}))}, **ADMIN))
    with caplog.at_level(logging.INFO, logger="lbhealth.admin"):
        httpx.put(
            f"{lb.url}/admin/nodes/app1/state",
            json={"state": "maint", "reason": "firmware"},
            headers={**AUTH, "X-LBHealth-User": "alice"},
        )
    [record] = [r for r in caplog.records if r.name == "lbhealth.admin"]
    fields = vars(record)
    assert (fields["node"], fields["from_state"], fields["to_state"]) == (
        "app1",
        "enabled",
        "maint",
    )
    assert (fields["by"], fields["reason"]) == ("alice", "firmware")
    assert TOKEN not in caplog.text


def test_state_file_is_written_and_read_by_a_new_instance(
    sim: Sim, lbhealth_server: Serve, tmp_path: Path
) -> None:
    state_file = tmp_path / "state" / "admin.json"
    app1 = jboss_node(sim({"/": JBOSS_WELCOME}))
    config = inventory({"app1": app1}, **ADMIN, state_file=str(state_file))
    first = lbhealth_server(config)
    set_state(first.url, "app1", "drain", "patching")
    saved = json.loads(state_file.read_text())
    assert saved["nodes"]["app1"]["state"] == "drain"
    assert [p.name for p in state_file.parent.iterdir()] == ["admin.json"]  # no temp files left
    second = lbhealth_server(config)
    assert httpx.get(f"{second.url}/health/app1").text == "DRAIN: patching\n"


def test_state_file_ignores_nodes_no_longer_in_inventory(tmp_path: Path) -> None:
    state_file = tmp_path / "admin.json"
    state_file.write_text(json.dumps({"nodes": {"gone": {"state": "maint"}}}))
    store = AdminStore(
        parse_inventory(inventory({"app1": node("tcp", "127.0.0.1:1")}, state_file=str(state_file)))
    )
    assert store.get("app1").state == "enabled" and "gone" not in store


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "unreadable state file"),
        ("[]", "not an lbhealth state file"),
        ('{"nodes": {"app1": {"state": "off"}}}', "nodes.app1: expected"),
    ],
)
def test_corrupt_state_file_fails_loudly(content: str, message: str, tmp_path: Path) -> None:
    state_file = tmp_path / "admin.json"
    state_file.write_text(content)
    config = inventory({"app1": node("tcp", "127.0.0.1:1")}, state_file=str(state_file))
    with pytest.raises(ConfigError, match=message):
        AdminStore(parse_inventory(config))


def test_pools_and_cluster_view_count_drained_and_maintained_nodes_out(
    sim: Sim, lbhealth_server: Serve
) -> None:
    backend = sim({"/": JBOSS_WELCOME})
    nodes = {"app1": jboss_node(backend), "app2": jboss_node(backend)}
    lb = lbhealth_server(inventory(nodes, **ADMIN, min_up={"application": 2}))
    assert httpx.get(f"{lb.url}/health/role/application").status_code == 200
    assert set_state(lb.url, "app1", "drain", "patching").status_code == 200
    pool = httpx.get(f"{lb.url}/health/role/application?format=json")
    # Backends are UP, but a drained node takes no new sessions: 1 of the 2 needed.
    assert pool.status_code == 503 and pool.json()["up"] == 1
    states = {n["node"]: (n["status"], n["reason"]) for n in pool.json()["nodes"]}
    assert states == {"app1": ("DRAIN", "patching"), "app2": ("UP", "")}
    text = httpx.get(f"{lb.url}/health/role/application").text
    assert text == "DOWN: 1/2 application nodes up (min 2); app1 DRAIN: patching\n"
    assert set_state(lb.url, "app2", "maint", "disk swap").status_code == 200
    cluster = httpx.get(f"{lb.url}/cluster?format=json").json()
    roles = {r["role"]: r for tier in cluster["tiers"] for r in tier["roles"]}
    assert {n["node"]: n["status"] for n in roles["application"]["nodes"]} == {
        "app1": "DRAIN",
        "app2": "MAINT",
    }
    assert roles["application"]["status"] == "DOWN"
