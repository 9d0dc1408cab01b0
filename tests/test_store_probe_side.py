"""The probe side of the store (:mod:`lbhealth.core.sharing`) against a real redis-server.

What a probe process needs, without the serving side: the lease gate, the publisher,
and what a lease taken over does to rise/fall.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from lbhealth.config import parse_inventory
from lbhealth.core.engine import Engine
from lbhealth.core.sharing import KeyIndex, ProbeSharing
from lbhealth.demo.cluster import IIS_WELCOME
from lbhealth.demo.simserver import Page, SimServer
from lbhealth.store.follow import snapshot
from lbhealth.store.link import StoreLink
from lbhealth.store.shared import lease_key, verdict_key
from lbhealth.verdict import Status
from tests._redis import RedisServer, eventually


async def two_instances(
    redis_server: RedisServer, backend: SimServer, **check: Any
) -> tuple[list[Engine], list[StoreLink], list[ProbeSharing]]:
    """Two probing engines on one check of ``backend``, each with its store link and gate."""
    spec = {"kind": "iis", "url": backend.url(), **check}
    data = {"settings": {"interval": 1}, "nodes": {"web1": {"checks": [spec]}}}
    engines = [Engine(parse_inventory(data, "test")) for _ in range(2)]
    links = [StoreLink(redis_server.url()) for _ in range(2)]
    for link in links:
        assert await link.recover()
    sides = [ProbeSharing(e, link) for e, link in zip(engines, links, strict=True)]
    for engine, side in zip(engines, sides, strict=True):
        engine.observers.append(side.observe)
    return engines, links, sides


async def closed(engines: list[Engine], links: list[StoreLink]) -> None:
    for engine in engines:
        await engine.aclose()
    await asyncio.gather(*(link.aclose() for link in links))


async def test_the_probe_side_gates_and_publishes_on_its_own(
    redis_server: RedisServer, sim: Callable[..., SimServer]
) -> None:
    """What a probe process needs, without the serving side: the gate and the publisher."""
    engines, links, sides = await two_instances(redis_server, sim({"/": IIS_WELCOME}))
    (mine,), (theirs,) = engines[0].checks["web1"], engines[1].checks["web1"]
    assert await sides[0].should_probe(mine)
    assert not await sides[1].should_probe(theirs)  # one instance probes the check
    sending = asyncio.create_task(sides[0].run())
    await engines[0].run(mine)
    key = sides[0].index.key(mine)
    await eventually(lambda: redis_server.client().exists(verdict_key(key)) == 1)
    (shared,) = await snapshot(links[1], [key])
    assert (shared.by, shared.result.status) == (links[0].instance, Status.UP)
    assert KeyIndex(engines[1]).accept(shared)
    assert engines[1].current(theirs).status is Status.UP
    links[1].health.failed("test: store lost")
    assert await sides[1].should_probe(theirs)  # alone, it probes without asking
    await sides[0].release()
    assert redis_server.client().get(lease_key(key)) is None
    sending.cancel()
    await closed(engines, links)


async def test_a_lease_taken_over_restarts_rise_fall_from_the_first_result(
    redis_server: RedisServer, sim: Callable[..., SimServer]
) -> None:
    """With ``fall: 3``, an instance that last saw UP itself and takes over a check the other
    reported DOWN serves its first DOWN as probed, not held as its old UP; rise/fall is
    unchanged otherwise, and a state that follows the others' results is kept."""
    backend = sim({"/": IIS_WELCOME})
    (a, b), links, (gate_a, gate_b) = await two_instances(redis_server, backend, rise=2, fall=3)
    (mine,), (theirs,) = a.checks["web1"], b.checks["web1"]
    assert await gate_a.should_probe(mine)
    assert (await a.run(mine)).status is Status.UP
    await gate_a.release()  # a stops probing it (a restart of its probe process, say)
    assert await gate_b.should_probe(theirs)
    assert not await gate_a.should_probe(mine)  # b holds it now, for hours
    backend.pages["/"] = Page(500, body=b"Server Error")
    for _ in range(3):
        down = await b.run(theirs)
    assert down.status is Status.DOWN
    await gate_b.release()
    assert await gate_a.should_probe(mine)  # a takes it over
    first = await a.run(mine)
    assert (first.status, "held" in first.details) == (Status.DOWN, False)
    # Holding the lease, rise/fall works as ever: rise 2 holds the first UP.
    backend.pages["/"] = IIS_WELCOME
    assert await gate_a.should_probe(mine)
    held = await a.run(mine)
    assert (held.status, held.details["held"]) == (Status.DOWN, "UP 1 of 2 needed")
    assert (await a.run(mine)).status is Status.UP
    # A state adopted from the others' results (Engine.accept, probing inline) is current:
    # after a takeover it goes on from there.
    await gate_a.release()
    assert await gate_b.should_probe(theirs)
    assert not await gate_a.should_probe(mine)
    assert a.accept(mine, down, time.time())
    await gate_b.release()
    assert await gate_a.should_probe(mine)
    after = await a.run(mine)
    assert (after.status, after.details["held"]) == (Status.DOWN, "UP 1 of 2 needed")
    await closed([a, b], links)
