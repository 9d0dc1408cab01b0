"""``lbhealth admin`` and ``lbhealth export``, run as real subprocesses."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from lbhealth.demo.cluster import JBOSS_WELCOME
from lbhealth.demo.simserver import SimServer
from tests._admin import ADMIN, TOKEN
from tests._documented import F5_RECV, F5_RECV_DISABLE
from tests._inventory import inventory, jboss_node, node, write
from tests._poll import wait_ready
from tests._process import lbhealth, lbhealth_command, running
from tests._servers import free_port, require_tool

Sim = Callable[..., SimServer]
#: The nodes of examples/inventory.yaml, in its order.
NODES = ("web1", "web2", "app1", "app2", "msg1", "svc1", "db1", "file1")


def serve(config: Path, port: int) -> list[str]:
    return lbhealth_command("serve", "--config", str(config), "--port", str(port))


def test_drain_and_maint_set_by_cli_survive_a_restart(sim: Sim, tmp_path: Path) -> None:
    backend = sim({"/": JBOSS_WELCOME})
    nodes = {"app1": jboss_node(backend), "app2": jboss_node(backend)}
    data = inventory(nodes, **ADMIN, state_file=str(tmp_path / "state.json"))
    config = write(tmp_path / "inv.yaml", data)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    admin = ("admin", "--url", url, "--token-file", str(token_file))
    with running(serve(config, port), tmp_path / "first.log") as first:
        wait_ready(url, process=first)
        drained = lbhealth(*admin, "drain", "app1", "--reason", "patching")
        assert drained.returncode == 0, drained.stderr
        assert drained.stdout.startswith("app1: drain (patching) [api by ")
        assert lbhealth(*admin, "maint", "app2", "--reason", "disk").returncode == 0
    err = (tmp_path / "first.log").read_text()
    assert TOKEN not in err and "admin state app1: enabled -> drain" in err

    with running(serve(config, port), tmp_path / "second.log") as second:
        wait_ready(url, process=second)  # probed: a drained node reads DRAIN only while UP
        assert httpx.get(f"{url}/health/app1").text == "DRAIN: patching\n"
        assert httpx.get(f"{url}/health/app2").text == "MAINT: disk\n"
        listed = lbhealth("admin", "--url", url, "list", env={"LBHEALTH_ADMIN_TOKEN": TOKEN})
        assert listed.returncode == 0
        assert "app1: drain (patching)" in listed.stdout and "app2: maint (disk)" in listed.stdout
        assert TOKEN not in listed.stdout + listed.stderr
        enabled = lbhealth(*admin, "enable", "app1")
        assert enabled.returncode == 0
        assert httpx.get(f"{url}/health/app1").text == "UP\n"


def test_admin_cli_without_token_exits_2() -> None:
    result = lbhealth("admin", "drain", "app1", env={"LBHEALTH_ADMIN_TOKEN": ""})
    assert result.returncode == 2
    assert "no admin token: pass --token-file FILE or set LBHEALTH_ADMIN_TOKEN" in result.stderr


def test_admin_cli_reports_refusal_without_echoing_token(sim: Sim, tmp_path: Path) -> None:
    data = inventory({"app1": jboss_node(sim({"/": JBOSS_WELCOME}))}, **ADMIN)
    config = write(tmp_path / "inv.yaml", data)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running(serve(config, port), tmp_path / "serve.log") as proc:
        wait_ready(url, process=proc)
        wrong = lbhealth(
            "admin", "--url", url, "drain", "app1", env={"LBHEALTH_ADMIN_TOKEN": "guess"}
        )
        assert wrong.returncode == 1
        assert "lbhealth refused (401)" in wrong.stderr and "guess" not in wrong.stderr
        unknown = lbhealth(
            "admin", "--url", url, "drain", "nope", env={"LBHEALTH_ADMIN_TOKEN": TOKEN}
        )
        assert unknown.returncode == 1 and "no node named 'nope'" in unknown.stderr


def haproxy_check(config: Path) -> subprocess.CompletedProcess[str]:
    binary = require_tool("haproxy")
    return subprocess.run(
        [binary, "-c", "-f", str(config)], capture_output=True, text=True, timeout=30
    )


def test_exported_haproxy_config_passes_haproxy_check(tmp_path: Path) -> None:
    exported = lbhealth("export", "haproxy", "--config", "examples/inventory.yaml")
    assert exported.returncode == 0, exported.stderr
    config = tmp_path / "haproxy.cfg"
    config.write_text(exported.stdout)
    checked = haproxy_check(config)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for name in NODES:
        assert f"    server {name} " in exported.stdout
    # One backend per role, each turning a drained (404) server into NOLB.
    assert exported.stdout.count("http-check disable-on-404") == 6


def test_exported_haproxy_config_with_agent_check_passes(tmp_path: Path) -> None:
    nodes = {
        "app1": node("jboss", "http://10.0.0.21:9001/"),
        "app2": {**node("tcp", "x:1"), "address": "10.0.0.22:9001"},
    }
    config = write(tmp_path / "inv.yaml", inventory(nodes, agent_port=9777))
    exported = lbhealth(
        "export", "haproxy", "--config", str(config), "--lbhealth-url", "http://10.0.0.50:8080"
    )
    assert exported.returncode == 0, exported.stderr
    assert (
        "    server app2 10.0.0.22:9001 check addr 10.0.0.50 port 8080"
        ' agent-check agent-addr 10.0.0.50 agent-port 9777 agent-send "app2\\n"'
    ) in exported.stdout
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(exported.stdout)
    checked = haproxy_check(cfg)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_exported_f5_monitors_use_the_documented_strings() -> None:
    exported = lbhealth(
        "export",
        "f5",
        "--config",
        "examples/inventory.yaml",
        "--lbhealth-url",
        "http://10.0.0.50:8080",
    )
    assert exported.returncode == 0, exported.stderr
    monitors = [line for line in exported.stdout.splitlines() if "ltm monitor http" in line]
    assert len(monitors) == len(NODES)
    for line, name in zip(monitors, NODES, strict=True):
        assert line.startswith(f"tmsh create ltm monitor http lbhealth_{name} ")
        assert f'send "GET /health/{name} HTTP/1.1\\r\\nHost: lbhealth\\r\\n' in line
        assert f'recv "{F5_RECV}" recv-disable "{F5_RECV_DISABLE}"' in line
        assert line.endswith("destination 10.0.0.50:8080")
    assert (
        "members add { 127.0.0.1:8083 { monitor lbhealth_app1 }"
        " 127.0.0.1:8084 { monitor lbhealth_app2 } }"
    ) in exported.stdout


def test_export_rejects_a_bad_lbhealth_url() -> None:
    result = lbhealth("export", "f5", "--config", "examples/inventory.yaml", "--lbhealth-url", "x")
    assert result.returncode == 2
    assert "'x' is not an http(s) URL" in result.stderr


def test_operator_without_passwd_entry_is_named_by_uid(monkeypatch: pytest.MonkeyPatch) -> None:
    """In the container the user (UID 10001) has no passwd entry; getuser() raises."""
    from lbhealth.cli import admin as cli_admin

    def no_entry() -> str:
        raise KeyError("getpwuid(): uid not found: 10001")

    monkeypatch.setattr(cli_admin.getpass, "getuser", no_entry)
    assert cli_admin.operator_name() == f"uid {os.getuid()}"


def test_preset_export_gives_frontends_to_the_roles_users_reach(tmp_path: Path) -> None:
    """web, application and messaging get frontends (on the addresses given), the database,
    file and services servers none; the result passes ``haproxy -c``."""
    binds = (
        "--bind",
        "10.0.0.10",
        "--bind",
        "application=10.0.0.11",
        "--bind",
        "messaging=10.0.0.12",
    )
    exported = lbhealth("export", "haproxy", "--config", "examples/eim-wim-preset.yaml", *binds)
    assert exported.returncode == 0, exported.stderr
    out = exported.stdout
    assert "frontend eim_web\n    mode tcp\n    bind 10.0.0.10:443\n" in out
    assert "frontend eim_application\n    mode http\n    bind 10.0.0.11:9001\n" in out
    assert "frontend eim_messaging\n    mode http\n    bind 10.0.0.12:9001\n" in out
    for role in ("database", "file", "services"):
        assert f"frontend eim_{role}" not in out and f"backend eim_{role}" in out
        assert f"# eim_{role}: no frontend, " in out
    assert "bind :" not in out  # never every interface unless asked
    config = tmp_path / "haproxy.cfg"
    config.write_text(out)
    checked = haproxy_check(config)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_export_binds_loopback_until_told_and_reports_a_taken_port() -> None:
    exported = lbhealth("export", "haproxy", "--config", "examples/eim-wim-preset.yaml")
    assert exported.returncode == 0, exported.stderr
    out = exported.stdout
    assert "# Frontends bind to 127.0.0.1 until --bind names the addresses." in out
    assert "bind 127.0.0.1:9001\n    default_backend eim_messaging" in out
    assert (
        "# eim_application: no frontend, 127.0.0.1:9001 is taken by eim_messaging;"
        " give it its own address with --bind application=ADDRESS"
    ) in out


@pytest.mark.parametrize(
    ("bind", "error"),
    [
        ("webs=10.0.0.1", "--bind 'webs=10.0.0.1': unknown role"),
        ("10.0.0.300", "--bind '10.0.0.300': write [ROLE=]ADDRESS[:PORT]"),
        ("web=2001:db8::1", "--bind 'web=2001:db8::1': write [ROLE=]ADDRESS[:PORT]"),
        ("web=10.0.0.1:99999", "--bind 'web=10.0.0.1:99999': write"),
    ],
)
def test_export_rejects_a_bad_bind(bind: str, error: str) -> None:
    result = lbhealth("export", "haproxy", "--config", "examples/inventory.yaml", "--bind", bind)
    assert result.returncode == 2 and error in result.stderr


def test_export_binds_ipv6_and_a_port() -> None:
    result = lbhealth(
        "export",
        "haproxy",
        "--config",
        "examples/inventory.yaml",
        "--bind",
        "web=[2001:db8::10]:8443",
    )
    assert result.returncode == 0, result.stderr
    assert "    bind [2001:db8::10]:8443\n" in result.stdout
