"""The probe process is supervised: whatever happens to it, probing comes back, and says so.

A child that dies again and again is restarted with growing backoff and keeps
the schedule (no burst of probes at each start); one that cannot be started is
retried; one whose loop is stuck is killed and replaced; one that sends what
cannot be read is replaced; and none of it ever blocks the serving loop (a
child that reads nothing, a fork server that does not answer). Real processes
throughout: the child, the fork server, ``lbhealth serve``; the faults are real
signals, a real file-descriptor limit and a real pathological pattern.
"""

from __future__ import annotations

import logging
import os
import resource
import signal
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import pytest

from lbhealth.core import probe_child, probe_process
from lbhealth.core.probe_process import ProbeProcess
from lbhealth.demo.cluster import IIS_WELCOME
from lbhealth.demo.simserver import Page, SimServer
from tests._admin import AUTH, TOKEN
from tests._inventory import inventory, node, same_kind, write
from tests._poll import wait_ready, wait_until
from tests._process import gone, lbhealth_command, running
from tests._servers import Running, free_port

Sim = Callable[..., SimServer]
Serve = Callable[..., Running]
WEB1 = ("web1", "iis")


def web1_inventory(url: str, **settings: Any) -> dict[str, Any]:
    return same_kind("iis", {"web1": url}, **settings)


def child_pid(readyz: str) -> int:
    """The probe process's pid, as ``/readyz?verbose`` names it."""
    line = next(x for x in readyz.splitlines() if "probe-process" in x)
    return int(line.split("(pid ")[1].split(")")[0])


def kill_after_a_result(prober: ProbeProcess, recorded: Callable[[], float | None]) -> None:
    """Kill the child, then wait until its successor has probed once and reported."""
    last, pid, restarts = recorded(), prober.pid, prober.restarts
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: prober.restarts == restarts + 1)
    wait_until(lambda: recorded() != last)


