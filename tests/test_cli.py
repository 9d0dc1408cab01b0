"""The ``lbhealth`` command, run as a real subprocess."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from lbhealth.cli.main import build_parser
from lbhealth.cli.serve import demo_guide
from lbhealth.demo.cluster import BACKENDS, IIS_APPPOOL_STOPPED, JBOSS_WELCOME
from lbhealth.demo.simserver import SimServer
from tests._inventory import inventory, node, write
from tests._poll import wait_ready
from tests._process import ROOT, lbhealth, lbhealth_command, running
from tests._servers import free_port

Sim = Callable[..., SimServer]


def test_check_config_ok_prints_summary() -> None:
    result = lbhealth("check-config", "examples/inventory.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: examples/inventory.yaml: 8 nodes, 11 checks")


def test_check_config_reads_lbhealth_config_env() -> None:
    result = lbhealth("check-config", env={"LBHEALTH_CONFIG": "examples/inventory.yaml"})
    assert result.returncode == 0, result.stderr


def test_check_config_counts_in_words(tmp_path: Path) -> None:
    one = write(tmp_path / "one.yaml", inventory({"db1": node("tcp", "db1:1433")}))
    result = lbhealth("check-config", str(one))
    assert result.stdout == f"OK: {one}: 1 node, 1 check\n"


def test_check_config_without_a_file_suggests_what_works(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LBHEALTH_CONFIG"}
    done = subprocess.run(
        lbhealth_command("check-config"), capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert done.returncode == 2
    assert done.stderr == (
        "error: no inventory given: pass the file (lbhealth check-config FILE)"
        " or set LBHEALTH_CONFIG\n"
    )
    # Both suggestions work; the --config flag of `serve` is not one of them.
    assert lbhealth("check-config", "examples/inventory.yaml").returncode == 0
    assert lbhealth("check-config", "--config", "x.yaml").returncode == 2


def test_check_config_errors_exit_2_with_field_paths(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "settings: {timeout: fast}\n"
        "nodes:\n  app1:\n    checks:\n      - {kind: jboss, url: 'app1:9001'}\n"
    )
    result = lbhealth("check-config", str(bad))
    assert result.returncode == 2
    assert "error: nodes.app1.checks[0].url: 'app1:9001' is not an http(s) URL" in result.stderr
    assert "error: settings.timeout: 'fast' is not a duration" in result.stderr
    assert result.stdout == ""


def test_serve_without_config_explains() -> None:
    env = {k: v for k, v in os.environ.items() if k != "LBHEALTH_CONFIG"}
    result = subprocess.run(
        lbhealth_command("serve"), capture_output=True, text=True, timeout=30, cwd=ROOT, env=env
    )
    assert result.returncode == 2
    assert "pass --config FILE or set LBHEALTH_CONFIG" in result.stderr


def test_probe_up_exits_0(sim: Sim) -> None:
    backend = sim({"/": JBOSS_WELCOME})
    result = lbhealth("probe", "jboss", backend.url())
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("UP  jboss " + backend.url())


def test_probe_down_exits_1_with_reason(sim: Sim) -> None:
    backend = sim({"/": IIS_APPPOOL_STOPPED})
    result = lbhealth("probe", "iis", backend.url(), "--json")
    assert result.returncode == 1
    assert '"status": "DOWN"' in result.stdout and "503" in result.stdout


def test_probe_bad_option_exits_2() -> None:
    result = lbhealth("probe", "jsp", "http://127.0.0.1:1/", "--expect", "(")
    assert result.returncode == 2
    assert "--expect: '(' is not a valid regular expression" in result.stderr


@contextmanager
def served(
    tmp_path: Path, nodes: dict[str, Any]
) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """``lbhealth serve`` on an inventory of ``nodes``, once each check was probed.

    Yields its URL, its process and the file its output goes to; SIGTERM at the end.
    """
    config = write(tmp_path / "inventory.yaml", inventory(nodes))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    command = lbhealth_command("serve", "--config", str(config), "--port", str(port))
    with running(command, log) as proc:
        wait_ready(base, process=proc)  # probed once: not "not probed yet"
        yield base, proc, log


def test_serve_runs_the_inventory(sim: Sim, tmp_path: Path) -> None:
    backend = sim({"/": JBOSS_WELCOME})
    with served(tmp_path, {"app1": node("jboss", backend.url())}) as (base, proc, log):
        response = httpx.get(f"{base}/health/app1")
        assert (response.status_code, response.text) == (200, "UP\n")
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert proc.returncode in (0, -signal.SIGTERM)
    assert "Traceback" not in log.read_text()


def test_demo_serves_a_cluster_with_realistic_failures(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "demo.log"
    env = {**os.environ, "LBHEALTH_ADMIN_TOKEN": "demo-T0ken"}
    demo = lbhealth_command("demo", "--port", str(port), "--backends-from", "0")  # any ports
    with running(demo, log, env) as proc:
        wait_ready(base, process=proc)
        statuses = {n["node"]: n["status"] for n in httpx.get(f"{base}/nodes").json()["nodes"]}
        assert statuses == {
            "db1": "UP",
            "file1": "UP",
            "msg1": "UP",
            "app1": "UP",
            "web1": "UP",
            "app2": "DOWN",
            "svc1": "DOWN",
            "web2": "DOWN",
        }
        assert "EAAS" in httpx.get(f"{base}/health/svc1").text
        guide = log.read_text()
        # The printed backends are the ones probed: `lbhealth probe` on one of them agrees.
        probe = next(shlex.split(line) for line in guide.splitlines() if " probe jboss " in line)
        assert probe[-1] in guide.split("Try:")[0]
        probed = lbhealth(*probe[probe.index("probe") :])
        assert probed.returncode == 0 and probed.stdout.startswith("UP "), probed.stdout
        # LBHEALTH_ADMIN_TOKEN turns the admin API on, as the guide says.
        drain = next(shlex.split(line) for line in guide.splitlines() if " drain app1 " in line)
        drained = lbhealth(*drain[drain.index("admin") :], env=env)
        assert drained.returncode == 0, drained.stderr
        assert httpx.get(f"{base}/health/app1").text == "DRAIN: trying\n"
    assert f"curl -i {base}/health/app1" in guide
    assert "Admin API on" in guide


def test_demo_backends_listen_where_the_example_inventory_expects_them() -> None:
    # examples/inventory.yaml names 127.0.0.1:8081 to 8087; the demo's default puts them there.
    demo = build_parser().parse_args(["demo"])
    assert demo.backends_from == 8081
    assert BACKENDS == ("web1", "web2", "app1", "app2", "msg1", "db1", "file1")


def test_demo_refuses_backend_ports_in_use_clearly(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = lbhealth("demo", "--port", str(free_port()), "--backends-from", str(port))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: --backends-from {port}: ")


def test_demo_says_how_to_turn_the_admin_api_on() -> None:
    inventory = {"nodes": {"app1": {"checks": [{"kind": "jboss", "url": "http://127.0.0.1:1/"}]}}}
    guide = demo_guide(inventory, "http://127.0.0.1:8080", admin=False)
    assert "LBHEALTH_ADMIN_TOKEN=<any secret> ./dev demo" in guide
    assert "admin --url" not in guide


def test_serve_logs_one_plain_json_object_per_line(sim: Sim, tmp_path: Path) -> None:
    """uvicorn's own lines too: no ``color_message`` copy full of ANSI codes."""
    backend = sim({"/": IIS_APPPOOL_STOPPED})
    with served(tmp_path, {"node1": node("iis", backend.url())}) as (base, _, log):
        assert httpx.get(f"{base}/health/node1").status_code == 503
    err = log.read_text()
    lines = [json.loads(line) for line in err.splitlines()]
    loggers = {line["logger"] for line in lines}
    assert {"uvicorn.error", "lbhealth.engine"} <= loggers  # uvicorn's start-up and a verdict
    assert all("color_message" not in line for line in lines)
    assert "\x1b" not in err
