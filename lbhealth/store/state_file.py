"""The admin state file: API-set drain/maint states that survive restarts.

Replaced atomically (temporary file, fsync, rename, fsync of the directory):
after a crash it holds either the old or the new state, never half of one.
Read defensively: anyone with write access to the directory can put anything
there, so size, types, text and numbers are checked before anything is served
(:func:`read_state_file`).
Several processes can share it: a change re-reads it under a lock
(:func:`locked`) and changes only its own node. Blocking I/O: callers on an
event loop run these functions in a thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from lbhealth.config import NODE_NAME, ConfigError
from lbhealth.store.entries import AdminEntry, decode_entry, encode_entry
from lbhealth.text.clean import clean_reason

log = logging.getLogger("lbhealth.admin")

_FILE_VERSION = 1
#: Largest state file read. A real one holds a few short lines per node (a state,
#: a reason of at most 200 characters, a name, a time): 1 MiB is thousands of nodes.
#: Anything larger is refused before it is parsed, so no file can make the service
#: parse, hold or serve megabytes.
MAX_STATE_FILE = 1024 * 1024
#: Repairs named in the warning; the rest are counted.
_SHOWN_REPAIRS = 10


def _load(path: Path) -> object:
    """The file's JSON, read only up to :data:`MAX_STATE_FILE` bytes."""
    with path.open("rb") as file:
        data = file.read(MAX_STATE_FILE + 1)
    if len(data) > MAX_STATE_FILE:
        raise ConfigError(
            [
                f"{path}: larger than {MAX_STATE_FILE} bytes, so not an lbhealth state file"
                " (it holds a few short lines per node); fix or remove it"
            ]
        )
    return json.loads(data.decode("utf-8"))


def read_state_file(path: Path) -> dict[str, AdminEntry]:
    """The API-set entries in a state file; a missing file holds none.

    The file is validated and bounded: it must be at most :data:`MAX_STATE_FILE`
    bytes, each entry needs a valid ``state``, and ``reason``/``by``/``at``
    are repaired when they do not fit (wrong type, too long, not a finite
    time), with one warning naming what was repaired. Entries of node names
    no inventory can hold are skipped (and counted in that warning).
    """
    try:
        data = _load(path)
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        message = clean_reason(str(exc), 200)
        raise ConfigError([f"{path}: unreadable state file: {message}; fix or remove it"]) from None
    nodes = data.get("nodes") if isinstance(data, dict) else None
    if not isinstance(nodes, dict):
        raise ConfigError([f"{path}: not an lbhealth state file (no 'nodes' mapping)"])
    repairs: list[str] = []
    named = {node: raw for node, raw in nodes.items() if NODE_NAME.match(node)}
    if len(named) < len(nodes):
        repairs.append(f"{len(nodes) - len(named)} entries with invalid node names skipped")
    try:
        entries = {node: decode_entry(raw, f"nodes.{node}", repairs) for node, raw in named.items()}
    except ValueError as exc:
        raise ConfigError([f"{path}: {exc}"]) from None
    if repairs:
        more = len(repairs) - _SHOWN_REPAIRS
        shown = repairs[:_SHOWN_REPAIRS] + ([f"{more} more"] if more > 0 else [])
        log.warning(
            "state file repaired on reading (rewritten clean on the next change): %s",
            "; ".join(shown),
            extra={"state_file": str(path)},
        )
    return entries


def write_state_file(path: Path, entries: dict[str, AdminEntry]) -> None:
    """Replace the state file atomically, durably (fsync of file and directory)."""
    payload = {
        "version": _FILE_VERSION,
        "nodes": {node: encode_entry(entry) for node, entry in sorted(entries.items())},
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
