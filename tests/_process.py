"""The ``lbhealth`` command as a real subprocess, as a user runs it from the repository root."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lbhealth_command(*args: str) -> list[str]:
    """``lbhealth ARGS`` with this interpreter (``python -m lbhealth`` is the same command)."""
    return [sys.executable, "-m", "lbhealth", *args]


def lbhealth(
    *args: str, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run ``lbhealth ARGS`` to completion in the repository root; output captured as text."""
    return subprocess.run(
        lbhealth_command(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


@contextlib.contextmanager
def running(
    command: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> Iterator[subprocess.Popen[bytes]]:
    """A long-running process for the ``with`` block, its stdout and stderr in ``log``.

    It gets SIGTERM at the end (as systemd or Docker would stop it) and is waited for.
    """
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=out)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(15)


def gone(pid: int) -> bool:
    """Whether process ``pid`` has exited (a zombie not yet reaped by its parent counts)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status
