"""Serve side: drain and maintenance shared by every instance through the store.

The API-set entries live in one hash (:data:`~lbhealth.store.shared.ADMIN`, one
field per node, plus a version counter). A change is one atomic script: the hash
changes, the version goes up, and the change is published on the channel of the
same name with its version, so every instance serves it within a round trip
(pushed, not polled). An instance applies a change only if its version is newer
than the last it saw, so messages crossing a local write never undo it.

On each (re)connection (:meth:`SharedAdmin.resync`, a recovery step) the whole
hash is read again and served. A hash that does not exist at all means a store
that never had lbhealth's admin state, or lost it (a Redis restarted without
persistence): the entries this instance knows (from the state file, or from
memory) are written back, so a drain survives even that.
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


class SharedAdmin:
    """The admin store's remote (:class:`lbhealth.store.admin.Remote`) in the shared store."""

    def __init__(self, link: StoreLink, admin: AdminStore) -> None:
        self.link = link
        self.admin = admin
        self._write = link.client.register_script(_WRITE)
        #: The newest change version served here.
        self.version = 0

    async def write(self, node: str, entry: AdminEntry | None) -> None:
        await self._publish({node: entry})

    async def _publish(self, entries: Mapping[str, AdminEntry | None]) -> None:
        """Write these nodes' entries in one change (raises StoreUnavailable)."""
        encoded = {n: encode_entry(e) if e else None for n, e in entries.items()}
        args: list[str | int] = [json.dumps(encoded, separators=(",", ":")), VERSION]
        for node, value in encoded.items():
            args += [node, json.dumps(value) if value else ""]
        version = await self.link.call("admin write", self._write(keys=[ADMIN], args=args))
        self.version = max(self.version, int(version))

    def receive(self, payload: bytes) -> None:
        """A change published by any instance (this one's own included): serve it if newer."""
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
        if version <= self.version:
            return
        self.version = version
        self.admin.adopt(changes, complete=False)

    async def resync(self) -> None:
        """A recovery step: serve the store's whole admin state, or give it ours if it has none."""
        raw = await self.link.call("admin load", self.link.client.hgetall(ADMIN))
        if not raw:
            self.version = 0  # a new or emptied store counts its versions from 1 again
            known = {n: e for n, e in self.admin.all().items() if e.source == "api"}
            if known:
                log.warning(
                    "the store holds no admin state; writing back the %d this instance knows",
                    len(known),
                    extra={"nodes": sorted(known)},
                )
            await self._publish(known)
            return
        fields = {k.decode() if isinstance(k, bytes) else str(k): v for k, v in raw.items()}
        version = int(fields.pop(VERSION, b"0"))
        entries: dict[str, AdminEntry | None] = {}
        repairs: list[str] = []
        for node, value in fields.items():
            try:
                entries[node] = decode_entry(json.loads(value), node, repairs)
            except ValueError as exc:
                log.warning("ignoring the shared admin state of %s: %s", node, exc)
        self.version = version
        self.admin.adopt(entries, complete=True)
