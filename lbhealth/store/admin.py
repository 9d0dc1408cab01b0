"""Per-node administrative state (enabled, drain, maint), as every reader sees it.

Operators drain a node before patching it and put it in maintenance while it
is down on purpose; a load balancer must see that whatever the backend says.
The state comes from, in this order of precedence:

1. a change made through the admin API (``PUT /admin/nodes/{node}/state``,
   ``lbhealth admin drain``), kept in ``settings.state_file`` so it survives
   restarts (:mod:`lbhealth.store.state_file`), until reset (``DELETE``,
   ``lbhealth admin reset``);
2. the inventory's declarative ``admin_state`` / ``admin_reason`` of the node;
3. otherwise ``enabled``.

Readers (:meth:`AdminStore.get`) never touch the file: they read memory. Every
process sharing the file follows it (:meth:`AdminStore.watch`), so a change
made through any worker reaches all of them within :data:`STATE_FILE_POLL`
seconds; the file's reads, writes, fsyncs and locks run in a thread.

With a shared store (``settings.store``), the store holds the API-set entries
instead (:attr:`AdminStore.remote`, :mod:`lbhealth.store.shared_admin`): a change is
written there first (refused, with nothing changed, when the store does not
answer), and changes made through other instances arrive pushed
(:meth:`AdminStore.adopt`). The state file, when set, is then a copy of the last
state known, written in the background: it is what a restart serves while the
store is unreachable.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

from lbhealth.config import MAX_ADMIN_REASON, AdminState, ConfigError, Inventory
from lbhealth.store.entries import MAX_OPERATOR, AdminEntry
from lbhealth.store.state_file import locked, read_state_file, signature, write_state_file
from lbhealth.text.clean import clean_reason

log = logging.getLogger("lbhealth.admin")

#: Seconds between two looks (one ``stat``) at the state file for other processes' changes.
STATE_FILE_POLL = 0.5
Signature = tuple[int, int, int, int]


class Remote(Protocol):
    """Where API-set entries are written first when instances share a store."""

    async def write(self, node: str, entry: AdminEntry | None) -> bool:
        """Record the node's entry (None: reset) for every instance; raise if not done.

        True when it is the node's newest change known here, to serve now; False
        when a newer one, made through another instance, is served already.
        """
        ...


class AdminStore:
    """The administrative state of every node of an inventory."""

    def __init__(self, inventory: Inventory, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._api: dict[str, AdminEntry] = {}
        self._seen: Signature | None = None
        self._changing = asyncio.Lock()
        #: Called with a node's name after each change (the prebuilt answers listen).
        self.listeners: list[Callable[[str], None]] = []
        #: The shared store, when instances share one (None: this instance alone).
        self.remote: Remote | None = None
        self._mirroring: asyncio.Task[None] | None = None
        self._mirror_due = False
        self.follow(inventory)

    def follow(self, inventory: Inventory, entries: dict[str, AdminEntry] | None = None) -> None:
        """Take the inventory's nodes and declarations: at start and on a config reload.

        API-set states of nodes still in the inventory survive a reload (from the
        state file, or from memory without one). A reload passes the state file's
        ``entries``, read off the event loop; without them the file is read here
        (at start), raising ConfigError, changing nothing, when it is unreadable.
        """
        path = inventory.settings.state_file
        declared = {
            node: AdminEntry(spec.admin_state, clean_reason(spec.admin_reason or ""), "inventory")
            if spec.admin_state != "enabled" or spec.admin_reason
            else AdminEntry("enabled", "", "default")
            for node, spec in inventory.nodes.items()
        }
        seen = signature(path) if path else None
        if path is None or self.remote is not None:  # memory mirrors the store
            loaded = self._api
        else:
            loaded = entries if entries is not None else read_state_file(path)
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

    def _read_if_changed(self, path: Path) -> tuple[Signature | None, dict[str, AdminEntry] | None]:
        """In a thread: the file's signature, and its entries when it changed since last seen.

        Costs one ``stat`` when nothing changed. An unreadable file is logged
        (once per version of it) and the state in memory keeps serving.
        """
        seen = signature(path)
        if seen == self._seen:
            return seen, None
        try:
            return seen, read_state_file(path)
        except ConfigError as exc:
            log.warning(
                "state file changed but is unreadable; keeping the current admin states: %s",
                "; ".join(exc.errors),
                extra={"state_file": str(path)},
            )
            return seen, None

    async def refresh(self) -> list[str]:
        """Take changes other processes made to the state file; the nodes that changed."""
        path = self._path
        if path is None or self.remote is not None:  # the store pushes changes instead
            return []
        async with self._changing:
            seen, entries = await asyncio.to_thread(self._read_if_changed, path)
            if path != self._path:  # a reload switched files meanwhile
                return []
            self._seen = seen
            if entries is None:
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
            await self.refresh()

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

    async def set(self, node: str, state: AdminState, reason: str, by: str) -> AdminEntry:
        """Record an operator's change, persist it, and log who/when/why."""
        entry = AdminEntry(
            state,
            clean_reason(reason, MAX_ADMIN_REASON),
            "api",
            clean_reason(by, MAX_OPERATOR),
            self._clock(),
        )
        await self._change(node, entry)
        return entry

    async def reset(self, node: str, by: str) -> AdminEntry:
        """Forget the API's change: the inventory's declaration applies again."""
        await self._change(node, None, by=clean_reason(by, MAX_OPERATOR))
        return self.get(node)

    def _write_change(
        self, path: Path, node: str, entry: AdminEntry | None
    ) -> tuple[dict[str, AdminEntry], Signature | None]:
        """In a thread: change one node in the file, under its lock; the file's new entries."""
        with locked(path):
            # Start from the file, not from memory: another worker may have
            # changed other nodes since we last looked; only this node changes.
            updated = dict(self._current_file())
            if entry is None:
                updated.pop(node, None)
            else:
                updated[node] = entry
            write_state_file(path, updated)
            return updated, signature(path)

    def _with(self, node: str, entry: AdminEntry | None) -> dict[str, AdminEntry]:
        updated = dict(self._api)
        if entry is None:
            updated.pop(node, None)
        else:
            updated[node] = entry
        return updated

    async def _change(self, node: str, entry: AdminEntry | None, by: str | None = None) -> None:
        previous = self.get(node)
        async with self._changing:  # one change at a time, applied in the order written
            path = self._path
            if self.remote is not None:
                if await self.remote.write(node, entry):  # raises: nothing changed anywhere
                    self._apply(self._with(node, entry))
                    self._mirror_later()
            elif path is None:
                self._apply(self._with(node, entry))
            else:
                updated, self._seen = await asyncio.to_thread(self._write_change, path, node, entry)
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
                "persisted": self._path is not None or self.remote is not None,
            },
        )

    def adopt(self, entries: Mapping[str, AdminEntry | None], *, complete: bool) -> list[str]:
        """Serve the shared store's API entries: all of them (``complete``), or these nodes'.

        A None entry resets its node. Synchronous, so changes apply in the order
        they arrive; the state file copy is written in the background.
        """
        updated = {} if complete else dict(self._api)
        for node, entry in entries.items():
            if entry is None:
                updated.pop(node, None)
            else:
                updated[node] = entry
        changed = self._apply(self._known(updated))
        if changed:
            log.info(
                "admin states changed through the shared store: %s",
                ", ".join(f"{n} {self.get(n).state}" for n in changed),
                extra={"nodes": changed, "source": "store"},
            )
            self._mirror_later()
        return changed

    def _mirror_later(self) -> None:
        """Copy the entries to the state file soon, in a thread, one write at a time."""
        if self._path is None:
            return
        self._mirror_due = True
        if self._mirroring is None or self._mirroring.done():
            self._mirroring = asyncio.get_running_loop().create_task(self._mirror())

    async def _mirror(self) -> None:
        while self._mirror_due:
            self._mirror_due = False
            path, entries = self._path, dict(self._api)
            if path is None:
                return
            try:
                await asyncio.to_thread(self._write_all, path, entries)
            except OSError as exc:
                log.warning(
                    "could not copy the shared admin states to the state file: %s",
                    exc,
                    extra={"state_file": str(path)},
                )

    @staticmethod
    def _write_all(path: Path, entries: dict[str, AdminEntry]) -> None:
        with locked(path):
            write_state_file(path, entries)
