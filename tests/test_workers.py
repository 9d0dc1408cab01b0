"""``lbhealth serve --workers 2``: one port, two processes, each probing on its own."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import yaml

from lbhealth.demo import IIS_WELCOME
from lbhealth.simserver import SimServer
from tests.test_metrics import free_port

Sim = Callable[..., SimServer]


def test_two_workers_serve_one_port_with_bounded_probes(sim: Sim, tmp_path: Path) -> None:
    backend = sim({"/": IIS_WELCOME})
    interval, port = 0.3, free_port()
    config = tmp_path / "inventory.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "settings": {"interval": interval, "log_level": "warning"},
                "nodes": {"web1": {"checks": [{"kind": "iis", "url": backend.url()}]}},
            }
        )
    )
    start = time.monotonic()
    command = [sys.executable, "-m", "lbhealth", "serve", "--config", str(config)]
    proc = subprocess.Popen([*command, "--port", str(port), "--workers", "2"])
    try:
        answers = []
        with httpx.Client() as client:
            while len(answers) < 200 and time.monotonic() - start < 60:
                assert proc.poll() is None, "lbhealth serve --workers 2 exited"
                try:
                    answers.append(client.get(f"http://127.0.0.1:{port}/health/web1").text)
                except httpx.TransportError:
                    time.sleep(0.1)
        hits, elapsed = backend.hits["/"], time.monotonic() - start
    finally:
        proc.terminate()
        proc.wait(15)
    assert answers.count("UP\n") >= 150  # a worker may answer before its first probe
    assert set(answers) <= {"UP\n", "DOWN: iis: not probed yet\n"}
    # Two schedulers: at most twice one worker's bound, whatever the monitor load.
    assert hits <= 2 * (elapsed / interval + 1)
