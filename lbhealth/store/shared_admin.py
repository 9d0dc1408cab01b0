"""Serve side: drain and maintenance shared by every instance through the store.

The API-set entries live in one hash (:data:`~lbhealth.store.shared.ADMIN`, one
field per node, plus a version counter). A change is one atomic script: the hash
changes, the version goes up, and the change is published on the channel of the
same name with its version, so every instance serves it within a round trip
(pushed, not polled).

Versions are kept per node: an instance serves a change of a node only if it is
newer than the last change of that node it served. The reply to this instance's
own write and the changes pushed by the others travel on two connections and may
arrive in either order; per node, whichever is newer wins, and a change of one
node never hides an older-numbered change of another that arrives after it.

On each (re)connection (:meth:`SharedAdmin.resync`, a recovery step) the whole
hash is read again and served, as of its version; changes newer than that which
arrive while it is being read are served over it, never rolled back. A hash that
does not exist at all means a store that never had lbhealth's admin state, or
lost it (a Redis restarted without persistence): the entries this instance knows
(from the state file, or from memory) are written back, so a drain survives even
that, and versions count from the store's again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from lbhealth.store.admin import AdminStore
from lbhealth.store.entries import AdminEntry, decode_entry, encode_entry
from lbhealth.store.link import StoreLink
from lbhealth.store.shared import ADMIN

log = logging.getLogger("lbhealth.store")

#: The hash field counting changes (node names cannot start with "~").
VERSION = "~version"

_WRITE = """
local version = redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
for i = 3, #ARGV, 2 do
    if ARGV[i + 1] == '' then
        redis.call('HDEL', KEYS[1], ARGV[i])
    else
        redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    end
end
redis.call('PUBLISH', KEYS[1], '{"version":' .. version .. ',"nodes":' .. ARGV[1] .. '}')
return version
"""


#: A change as this instance took it: its version, and the nodes it set (None: reset).
Change = tuple[int, dict[str, AdminEntry | None]]


class SharedAdmin:
    """The admin store's remote (:class:`lbhealth.store.admin.Remote`) in the shared store."""

    def __init__(self, link: StoreLink, admin: AdminStore) -> None:
        self.link = link
        self.admin = admin
        self._write = link.client.register_script(_WRITE)
        #: The version of the store's whole state as last read: every node's, unless a
        #: newer change of the node was served since (:attr:`_versions`).
        self._floor = 0
        self._versions: dict[str, int] = {}
        #: The changes taken while each resync in progress reads the store's state.
        self._resyncing: list[list[Change]] = []

    def version(self, node: str) -> int:
        """The version of the newest change of ``node`` served here."""
        return self._versions.get(node, self._floor)

    def _take(
        self, version: int, changes: Mapping[str, AdminEntry | None]
    ) -> dict[str, AdminEntry | None]:
        """The part of a change newer, node by node, than what is served here; its versions
        recorded as served (the caller serves it)."""
        for taken in self._resyncing:
            taken.append((version, dict(changes)))
        newer = {n: e for n, e in changes.items() if version > self.version(n)}
        for node in newer:
            self._versions[node] = version
        return newer

    async def write(self, node: str, entry: AdminEntry | None) -> bool:
        """Write the change for every instance; whether it is the newest of ``node`` here.

        False when a newer change of the node, made through another instance,
        arrived first: that one is served, not this one.
        """
        return bool(self._take(await self._publish({node: entry}), {node: entry}))

    async def _publish(self, entries: Mapping[str, AdminEntry | None]) -> int:
        """Write these nodes' entries in one change; its version (raises StoreUnavailable)."""
        encoded = {n: encode_entry(e) if e else None for n, e in entries.items()}
        args: list[str | int] = [json.dumps(encoded, separators=(",", ":")), VERSION]
        for node, value in encoded.items():
            args += [node, json.dumps(value) if value else ""]
        return int(await self.link.call("admin write", self._write(keys=[ADMIN], args=args)))

    def receive(self, payload: bytes) -> None:
        """A change published by any instance (this one's own included): serve what is newer."""
        try:
            data = json.loads(payload)
            version = int(data["version"])
            nodes = data["nodes"]
            repairs: list[str] = []
            changes = {
                str(n): None if raw is None else decode_entry(raw, f"admin.{n}", repairs)
                for n, raw in nodes.items()
            }
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.warning("ignoring an admin change from the store: %s", exc)
            return
        self._serve(version, changes)

    def _serve(self, version: int, changes: Mapping[str, AdminEntry | None]) -> None:
        """Serve the part of a change that is newer than what is served here."""
        newer = self._take(version, changes)
        if newer:
            self.admin.adopt(newer, complete=False)

    async def resync(self) -> None:
        """A recovery step: serve the store's whole admin state, or give it ours if it has none.

        Changes taken while the state is read (pushed, or replies to this instance's
        own writes) that are newer than it are served over it: never rolled back.
        """
        taken: list[Change] = []
        self._resyncing.append(taken)
        try:
            raw = await self.link.call("admin load", self.link.client.hgetall(ADMIN))
        finally:
            self._resyncing.remove(taken)
        if not raw:
            self._floor, self._versions = 0, {}  # a new or emptied store counts from 1 again
            known = {n: e for n, e in self.admin.all().items() if e.source == "api"}
            if known:
                log.warning(
                    "the store holds no admin state; writing back the %d this instance knows",
                    len(known),
                    extra={"nodes": sorted(known)},
                )
            # Served again: a change pushed meanwhile was older than this write-back.
            self._serve(await self._publish(known), known)
            return
        fields = {k.decode() if isinstance(k, bytes) else str(k): v for k, v in raw.items()}
        self._floor, self._versions = int(fields.pop(VERSION, b"0")), {}
        entries: dict[str, AdminEntry | None] = {}
        repairs: list[str] = []
        for node, value in fields.items():
            try:
                entries[node] = decode_entry(json.loads(value), node, repairs)
            except ValueError as exc:
                log.warning("ignoring the shared admin state of %s: %s", node, exc)
        for version, changes in sorted(taken, key=lambda change: change[0]):
            entries.update(self._take(version, changes))
        self.admin.adopt(entries, complete=True)
