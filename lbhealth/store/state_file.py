"""The admin state file: API-set drain/maint states that survive restarts.

Replaced atomically (temporary file, fsync, rename, fsync of the directory):
after a crash it holds either the old or the new state, never half of one.
Several processes can share it: a change re-reads it under a lock
(:func:`locked`) and changes only its own node. Blocking I/O: callers on an
event loop run these functions in a thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from lbhealth.config import MAX_ADMIN_REASON, ConfigError
from lbhealth.store.entries import ADMIN_STATES, AdminEntry
from lbhealth.text.clean import clean_reason

_FILE_VERSION = 1


def _entry_from_file(node: str, raw: object, path: Path) -> AdminEntry:
    if not isinstance(raw, dict) or raw.get("state") not in ADMIN_STATES:
        raise ConfigError([f"{path}: nodes.{node}: expected {{state: enabled|drain|maint, ...}}"])
    at = raw.get("at")
    return AdminEntry(
        state=raw["state"],
        reason=clean_reason(str(raw.get("reason") or ""), MAX_ADMIN_REASON),
        source="api",
        by=str(raw.get("by") or "unknown"),
        at=float(at) if isinstance(at, int | float) else None,
    )


def read_state_file(path: Path) -> dict[str, AdminEntry]:
    """The API-set entries in a state file; a missing file holds none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError([f"{path}: unreadable state file: {exc}; fix or remove it"]) from None
    nodes = data.get("nodes") if isinstance(data, dict) else None
    if not isinstance(nodes, dict):
        raise ConfigError([f"{path}: not an lbhealth state file (no 'nodes' mapping)"])
    return {str(node): _entry_from_file(str(node), raw, path) for node, raw in nodes.items()}


def write_state_file(path: Path, entries: dict[str, AdminEntry]) -> None:
    """Replace the state file atomically, durably (fsync of file and directory)."""
    payload = {
        "version": _FILE_VERSION,
        "nodes": {
            node: {"state": e.state, "reason": e.reason, "by": e.by, "at": e.at}
            for node, e in sorted(entries.items())
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(payload, out, indent=2)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def signature(path: Path) -> tuple[int, int, int, int] | None:
    """What changes whenever the file is replaced (a new inode) or edited in place.

    None when it cannot be seen (missing, or unreadable: then reading it says why).
    """
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Serialize read-change-write of a state file between processes (``flock`` of its directory).

    The state file itself cannot carry the lock: each write replaces it with a new
    inode. Locking the directory leaves no lock file behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
