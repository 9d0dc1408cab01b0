"""``preset: eim-wim``: the guide's checks derived from host lists, overrides, errors."""

from __future__ import annotations

from typing import Any

import pytest

from lbhealth.config import ConfigError, parse_inventory
from tests._documented import ICM_JSP, LOGIN_JSP, RMI_JSP
from tests._process import lbhealth

CLUSTER: dict[str, Any] = {
    "web": ["web1.example.com", "web2.example.com"],
    "application": ["app1.example.com", "app2.example.com"],
    "messaging": ["msg1.example.com"],
    "services": ["svc1.example.com"],
    "database": ["db1.example.com"],
    "file": ["file1.example.com"],
}


def expanded(cluster: dict[str, Any], **top: Any) -> dict[str, list[tuple[str, str, str]]]:
    """node -> [(check name, kind, target)] after expansion and full validation."""
    inventory = parse_inventory({"preset": "eim-wim", "cluster": cluster, **top})
    return {
        node: [
            (name, c.kind, c.target)
            for name, c in zip(inventory.check_names(node), spec.checks, strict=True)
        ]
        for node, spec in inventory.nodes.items()
    }


def errors_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_inventory(data)
    return info.value.errors


def test_guide_cluster_expands_to_exactly_the_guides_checks() -> None:
    def jboss(host: str) -> list[tuple[str, str, str]]:
        return [
            ("jboss", "jboss", f"http://{host}:9001/"),
            ("jsp", "jsp", f"http://{host}:9001{LOGIN_JSP}"),
        ]

    assert expanded(CLUSTER) == {
        "web1": [("iis", "iis", "http://web1.example.com/")],
        "web2": [("iis", "iis", "http://web2.example.com/")],
        "app1": jboss("app1.example.com"),
        "app2": jboss("app2.example.com"),
        "msg1": jboss("msg1.example.com"),
        "svc1": [
            ("rmi-objects", "rmi-objects", f"http://web1.example.com{RMI_JSP}"),
            ("icm-connections", "icm-connections", f"http://web1.example.com{ICM_JSP}"),
        ],
        "db1": [("mssql", "tcp", "db1.example.com:1433")],
        "file1": [("smb", "tcp", "file1.example.com:445")],
    }


def test_services_preset_requires_both_icm_links() -> None:
    inventory = parse_inventory({"preset": "eim-wim", "cluster": CLUSTER})
    icm = next(c for c in inventory.nodes["svc1"].checks if c.kind == "icm-connections")
    assert icm.require == ("MR", "ARM")


def test_roles_come_from_the_cluster_lists() -> None:
    inventory = parse_inventory({"preset": "eim-wim", "cluster": CLUSTER})
    roles = {node: spec.role for node, spec in inventory.nodes.items()}
    assert roles == {
        "web1": "web",
        "web2": "web",
        "app1": "application",
        "app2": "application",
        "msg1": "messaging",
        "svc1": "services",
        "db1": "database",
        "file1": "file",
    }


def test_role_options_override_ports_scheme_and_paths() -> None:
    nodes = expanded(
        {
            "web": {"hosts": ["web1.example.com"], "scheme": "https", "port": 8443},
            "application": {"hosts": ["app1.example.com"], "port": 9002, "jsp_path": "/x.jsp"},
            "database": {"hosts": ["db1.example.com"], "port": 14330},
            "services": {"hosts": ["svc1"], "rmi_path": "/r.jsp", "icm_path": "/i.jsp"},
        }
    )
    assert nodes["web1"] == [("iis", "iis", "https://web1.example.com:8443/")]
    assert nodes["app1"][1] == ("jsp", "jsp", "http://app1.example.com:9002/x.jsp")
    assert nodes["db1"] == [("mssql", "tcp", "db1.example.com:14330")]
    # The debug JSPs go through the first web server, with its scheme and port.
    assert [t for _, _, t in nodes["svc1"]] == [
        "https://web1.example.com:8443/r.jsp",
        "https://web1.example.com:8443/i.jsp",
    ]


