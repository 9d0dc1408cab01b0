"""The ``lbhealth`` command, run as a real subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from lbhealth.demo.cluster import IIS_APPPOOL_STOPPED, JBOSS_WELCOME
from lbhealth.demo.simserver import SimServer
from tests._poll import wait_ready
from tests.conftest import free_port

Sim = Callable[..., SimServer]
ROOT = Path(__file__).resolve().parents[1]


def lbhealth(
    *args: str, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lbhealth", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def wait_for(url: str, deadline: float = 20) -> httpx.Response:
    end = time.monotonic() + deadline
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def test_check_config_ok_prints_summary() -> None:
    result = lbhealth("check-config", "examples/inventory.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: examples/inventory.yaml: 5 nodes, 7 checks")


def test_check_config_reads_lbhealth_config_env() -> None:
    result = lbhealth("check-config", env={"LBHEALTH_CONFIG": "examples/inventory.yaml"})
    assert result.returncode == 0, result.stderr


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
        [sys.executable, "-m", "lbhealth", "serve"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        env=env,
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


def serve_and_get(config: Path, path: str) -> tuple[httpx.Response, int | None, str]:
    """``lbhealth serve`` on ``config``: GET ``path`` once it answers, then SIGTERM.

    Returns the response, the exit code and everything it wrote on stderr.
    """
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lbhealth", "serve", "--config", str(config), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}")  # the first probes have reported
        response = httpx.get(f"http://127.0.0.1:{port}{path}")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    return response, proc.returncode, err


def one_node(tmp_path: Path, kind: str, url: str) -> Path:
    config = tmp_path / "inventory.yaml"
    config.write_text(f"nodes:\n  node1:\n    checks:\n      - kind: {kind}\n        url: {url}\n")
    return config


def test_serve_runs_the_inventory(sim: Sim, tmp_path: Path) -> None:
    config = one_node(tmp_path, "jboss", sim({"/": JBOSS_WELCOME}).url())
    response, code, err = serve_and_get(config, "/health/node1")
    assert (response.status_code, response.text) == (200, "UP\n")
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert code in (0, -signal.SIGTERM)
    assert "Traceback" not in err


@pytest.mark.timeout(60)
def test_demo_serves_a_cluster_with_realistic_failures() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lbhealth", "demo", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, deadline=30)
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
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
    assert f"curl -i {base}/health/app1" in out


def test_serve_logs_one_plain_json_object_per_line(sim: Sim, tmp_path: Path) -> None:
    """uvicorn's own lines too: no ``color_message`` copy full of ANSI codes."""
    config = one_node(tmp_path, "iis", sim({"/": IIS_APPPOOL_STOPPED}).url())
    response, _, err = serve_and_get(config, "/health/node1")
    assert response.status_code == 503
    lines = [json.loads(line) for line in err.splitlines()]
    loggers = {line["logger"] for line in lines}
    assert {"uvicorn.error", "lbhealth.engine"} <= loggers  # uvicorn's start-up and a verdict
    assert all("color_message" not in line for line in lines)
    assert "\x1b" not in err
