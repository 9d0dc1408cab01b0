"""Per-node administrative state (enabled, drain, maint): who set it, when, why.

Operators drain a node before patching it and put it in maintenance while it
is down on purpose; a load balancer must see that whatever the backend says.
The state comes from two places, in this order of precedence:

1. a change made through the admin API (``PUT /admin/nodes/{node}/state``,
   ``lbhealth admin drain``), kept in ``settings.state_file`` so it survives
   restarts, until reset (``DELETE``, ``lbhealth admin reset``);
2. the inventory's declarative ``admin_state`` / ``admin_reason`` of the node;
3. otherwise ``enabled``.

The state file is replaced atomically (temporary file, fsync, rename, fsync of
the directory): after a crash it holds either the old or the new state, never
half of one. Several processes can share it (``lbhealth serve --workers N``):
each change re-reads the file under a lock and changes only its own node, and
every process follows the file (:meth:`AdminStore.watch`), so a change made
through any worker reaches all of them within :data:`STATE_FILE_POLL` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, get_args

from lbhealth.config import AdminState, ConfigError, Inventory
from lbhealth.verdict import clean_reason

log = logging.getLogger("lbhealth.admin")

ADMIN_STATES: tuple[AdminState, ...] = get_args(AdminState)
Source = Literal["api", "inventory", "default"]
#: Longest admin reason kept: it is shown to monitors and in logs.
MAX_ADMIN_REASON = 200
_FILE_VERSION = 1
#: Seconds between two looks (one ``stat``) at the state file for other processes' changes.
STATE_FILE_POLL = 0.5


@dataclass(frozen=True, slots=True)
class AdminEntry:
    """A node's administrative state and where it came from."""

    state: AdminState
    reason: str
    source: Source
    by: str | None = None
    at: float | None = None

    def to_json(self) -> dict[str, object]:
        return asdict(self)


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


def _signature(path: Path) -> tuple[int, int, int, int] | None:
    """What changes whenever the file is replaced (a new inode) or edited in place.

    None when it cannot be seen (missing, or unreadable: then reading it says why).
    """
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
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


class AdminStore:
    """The administrative state of every node of an inventory."""

    def __init__(self, inventory: Inventory, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._api: dict[str, AdminEntry] = {}
        self._seen: tuple[int, int, int, int] | None = None
        #: Called with a node's name after each change (the prebuilt answers listen).
        self.listeners: list[Callable[[str], None]] = []
        self.follow(inventory)

    def follow(self, inventory: Inventory) -> None:
        """Take the inventory's nodes and declarations: at start and on a config reload.

        API-set states of nodes still in the inventory survive a reload (from the
        state file, or from memory without one). Raises ConfigError, changing
        nothing, when the state file is unreadable.
        """
        path = inventory.settings.state_file
        declared = {
            node: AdminEntry(spec.admin_state, clean_reason(spec.admin_reason or ""), "inventory")
            if spec.admin_state != "enabled" or spec.admin_reason
            else AdminEntry("enabled", "", "default")
            for node, spec in inventory.nodes.items()
        }
        seen = _signature(path) if path else None
        loaded = read_state_file(path) if path else self._api
        stale = sorted(set(loaded) - set(declared))
        if stale:
            log.warning(
                "state file names nodes not in the inventory; ignoring them",
                extra={"state_file": str(path), "nodes": stale},
            )
        self._path, self._declared, self._seen = path, declared, seen
        self._api = self._known(loaded)

    def _known(self, entries: dict[str, AdminEntry]) -> dict[str, AdminEntry]:
        return {n: e for n, e in entries.items() if n in self._declared}

    def _apply(self, entries: dict[str, AdminEntry]) -> list[str]:
        """Serve these API entries; tell the listeners about each node whose entry changed."""
        previous, self._api = self._api, entries
        changed = [n for n in self._declared if previous.get(n) != entries.get(n)]
        for node in changed:
            for listener in self.listeners:
                listener(node)
        return changed

    def refresh(self) -> list[str]:
        """Take changes other processes made to the state file; the nodes that changed.

        Costs one ``stat`` when nothing changed. An unreadable file is logged
        (once per version of it) and the state in memory keeps serving.
        """
        path = self._path
        if path is None:
            return []
        seen = _signature(path)
        if seen == self._seen:
            return []
        self._seen = seen
        try:
            entries = read_state_file(path)
        except ConfigError as exc:
            log.warning(
                "state file changed but is unreadable; keeping the current admin states: %s",
                "; ".join(exc.errors),
                extra={"state_file": str(path)},
            )
            return []
        changed = self._apply(self._known(entries))
        if changed:
            log.debug(
                "admin states changed in the state file",
                extra={"state_file": str(path), "nodes": changed},
            )
        return changed

    async def watch(self, every: float = STATE_FILE_POLL) -> None:
        """Follow the state file until cancelled (changes by other workers, or by hand)."""
        while True:
            await asyncio.sleep(every)
            self.refresh()

    def _current_file(self) -> dict[str, AdminEntry]:
        """The state file's entries; an unreadable file is replaced by the state in memory."""
        assert self._path is not None
        try:
            return self._known(read_state_file(self._path))
        except ConfigError as exc:
            log.warning(
                "unreadable state file is rewritten from the admin states in memory: %s",
                "; ".join(exc.errors),
                extra={"state_file": str(self._path)},
            )
            return self._api

    def __contains__(self, node: object) -> bool:
        return node in self._declared

    def get(self, node: str) -> AdminEntry:
        return self._api.get(node) or self._declared[node]

    def all(self) -> dict[str, AdminEntry]:
        return {node: self.get(node) for node in self._declared}

    def set(self, node: str, state: AdminState, reason: str, by: str) -> AdminEntry:
        """Record an operator's change, persist it, and log who/when/why."""
        entry = AdminEntry(
            state,
            clean_reason(reason, MAX_ADMIN_REASON),
            "api",
            clean_reason(by, 80),
            self._clock(),
        )
        self._change(node, entry)
        return entry

    def reset(self, node: str, by: str) -> AdminEntry:
        """Forget the API's change: the inventory's declaration applies again."""
        self._change(node, None, by=clean_reason(by, 80))
        return self.get(node)

    def _change(self, node: str, entry: AdminEntry | None, by: str | None = None) -> None:
        previous = self.get(node)
        path = self._path
        with _locked(path) if path is not None else contextlib.nullcontext():
            # Start from the file, not from memory: another worker may have
            # changed other nodes since we last looked; only this node changes.
            updated = dict(self._current_file() if path is not None else self._api)
            if entry is None:
                updated.pop(node, None)
            else:
                updated[node] = entry
            if path is not None:
                write_state_file(path, updated)
                self._seen = _signature(path)
        self._apply(updated)
        current = self.get(node)
        log.info(
            "admin state %s: %s -> %s",
            node,
            previous.state,
            current.state,
            extra={
                "node": node,
                "from_state": previous.state,
                "to_state": current.state,
                "reason": current.reason,
                "by": entry.by if entry else by,
                "source": current.source,
                "persisted": self._path is not None,
            },
        )