def test_host_options_override_role_options() -> None:
    nodes = expanded(
        {
            "application": {
                "hosts": ["app1.example.com", {"host": "10.0.0.22", "name": "app2", "port": 9005}],
                "port": 9002,
            }
        }
    )
    assert nodes["app1"][0] == ("jboss", "jboss", "http://app1.example.com:9002/")
    assert nodes["app2"][0] == ("jboss", "jboss", "http://10.0.0.22:9005/")


def test_services_via_overrides_the_first_web_server() -> None:
    nodes = expanded({**CLUSTER, "services": {"hosts": ["svc1"], "via": "https://web2:444/"}})
    assert nodes["svc1"][0][2] == f"https://web2:444{RMI_JSP}"


def test_check_options_merge_role_then_host_and_false_drops_a_check() -> None:
    inventory = parse_inventory(
        {
            "preset": "eim-wim",
            "cluster": {
                "application": {
                    "hosts": [
                        "app1.example.com",
                        {"host": "app2.example.com", "checks": {"jsp": {"timeout": 9}}},
                    ],
                    "checks": {"jsp": {"expect": "Login", "timeout": 5}},
                },
                "services": {
                    "hosts": ["svc1"],
                    "via": "http://web1",
                    "checks": {"icm-connections": False},
                },
            },
        }
    )
    app1_jsp, app2_jsp = (inventory.nodes[n].checks[1] for n in ("app1", "app2"))
    assert (app1_jsp.expect, app1_jsp.timeout) == ("Login", 5)
    assert (app2_jsp.expect, app2_jsp.timeout) == ("Login", 9)
    assert [c.kind for c in inventory.nodes["svc1"].checks] == ["rmi-objects"]


def test_ip_address_host_keeps_its_whole_address_as_node_name() -> None:
    assert list(expanded({"database": ["127.0.0.1"]})) == ["127.0.0.1"]


def test_explicit_nodes_are_merged_with_derived_ones() -> None:
    nodes = expanded(
        {"web": ["web1.example.com"]},
        nodes={"proxy1": {"checks": [{"kind": "http", "url": "http://proxy1/"}]}},
        settings={"cache_ttl": 1},
    )
    assert list(nodes) == ["web1", "proxy1"]


