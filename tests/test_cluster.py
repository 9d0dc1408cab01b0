"""The cluster knowledge (start order, pools, blocking tier, impact) and verdict history."""

from __future__ import annotations

from lbhealth.cluster.model import IMPACT, cluster_view, pool
from lbhealth.cluster.table import cluster_table
from lbhealth.config import START_ORDER
from lbhealth.core.history import History
from lbhealth.verdict import CheckResult, NodeVerdict, Status

UP, DOWN = Status.UP, Status.DOWN


def node(name: str, role: str | None, status: Status = UP, reason: str = "") -> NodeVerdict:
    return NodeVerdict(name, role, status, reason, ())


def healthy() -> list[NodeVerdict]:
    return [
        node("web1", "web"),
        node("web2", "web"),
        node("app1", "application"),
        node("app2", "application"),
        node("msg1", "messaging"),
        node("svc1", "services"),
        node("db1", "database"),
        node("file1", "file"),
    ]


def with_down(verdicts: list[NodeVerdict], *names: str) -> list[NodeVerdict]:
    return [
        node(v.node, v.role, DOWN, f"{v.node} broke") if v.node in names else v for v in verdicts
    ]


def test_start_order_is_the_guides() -> None:
    assert START_ORDER == (
        ("database",),
        ("file",),
        ("messaging",),
        ("services", "application"),
        ("web",),
    )


def test_view_lists_roles_in_start_order_with_their_nodes() -> None:
    data = cluster_view(healthy(), {}).to_json()
    order = [
        (t["tier"], p["role"], [n["node"] for n in p["nodes"]])
        for t in data["tiers"]
        for p in t["roles"]
    ]
    assert order == [
        (1, "database", ["db1"]),
        (2, "file", ["file1"]),
        (3, "messaging", ["msg1"]),
        (4, "services", ["svc1"]),
        (4, "application", ["app1", "app2"]),
        (5, "web", ["web1", "web2"]),
    ]
    assert data["status"] == "UP" and data["blocked_at"] is None


def test_first_down_tier_blocks_the_cluster() -> None:
    view = cluster_view(with_down(healthy(), "svc1", "web1", "web2"), {})
    assert view.status == "DOWN"
    assert view.to_json()["blocked_at"] == {"tier": 4, "roles": ["services"]}
    assert view.summary == "DOWN: blocked at tier 4 (0/1 services nodes up (min 1))"


def test_database_down_blocks_at_tier_one() -> None:
    view = cluster_view(with_down(healthy(), "db1", "msg1"), {})
    assert view.to_json()["blocked_at"] == {"tier": 1, "roles": ["database"]}


def test_one_of_two_application_servers_down_is_degraded_with_impact() -> None:
    view = cluster_view(with_down(healthy(), "app2"), {})
    assert view.status == "DEGRADED"
    application = pool("application", with_down(healthy(), "app2"), {})
    assert application.status == "DEGRADED" and application.up == 1
    assert application.impact is not None and "log in again" in application.impact


def test_min_up_turns_a_degraded_pool_down() -> None:
    application = pool("application", with_down(healthy(), "app2"), {"application": 2})
    assert application.status == "DOWN"
    assert application.summary == "1/2 application nodes up (min 2)"


def test_impact_is_shown_only_for_roles_not_up() -> None:
    data = cluster_view(with_down(healthy(), "msg1"), {}).to_json()
    impacts = {p["role"]: p["impact"] for t in data["tiers"] for p in t["roles"]}
    assert impacts["messaging"] == IMPACT["messaging"]
    assert "active chats paused" in impacts["messaging"]
    assert "new chats not processed" in impacts["messaging"]
    assert "messages in transit lost" in impacts["messaging"]
    assert [r for r, i in impacts.items() if i] == ["messaging"]


def test_every_role_has_an_impact() -> None:
    assert sorted(IMPACT) == sorted(r for tier in START_ORDER for r in tier)


def test_unconfigured_roles_are_left_out_and_roleless_nodes_listed() -> None:
    data = cluster_view([node("db1", "database"), node("x", None, DOWN, "why")], {}).to_json()
    assert [t["tier"] for t in data["tiers"]] == [1]
    assert data["unassigned"] == [{"node": "x", "status": "DOWN", "reason": "why"}]
    assert data["status"] == "UP"


def test_table_has_one_line_per_node_and_the_impact() -> None:
    text = cluster_table(cluster_view(with_down(healthy(), "svc1"), {}).to_json())
    lines = text.splitlines()
    assert lines[0] == "CLUSTER DOWN: blocked at tier 4 (0/1 services nodes up (min 1))"
    assert "\x1b[" not in text
    svc = next(line for line in lines if " svc1 " in line)
    assert svc.split()[:6] == ["4", "services", "DOWN", "0/1", "svc1", "DOWN"]
    assert svc.endswith("svc1 broke")
    assert sum(" UP" in line for line in lines) >= 7
    assert lines[-1].startswith("  services (0/1 services nodes up (min 1)): emails not retrieved")


def test_table_colours_states_only_when_asked() -> None:
    data = cluster_view(with_down(healthy(), "svc1"), {}).to_json()
    coloured = cluster_table(data, colour=True)
    assert "\x1b[1;31mDOWN\x1b[0m" in coloured and "\x1b[1;32mUP\x1b[0m" in coloured


def result(status: Status, reason: str = "") -> CheckResult:
    return CheckResult("jsp", "jsp", "http://app2/", status, reason, 0.01, 0.0)


def test_history_records_only_changes() -> None:
    history = History(size=20)
    history.observe("app2", [result(UP)], at=1.0)
    history.observe("app2", [result(UP)], at=2.0)
    history.observe("app2", [result(DOWN, "stack trace")], at=3.0)
    history.observe("app2", [result(DOWN, "other")], at=4.0)
    history.observe("app2", [result(UP)], at=5.0)
    changes = [(c.at, c.status, c.reason) for c in history.of("app2")]
    assert changes == [(1.0, UP, ""), (3.0, DOWN, "jsp: stack trace"), (5.0, UP, "")]


def test_history_waits_until_every_check_has_a_result() -> None:
    history = History(size=20)
    history.observe("app2", [result(DOWN, "x"), None], at=1.0)
    assert history.of("app2") == []
    assert history.last_change("app2") is None


def test_history_is_bounded_per_node() -> None:
    history = History(size=3)
    for i in range(10):
        history.observe("app2", [result(UP if i % 2 else DOWN, "x")], at=float(i))
    assert [c.at for c in history.of("app2")] == [7.0, 8.0, 9.0]
