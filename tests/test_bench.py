"""The benchmark runs and prints every figure (tiny mode; speed is never asserted)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from bench.load import parse_wrk
from tests._process import ROOT
from tests._servers import IN_CI

# Real output of `wrk -t2 -c64 -d2s --latency` against `python -m bench.bare`.
WRK_OUTPUT = """\
Running 2s test @ http://127.0.0.1:40111/health/n0
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.61ms    2.21ms  44.46ms   96.39%
    Req/Sec    23.91k     4.52k   32.79k    75.00%
  Latency Distribution
     50%    1.23ms
     75%    1.49ms
     90%    1.79ms
     99%   11.84ms
  95361 requests in 2.01s, 13.10MB read
Requests/sec:  47457.07
Transfer/sec:      6.52MB
"""


def test_parse_wrk_reads_rate_and_percentiles() -> None:
    result = parse_wrk(WRK_OUTPUT)
    assert (result.requests, result.rps, result.p50_ms, result.p99_ms) == (
        95361,
        47457.07,
        1.23,
        11.84,
    )


def test_parse_wrk_rejects_unexpected_output() -> None:
    with pytest.raises(ValueError, match="unexpected wrk output"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")


def test_bench_tiny_mode_prints_every_figure() -> None:
    # A smoke test: every phase runs and prints, as briefly as the benchmark allows.
    command = [sys.executable, "-m", "bench", "--duration", "0.3", "--connections", "2"]
    command += ["--load", "python", "--load-nodes", "2", "--nodes", "2", "--cpu-window", "0.2"]
    command += ["--flood-connections", "150", "--cost-window", "0.5"]
    command += ["--isolation-checks", "4", "--detection-runs", "1", "--detection-scale", "0.1"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    for figure in (
        "CPU cores",
        "bare ASGI",
        "lbhealth",
        "ratio lbhealth/bare:",
        "probes of the polled check:",
        "amplification:",
        "--workers 2:",
        "peak RSS MB",
        "scheduler CPU",
        "polls answered 200 within 1 s",
        "closed by lbhealth",
        "CPU ms per probe",
        "monitor under probe load",
        "meets the floor",
        "of schedule (floor 85%)",
        "HAProxy via lbhealth",
        "HAProxy direct",
    ):
        assert figure in out, out
    assert [line.split()[0] for line in out.splitlines() if line.startswith("  small ")] == [
        "small"
    ]
    if IN_CI or shutil.which("redis-server"):
        for figure in (
            "1 alone    probes per check per interval",
            "3 + store  probes per check per interval",
            "drain through one, served by all:",
            "answers while Redis is stopped (SIGSTOP):",
        ):
            assert figure in out, out
    table = out.split("scheduler CPU % of one core\n", 1)[1].splitlines()
    assert table[0].split()[0] == "2"