def test_inventory_without_preset_is_unchanged() -> None:
    data = {"nodes": {"db1": {"checks": [{"kind": "tcp", "address": "db1:1433"}]}}}
    assert list(parse_inventory(data).nodes) == ["db1"]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"preset": "eim"}, "preset: unknown preset 'eim'; the only one is 'eim-wim'"),
        ({"cluster": CLUSTER}, "cluster: needs 'preset: eim-wim' next to it"),
        ({"preset": "eim-wim"}, "cluster: list hosts per role"),
        ({"preset": "eim-wim", "cluster": {"webs": ["w"]}}, "cluster.webs: unknown role"),
        ({"preset": "eim-wim", "cluster": {"web": []}}, "cluster.web: needs at least one host"),
        (
            {"preset": "eim-wim", "cluster": {"web": {"hosts": []}}},
            "cluster.web.hosts: needs at least one host",
        ),
        ({"preset": "eim-wim", "cluster": {"web": "w1"}}, "cluster.web: write a list of hosts"),
        (
            {"preset": "eim-wim", "cluster": {"web": ["web1", "http://web2/"]}},
            "cluster.web[1]: 'http://web2/' is not a host name",
        ),
        (
            {"preset": "eim-wim", "cluster": {"web": ["web1.a.com", "web1.b.com"]}},
            "cluster.web[1]: node name 'web1' (from host 'web1.b.com') is already used by"
            " cluster.web[0]; set 'name:' for one of them",
        ),
        (
            {"preset": "eim-wim", "cluster": {"web": ["web1"], "application": ["web1.x"]}},
            "cluster.application[0]: node name 'web1'",
        ),
        (
            {"preset": "eim-wim", "cluster": {"web": [{"host": "w", "name": "a/b"}]}},
            "cluster.web[0]: node name 'a/b' (from host 'w') must be",
        ),
        (
            {"preset": "eim-wim", "cluster": {"web": {"hosts": ["w"], "port": 0}}},
            "cluster.web.port: 0 is not a port",
        ),
        (
            {"preset": "eim-wim", "cluster": {"web": {"hosts": [{"host": "w", "scheme": "ftp"}]}}},
            "cluster.web.hosts[0].scheme: 'ftp' is not a scheme",
        ),
        (
            {"preset": "eim-wim", "cluster": {"database": {"hosts": ["d"], "jsp_path": "/a"}}},
            "cluster.database.jsp_path: unknown option for database hosts",
        ),
        (
            {"preset": "eim-wim", "cluster": {"web": {"hosts": ["w"], "iis_path": "x"}}},
            "cluster.web.iis_path: 'x' is not a path",
        ),
        (
            {"preset": "eim-wim", "cluster": {"web": {"hosts": ["w"], "checks": {"jsp": {}}}}},
            "cluster.web.checks.jsp: unknown check; web checks are iis",
        ),
        (
            {"preset": "eim-wim", "cluster": {"web": {"hosts": ["w"], "checks": {"iis": False}}}},
            "cluster.web.hosts[0]: every check of this host is dropped",
        ),
        (
            {"preset": "eim-wim", "cluster": {"services": ["svc1"]}},
            "cluster.services[0]: services checks go through a web server",
        ),
        (
            {
                "preset": "eim-wim",
                "cluster": {"web": ["web1"]},
                "nodes": {"web1": {"checks": [{"kind": "tcp", "address": "a:1"}]}},
            },
            "nodes.web1: also derived from cluster:",
        ),
        (
            {
                "preset": "eim-wim",
                "cluster": {"application": {"hosts": ["a"], "checks": {"jsp": {"expect": "("}}}},
            },
            "nodes.a.checks[1].expect: '(' is not a valid regular expression",
        ),
    ],
)
def test_preset_errors_name_the_field(data: dict[str, Any], error: str) -> None:
    assert any(e.startswith(error) for e in errors_of(data)), errors_of(data)


def test_every_preset_error_is_reported_at_once() -> None:
    errors = errors_of(
        {"preset": "eim-wim", "cluster": {"web": {"hosts": ["w"], "port": -1}, "dbs": ["d"]}}
    )
    assert len(errors) == 2


def test_check_config_explain_prints_the_expanded_checks(tmp_path: Any) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(
        "preset: eim-wim\n"
        "cluster:\n"
        "  web: [web1.example.com]\n"
        "  services: [svc1.example.com]\n"
        "  application:\n"
        "    hosts: [app1.example.com]\n"
        "    checks: {jsp: {expect: Login, headers: {Authorization: Basic c2VjcmV0}}}\n"
    )
    result = lbhealth("check-config", "--explain", str(path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"OK: {path}: 3 nodes, 5 checks, roles: application, services, web"
    assert "  iis: iis http://web1.example.com/" in lines
    assert f"  rmi-objects: rmi-objects http://web1.example.com{RMI_JSP}" in lines
    jsp = next(line for line in lines if line.startswith("  jsp: "))
    assert 'expect="Login"' in jsp and '{"Authorization": "***"}' in jsp
    assert "c2VjcmV0" not in result.stdout


def test_check_config_reports_preset_errors_with_exit_2(tmp_path: Any) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text("preset: eim-wim\ncluster:\n  web: [web1, web1.other]\n")
    result = lbhealth("check-config", str(path))
    assert result.returncode == 2
    assert "error: cluster.web[1]: node name 'web1'" in result.stderr


def test_preset_example_file_is_valid() -> None:
    result = lbhealth("check-config", "examples/eim-wim-preset.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: examples/eim-wim-preset.yaml: 9 nodes, 13 checks")
