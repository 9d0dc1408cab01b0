"""The benchmark runs and prints every figure (tiny mode; speed is never asserted)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.load import parse_wrk
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parent.parent

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
    command = [sys.executable, "-m", "bench", "--duration", "1", "--connections", "4"]
    command += ["--load", "python", "--load-nodes", "3", "--nodes", "2", "5", "--cpu-window", "1"]
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
    ):
        assert figure in out, out
    if IN_CI or shutil.which("redis-server"):
        for figure in (
            "1 alone    probes per check per interval",
            "3 + store  probes per check per interval",
            "drain through one, served by all:",
            "answers while Redis is stopped (SIGSTOP):",
        ):
            assert figure in out, out
    table = out.split("scheduler CPU % of one core\n", 1)[1].splitlines()
    assert [line.split()[0] for line in table[:2]] == ["2", "5"]
