"""Drain and maintenance shared through the store, against a real redis-server.

Every instance serves every change, in order: pushed, whichever instance made it
and however the changes and the instances' own replies interleave; a resync never
undoes a change served meanwhile; a store that lost the state gets it back.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from lbhealth.config import parse_inventory
from lbhealth.store.admin import AdminStore
from lbhealth.store.follow import Subscription
from lbhealth.store.link import StoreLink, StoreUnavailable
from lbhealth.store.shared import ADMIN
from lbhealth.store.shared_admin import VERSION, SharedAdmin
from lbhealth.store.state_file import read_state_file
from tests._redis import RedisServer, eventually

NODES = ("a", "b", "c")
#: Rounds of concurrent changes: the reviewer's reproduction lost one in about every other.
ROUNDS = 40

Instance = tuple[StoreLink, AdminStore, SharedAdmin]


def admin_instance(url: str, state_file: Path) -> tuple[StoreLink, AdminStore, SharedAdmin]:
    """One instance's admin side: its store, subscription and shared admin state."""
    nodes = {n: {"checks": [{"kind": "tcp", "address": "127.0.0.1:9"}]} for n in NODES}
    inventory = parse_inventory({"settings": {"state_file": str(state_file)}, "nodes": nodes})
    link, admin = StoreLink(url), AdminStore(inventory)
    shared, subscription = SharedAdmin(link, admin), Subscription(link)
    subscription.handle(ADMIN, shared.receive)
    link.on_recovery(subscription.resubscribe)
    link.on_recovery(shared.resync)
    admin.remote = shared
    return link, admin, shared


async def test_admin_changes_reach_every_instance_pushed_and_in_order(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    link1, admin1, shared1 = admin_instance(redis_server.url(), tmp_path / "1" / "state.json")
    link2, admin2, _ = admin_instance(redis_server.url(), tmp_path / "2" / "state.json")
    assert await link1.recover() and await link2.recover()
    await admin1.set("a", "drain", "patching", "ops")
    await eventually(lambda: admin2.get("a").state == "drain")
    assert admin2.get("a").reason == "patching"
    await admin2.set("b", "maint", "disk", "ops")
    await admin2.reset("a", "ops")
    await eventually(lambda: (admin1.get("a").state, admin1.get("b").state) == ("enabled", "maint"))
    # A change older than the last one served is ignored, whenever it arrives.
    stale = {"version": 1, "nodes": {"a": {"state": "maint", "reason": "old"}}}
    shared1.receive(json.dumps(stale).encode())
    assert admin1.get("a").state == "enabled"
    # Each instance's state file holds the last state it knew (what a restart serves).
    await eventually(lambda: "b" in read_state_file(tmp_path / "2" / "state.json"))
    await eventually(lambda: read_state_file(tmp_path / "1" / "state.json").keys() == {"b"})
    # The store refuses (it is gone): the change is made nowhere, and said so.
    redis_server.kill()
    with pytest.raises(StoreUnavailable, match="unavailable"):
        await admin1.set("a", "maint", "nope", "ops")
    assert admin1.get("a").state == "enabled"
    await asyncio.gather(link1.aclose(), link2.aclose())


async def test_a_store_that_lost_the_admin_state_gets_it_back(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """Redis restarted empty (no persistence): the instances write back what they knew."""
    link1, admin1, shared1 = admin_instance(redis_server.url(), tmp_path / "1" / "state.json")
    assert await link1.recover()
    await admin1.set("a", "drain", "first", "ops")
    await admin1.reset("a", "ops")
    await admin1.set("b", "maint", "disk swap", "ops")
    assert shared1.version("b") >= 3
    redis_server.kill()
    restarted = RedisServer(redis_server.workdir, port=redis_server.port).start()
    try:
        assert restarted.client().hgetall(ADMIN) == {}
        tries = 1
        while not await link1.recover():  # the first try may meet the dead connection
            tries += 1
            assert tries <= 10
        entries = restarted.client().hgetall(ADMIN)
        assert json.loads(entries[b"b"])["state"] == "maint"
        assert int(entries[VERSION.encode()]) >= 1
        # A new instance starting now serves it from the store.
        link2, admin2, _ = admin_instance(restarted.url(), tmp_path / "2" / "state.json")
        assert await link2.recover()
        assert admin2.get("b").state == "maint"
        # Versions count from 1 again, and instance 1 (which saw more) still takes new ones.
        await admin2.set("a", "drain", "after the restart", "ops")
        await eventually(lambda: admin1.get("a").reason == "after the restart")
        await asyncio.gather(link1.aclose(), link2.aclose())
    finally:
        restarted.stop()


async def started(url: str, tmp_path: Path, count: int) -> list[Instance]:
    group = [admin_instance(url, tmp_path / str(i) / "state.json") for i in range(count)]
    for link, _, _ in group:
        assert await link.recover()
    return group


def store_reasons(server: RedisServer) -> dict[str, str]:
    """The reason of every API-set entry in the store's hash: what every instance must serve."""
    raw = server.client().hgetall(ADMIN)
    return {k.decode(): json.loads(v)["reason"] for k, v in raw.items() if k.decode() != VERSION}


async def converged(group: list[Instance], server: RedisServer) -> None:
    """Wait until every instance serves exactly the store's entries (a lost change never comes)."""
    expected = store_reasons(server)

    def served(admin: AdminStore) -> dict[str, str]:
        return {n: e.reason for n, e in admin.all().items() if e.source == "api"}

    await eventually(lambda: all(served(admin) == expected for _, admin, _ in group), 5)


@pytest.mark.parametrize("nodes", [NODES, ("a", "a", "a")], ids=["different", "same"])
async def test_concurrent_changes_through_several_instances_reach_all_of_them(
    redis_server: RedisServer, tmp_path: Path, nodes: tuple[str, ...]
) -> None:
    """Each instance's own reply races the others' pushed changes: none may be lost."""
    group = await started(redis_server.url(), tmp_path, len(nodes))
    for round_ in range(ROUNDS):
        state = "drain" if round_ % 2 else "maint"
        await asyncio.gather(
            *(
                admin.set(node, state, f"round {round_} via {i}", "ops")
                for i, ((_, admin, _), node) in enumerate(zip(group, nodes, strict=True))
            )
        )
        await converged(group, redis_server)
        assert len(store_reasons(redis_server)) == len(set(nodes))
    await asyncio.gather(*(link.aclose() for link, _, _ in group))


async def test_a_resync_never_undoes_a_change_served_meanwhile(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """A change pushed while the whole state is being read again is kept, not rolled back."""
    group = await started(redis_server.url(), tmp_path, 2)
    (_, _, reader), (_, writer, _) = group
    for round_ in range(ROUNDS):
        change = writer.set(NODES[round_ % 3], "drain", f"round {round_}", "ops")
        await asyncio.gather(reader.resync(), change)
        await converged(group, redis_server)
    await asyncio.gather(*(link.aclose() for link, _, _ in group))