def test_a_crash_loop_backs_off_and_each_new_child_keeps_the_schedule(
    sim: Sim, lbhealth_server: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    backend = sim({"/": IIS_WELCOME})
    lb = lbhealth_server(web1_inventory(backend.url(), interval=3))
    prober, verdicts = lb.app.prober, lb.app.engine.verdicts
    assert prober is not None

    def recorded() -> float | None:
        stored = verdicts.get(WEB1)
        return stored.probed_at if stored else None

    with caplog.at_level(logging.ERROR, logger="lbhealth.probe_process"):
        before, start = backend.hits["/"], time.monotonic()
        kill_after_a_result(prober, recorded)  # each child dies right after its first result
        kill_after_a_result(prober, recorded)
        probes, elapsed = backend.hits["/"] - before, time.monotonic() - start
    # Each new child continues the schedule the serving side knows: two probes of the
    # check are an interval apart, however often the child restarts.
    assert probes <= elapsed / 3 + 1, (probes, elapsed)
    restarting = [r.args for r in caplog.records if "restarting it in" in r.getMessage()]
    assert [args[1] for args in restarting if isinstance(args, tuple)] == [0.5, 1.0]


def test_a_child_that_cannot_be_started_is_retried_and_readiness_says_why(
    sim: Sim, tmp_path: Path
) -> None:
    backend = sim({"/": IIS_WELCOME})
    config = write(tmp_path / "inventory.yaml", web1_inventory(backend.url(), interval=0.2))
    port, log = free_port(), tmp_path / "serve.log"
    command = lbhealth_command("serve", "--config", str(config), "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    with running(command, log) as service, httpx.Client(base_url=url, timeout=5) as client:
        wait_ready(url, process=service)
        first = child_pid(client.get("/readyz?verbose").text)  # keeps its connection open
        # Out of file descriptors: every one below the limit is taken, so the pipe to a new
        # child cannot be made (EMFILE), while the open connection still answers.
        taken = {int(fd) for fd in os.listdir(f"/proc/{service.pid}/fd")}
        lowest_free = next(fd for fd in range(len(taken) + 1) if fd not in taken)
        limits = resource.prlimit(service.pid, resource.RLIMIT_NOFILE)
        resource.prlimit(service.pid, resource.RLIMIT_NOFILE, (lowest_free, limits[1]))
        try:
            os.kill(first, signal.SIGKILL)
            failing = wait_until(
                lambda: client.get("/readyz?verbose"),
                lambda r: (
                    "could not be started" in r.text
                    and log.read_text().count("could not start the probe process") >= 2
                ),
            )
        finally:
            resource.prlimit(service.pid, resource.RLIMIT_NOFILE, limits)
        assert failing.status_code == 503
        assert "[-]probe-process (pid None) failed: could not be started (" in failing.text
        assert "Too many open files" in failing.text
        ready = wait_until(lambda: client.get("/readyz?verbose"), lambda r: r.status_code == 200)
        assert child_pid(ready.text) != first
        wait_until(lambda: client.get("/health/web1").text, lambda answer: answer == "UP\n")
        metrics = client.get("/metrics").text.splitlines()
        failures = next(x for x in metrics if x.startswith("lbhealth_probe_process_start_fail"))
        assert float(failures.split()[-1]) >= 2, failures


def test_a_child_stuck_in_a_page_is_killed_and_replaced(
    sim: Sim,
    lbhealth_server: Serve,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(probe_process, "STALL_AFTER", 2.0)  # 10 s in production
    text = [("Content-Type", "text/plain")]
    backend = sim({"/": Page(200, text, b"all good")})
    # A user pattern that backtracks for ever on a page of a's: the child's loop is stuck.
    data = inventory({"web1": node("http", backend.url(), reject="(a+)+$")}, interval=0.2)
    lb = lbhealth_server(data)
    prober = lb.app.prober
    assert prober is not None and prober.alive
    stuck = prober.pid
    with caplog.at_level(logging.ERROR, logger="lbhealth.probe_process"):
        backend.pages["/"] = Page(200, text, b"a" * 64 + b"!")
        # Not ready from the stall until a new child runs (silent, killed, restarting).
        wait_until(
            lambda: (prober.stalls, httpx.get(f"{lb.url}/readyz?verbose")),
            lambda seen: seen[0] == 1 and "[-]probe-process (pid " in seen[1].text,
        )
        backend.pages["/"] = Page(200, text, b"all good again")
        replaced = (1, True, True)
        wait_until(lambda: (prober.stalls, prober.alive, prober.pid != stuck), replaced.__eq__)
    said = " ".join(r.getMessage() for r in caplog.records)
    assert f"probe process (pid {stuck}) silent for " in said
    assert "its event loop stuck; killing it" in said
    assert stuck is not None and gone(stuck)
    wait_until(lambda: httpx.get(f"{lb.url}/health/web1").text, lambda a: a == "UP\n")
    assert "lbhealth_probe_process_stalls_total 1.0" in httpx.get(f"{lb.url}/metrics").text


def unreadable_first(conn: Connection, setup_logging: Callable[[], None]) -> None:
    """A probe process whose first message does not unpickle; then it probes as usual."""
    conn.send_bytes(b"\x80\x05 not a pickle")
    probe_child.child_main(conn, setup_logging)


def test_a_child_that_sends_what_cannot_be_read_is_replaced(
    sim: Sim, lbhealth_server: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probe_child, "child_main", unreadable_first)  # for children started here
    backend = sim({"/": IIS_WELCOME})
    lb = lbhealth_server(web1_inventory(backend.url(), interval=0.2), ready=False)
    prober = lb.app.prober
    assert prober is not None
    first = prober.pid
    assert first is not None
    wait_until(lambda: gone(first))  # nothing read its pipe any more: replaced, not left running
    monkeypatch.undo()
    wait_until(lambda: (prober.alive, prober.restarts >= 1), lambda s: s == (True, True))
    assert prober.stalls == 0  # replaced for what it sent, not for falling silent
    lb.wait_probed()
    before = backend.hits["/"]
    wait_until(lambda: backend.hits["/"], lambda hits: hits >= before + 3)
    assert httpx.get(f"{lb.url}/health/web1").text == "UP\n"


@pytest.fixture
def stopped() -> Iterator[Callable[[int], None]]:
    """``stopped(pid)``: SIGSTOP a process, SIGCONT at the end of the test whatever happens."""
    pids: list[int] = []

    def stop(pid: int) -> None:
        pids.append(pid)
        os.kill(pid, signal.SIGSTOP)

    yield stop
    for pid in pids:
        os.kill(pid, signal.SIGCONT)


def test_a_fork_server_that_does_not_answer_never_blocks_an_answer(
    sim: Sim, lbhealth_server: Serve, stopped: Callable[[int], None]
) -> None:
    backend = sim({"/": IIS_WELCOME})
    lb = lbhealth_server(web1_inventory(backend.url(), interval=0.5, max_age="1h"))
    prober = lb.app.prober
    assert prober is not None and prober.pid is not None
    first = prober.pid
    fork_server = int(Path(f"/proc/{first}/stat").read_text().rsplit(")", 1)[1].split()[1])
    stopped(fork_server)  # a new child waits for it
    os.kill(first, signal.SIGKILL)
    starting = "[-]probe-process (pid None) failed: starting"
    wait_until(
        lambda: httpx.get(f"{lb.url}/readyz?verbose", timeout=5).text, lambda t: starting in t
    )
    # The start is stuck in process.start(): the serving loop answers all the same.
    answers = {httpx.get(f"{lb.url}/health/web1", timeout=5).text for _ in range(10)}
    assert answers == {"UP\n"} and prober.starting
    os.kill(fork_server, signal.SIGCONT)
    wait_until(lambda: (prober.alive, prober.pid != first), lambda s: s == (True, True))


def test_an_inventory_a_child_does_not_read_never_blocks_the_serving_loop(
    sim: Sim, lbhealth_server: Serve, stopped: Callable[[int], None], tmp_path: Path
) -> None:
    backend = sim({"/": IIS_WELCOME})
    settings = {"admin_token": TOKEN, "interval": 0.5, "max_age": "1h"}
    path = write(tmp_path / "inventory.yaml", web1_inventory(backend.url(), **settings))
    lb = lbhealth_server(path)
    prober = lb.app.prober
    assert prober is not None and prober.pid is not None
    # 2000 more nodes pickle to more than a socket buffer holds, for a child that reads nothing.
    refused = f"127.0.0.1:{free_port()}"
    nodes = {"web1": node("iis", backend.url())}
    nodes |= {f"n{i:04}": node("tcp", refused, interval="1h") for i in range(2000)}
    write(path, inventory(nodes, **settings))
    stopped(prober.pid)
    with httpx.Client(base_url=lb.url, timeout=5) as client:
        reloaded = client.post("/admin/reload", headers=AUTH)
        assert reloaded.status_code == 200, reloaded.text
        assert client.get("/health/web1").text == "UP\n"
    os.kill(prober.pid, signal.SIGCONT)
    # In order, after all: the child probes the new inventory, and its results are taken.
    wait_until(lambda: ("n1999", "tcp") in lb.app.engine.verdicts)
