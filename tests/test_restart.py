"""Restarting lbhealth under a monitor: with systemd socket activation no check meets a closed port.

systemd keeps the listening socket of a ``.socket`` unit open across restarts of
the service; lbhealth takes it (``LISTEN_FDS``/``LISTEN_PID``) instead of binding
its own. A check sent while no lbhealth runs waits in the socket's queue and the
next lbhealth answers it. The test plays systemd: it owns the socket, and starts
lbhealth with the socket as descriptor 3, twice.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import httpx

from lbhealth.demo.cluster import IIS_WELCOME
from lbhealth.demo.simserver import SimServer
from tests._inventory import same_kind, write
from tests._poll import wait_get, wait_ready

Sim = Callable[..., SimServer]

#: What systemd does before exec: the socket as fd 3, LISTEN_FDS, and LISTEN_PID (this pid).
ACTIVATE = (
    "import os, sys; os.dup2(int(sys.argv[1]), 3);"
    " os.environ.update(LISTEN_FDS='1', LISTEN_PID=str(os.getpid()));"
    " os.execv(sys.executable,"
    " [sys.executable, '-m', 'lbhealth', 'serve', '--config', sys.argv[2]])"
)


def activated(listener: socket.socket, config: Path) -> subprocess.Popen[bytes]:
    fd = listener.fileno()
    command = [sys.executable, "-c", ACTIVATE, str(fd), str(config)]
    return subprocess.Popen(command, pass_fds=[fd], stderr=subprocess.DEVNULL)


def test_a_check_sent_during_a_restart_is_answered_by_the_next_process(
    sim: Sim, tmp_path: Path
) -> None:
    backend = sim({"/": IIS_WELCOME})
    config = write(
        tmp_path / "inventory.yaml", same_kind("iis", {"web1": backend.url()}, interval=0.5)
    )
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        first = activated(listener, config)
        try:
            wait_ready(url, process=first)
            assert httpx.get(f"{url}/health/web1").text == "UP\n"
        finally:
            first.send_signal(signal.SIGTERM)
            first.wait(15)
        # No lbhealth runs now: the check connects (the socket is systemd's) and waits.
        answers: list[httpx.Response] = []
        check = threading.Thread(
            target=lambda: answers.append(httpx.get(f"{url}/livez", timeout=30)), daemon=True
        )
        check.start()
        second = activated(listener, config)
        try:
            check.join(30)
            assert [a.status_code for a in answers] == [200]
            wait_get(f"{url}/health/web1", lambda r: r.text == "UP\n", process=second)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(15)
