"""Cache-hit latency of `client.faces.get` for each backend, next to a network read.

Run from the repository root: `python -m benchmarks.cache_hits [--quick] [--json]`. The sandbox
runs in its own process on loopback; redis-server and memcached are started on free loopback
ports when installed. Cases are measured in alternating rounds in one run, and each figure is
the median over rounds of the mean time per call, with min and max.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack, ExitStack

from aiocache import SimpleMemoryCache
from aiocache.base import BaseCache

from benchmarks._report import Column, Section, Target, count_of, measurements_from, ratio
from benchmarks._support import (
    free_port,
    measure,
    memcached_server,
    process_on_port,
    redis_server,
    sandbox_command,
    section_main,
)
from nine_pic_async import NinePicClient, memcached_cache, memory_cache, redis_cache
from nine_pic_async.testing import DEMO_API_KEY, DEMO_EVENT_ID, DEMO_ORG_ID, SAMPLE_SELFIES

NAME = "cache_hits"
PAGE_SIZE = 100
NETWORK = "network read (no cache)"
MEMORY = "memory (MemoryCache) hit"
REDIS = "redis hit"
MEMCACHED = "memcached hit"


async def run(quick: bool) -> Section:
    rounds, calls = (3, 20) if quick else (15, 200)
    sandbox_port = free_port()
    base_url = f"http://127.0.0.1:{sandbox_port}"
    with ExitStack() as servers:
        servers.enter_context(process_on_port(sandbox_command(sandbox_port), sandbox_port))
        redis_port = servers.enter_context(redis_server())
        memcached_port = servers.enter_context(memcached_server())
        backends: dict[str, BaseCache] = {
            MEMORY: memory_cache(),
            "aiocache SimpleMemoryCache hit": SimpleMemoryCache(),
        }
        if redis_port is not None:
            backends[REDIS] = redis_cache(f"redis://127.0.0.1:{redis_port}/0")
        if memcached_port is not None:
            backends[MEMCACHED] = memcached_cache("127.0.0.1", memcached_port)
        try:
            samples = await measure_backends(base_url, backends, rounds=rounds, calls=calls)
        finally:
            for cache in backends.values():
                await cache.close()

    section = Section(
        name=NAME,
        title="Cache hits",
        description=(
            f"`client.faces.get` of one {PAGE_SIZE}-image page: a network read from the sandbox "
            "on loopback with no cache, next to a hit in each cache backend (redis-server and "
            "memcached on loopback). aiocache's SimpleMemoryCache is a generic backend that "
            "stores msgpack bytes and decodes them on every hit. "
            f"Median of {count_of(rounds, 'round')} of {calls} calls per case."
        ),
        unit="µs",
        columns=[
            Column("median", "median µs"),
            Column("min", "min µs"),
            Column("max", "max µs"),
            Column("x_network", "x faster than network"),
        ],
        measurements=measurements_from(samples, scale=1e6),
    )
    network = section.measurement(NETWORK)
    for measurement in section.measurements:
        measurement.extra["x_network"] = ratio(network, measurement)
    add_targets(section, missing={REDIS: redis_port is None, MEMCACHED: memcached_port is None})
    return section


async def measure_backends(
    base_url: str, backends: dict[str, BaseCache], *, rounds: int, calls: int
) -> dict[str, list[float]]:
    """Measure a network read and a hit in each backend, in alternating rounds."""
    async with AsyncExitStack() as clients:

        async def open_client(cache: BaseCache | None) -> NinePicClient:
            client = NinePicClient(DEMO_API_KEY, DEMO_ORG_ID, base_url=base_url, cache=cache)
            return await clients.enter_async_context(client)

        network = await open_client(None)
        page = await network.faces.search(
            DEMO_EVENT_ID, SAMPLE_SELFIES["crowd.jpg"], page_size=PAGE_SIZE
        )

        def read_with(client: NinePicClient) -> Callable[[], Awaitable[object]]:
            return lambda: client.faces.get(
                DEMO_EVENT_ID, page.request_id, page=2, page_size=PAGE_SIZE
            )

        cases: dict[str, Callable[[], Awaitable[object]]] = {NETWORK: read_with(network)}
        for name, cache in backends.items():
            client = await open_client(cache)
            await read_with(client)()  # Fill the cache.
            cases[name] = read_with(client)
        return await measure(cases, rounds=rounds, calls=calls)


def add_targets(section: Section, *, missing: dict[str, bool]) -> None:
    memory = section.measurement(MEMORY).extra["x_network"]
    assert isinstance(memory, float)
    section.targets.append(
        Target(
            case="memory-cache hit of faces.get",
            goal=">= 100x faster than the same read over loopback",
            measured=f"{memory:.0f}x faster",
            met=memory >= 100,
        )
    )
    for case, server in ((REDIS, "redis-server"), (MEMCACHED, "memcached")):
        name = case.removesuffix(" hit").capitalize()
        if missing[case]:
            section.notes.append(f"{server} is not installed, so the {name} hit was not measured.")
            section.targets.append(
                Target(f"{name} cache hit", "faster than the read over loopback", "-", None)
            )
            continue
        speedup = section.measurement(case).extra["x_network"]
        assert isinstance(speedup, float)
        section.targets.append(
            Target(
                case=f"{name} cache hit",
                goal="faster than the same read over loopback",
                measured=f"{speedup:.1f}x faster",
                met=speedup > 1,
            )
        )


if __name__ == "__main__":
    section_main(__doc__.splitlines()[0], run)
