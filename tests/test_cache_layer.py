"""The cache layer with real backends: memory, redis-server and memcached on loopback."""

from __future__ import annotations

import asyncio
import logging
import pickle
import sys
import textwrap
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiocache
import msgspec
import pytest
import redis.asyncio as redis_asyncio
from aiocache.base import BaseCache

from nine_pic_async import (
    FaceSearchPage,
    ImageItem,
    MemoryCache,
    NinePicClient,
    Pagination,
    memcached_cache,
    memory_cache,
    redis_cache,
)
from nine_pic_async.testing import DEMO_EVENT_ID, SAMPLE_MATCHES, SAMPLE_SELFIES, Fault, Sandbox
from tests.servers import ServerProcess, redis_process

RUNNER = SAMPLE_SELFIES["runner.jpg"]
RUNNER_PAGES = 3


async def close_caches(*clients: NinePicClient) -> None:
    for client in clients:
        if client.cache is not None:
            await client.cache.close()


def client_for(sandbox: Sandbox, cache: BaseCache | None, **options: Any) -> NinePicClient:
    return NinePicClient(
        sandbox.api_key, sandbox.org_id, base_url=sandbox.base_url, cache=cache, **options
    )


@pytest.fixture(params=["memory", "redis", "memcached"])
async def backend_factory(
    request: pytest.FixtureRequest,
) -> AsyncIterator[Callable[[], BaseCache]]:
    """Yield a function that opens a new connection to one shared cache; close them all after."""
    namespace = f"test-{uuid.uuid4().hex}"
    opened: list[BaseCache] = []
    if request.param == "memory":
        shared = memory_cache()

        def connect() -> BaseCache:
            return shared

    elif request.param == "redis":
        redis_port = request.getfixturevalue("redis_server").port

        def connect() -> BaseCache:
            opened.append(redis_cache(f"redis://127.0.0.1:{redis_port}/0", namespace=namespace))
            return opened[-1]

    else:
        memcached_port = request.getfixturevalue("memcached_server").port

        def connect() -> BaseCache:
            opened.append(memcached_cache("127.0.0.1", memcached_port, namespace=namespace))
            return opened[-1]

    yield connect
    for cache in opened:
        await cache.close()


@pytest.fixture
async def redis_url(redis_server: ServerProcess) -> str:
    return f"redis://127.0.0.1:{redis_server.port}/0"


@pytest.fixture
async def raw_redis(redis_url: str) -> AsyncIterator[redis_asyncio.Redis]:
    connection = redis_asyncio.from_url(redis_url)
    yield connection
    await connection.aclose()


# -- Every backend -------------------------------------------------------------------------------


async def test_second_client_reads_every_page_from_cache(
    sandbox: Sandbox, backend_factory: Callable[[], BaseCache]
) -> None:
    async with client_for(sandbox, backend_factory()) as first:
        page = await first.faces.search(DEMO_EVENT_ID, RUNNER)
        first_images = await first.faces.fetch_all(DEMO_EVENT_ID, page.request_id)
    requests_before = sandbox.stats.total_requests

    async with client_for(sandbox, backend_factory()) as second:
        second_images = await second.faces.fetch_all(DEMO_EVENT_ID, page.request_id)
        stats = second.cache_stats

    assert second_images == first_images
    assert len(second_images) == SAMPLE_MATCHES["runner.jpg"]
    assert sandbox.stats.total_requests == requests_before
    assert stats.hits == RUNNER_PAGES
    assert stats.misses == 0


async def test_fifty_concurrent_reads_make_one_request(
    sandbox: Sandbox, backend_factory: Callable[[], BaseCache]
) -> None:
    async with client_for(sandbox, None) as uncached:
        page = await uncached.faces.search(DEMO_EVENT_ID, RUNNER)
    sandbox.add_fault("faces.get", Fault(delay=0.05))

    async with client_for(sandbox, backend_factory()) as client:
        pages = await asyncio.gather(
            *(client.faces.get(DEMO_EVENT_ID, page.request_id, page=2) for _ in range(50))
        )
        stats = client.cache_stats

    assert len({p.images for p in pages}) == 1
    assert sandbox.stats.requests["faces.get"] == 1
    assert stats.misses == 1
    assert stats.coalesced == 49


async def test_forget_removes_every_page(
    sandbox: Sandbox, backend_factory: Callable[[], BaseCache]
) -> None:
    async with client_for(sandbox, backend_factory()) as client:
        page = await client.faces.search(DEMO_EVENT_ID, RUNNER)
        await client.faces.fetch_all(DEMO_EVENT_ID, page.request_id)
        await client.faces.get(DEMO_EVENT_ID, page.request_id, page_size=50)

        removed = await client.faces.forget(DEMO_EVENT_ID, page.request_id)
        gets_before = sandbox.stats.requests["faces.get"]
        await client.faces.fetch_all(DEMO_EVENT_ID, page.request_id)

    assert removed == RUNNER_PAGES + 1
    assert sandbox.stats.requests["faces.get"] == gets_before + RUNNER_PAGES


async def test_fresh_read_skips_and_replaces_cached_page(
    sandbox: Sandbox, backend_factory: Callable[[], BaseCache]
) -> None:
    async with client_for(sandbox, backend_factory()) as client:
        page = await client.faces.search(DEMO_EVENT_ID, RUNNER)
        cached = await client.faces.get(DEMO_EVENT_ID, page.request_id, page=2)
        fresh = await client.faces.get(DEMO_EVENT_ID, page.request_id, page=2, fresh=True)
        after = await client.faces.get(DEMO_EVENT_ID, page.request_id, page=2)

    assert cached == fresh == after
    # One read for the first `get`, one for the fresh one; the last came from the cache.
    assert sandbox.stats.requests["faces.get"] == 2


async def test_errors_are_not_cached(
    sandbox: Sandbox, backend_factory: Callable[[], BaseCache]
) -> None:
    unknown = uuid.uuid4()

    async with client_for(sandbox, backend_factory()) as client:
        for _ in range(2):
            with pytest.raises(Exception, match="No face search"):
                await client.faces.get(DEMO_EVENT_ID, unknown)

    assert sandbox.stats.requests["faces.get"] == 2


async def test_event_details_round_trip(
    sandbox: Sandbox, backend_factory: Callable[[], BaseCache]
) -> None:
    async with client_for(sandbox, backend_factory()) as first:
        details = await first.events.details(DEMO_EVENT_ID)
    async with client_for(sandbox, backend_factory()) as second:
        again = await second.events.details(DEMO_EVENT_ID)

    assert again == details
    assert sandbox.stats.requests["events.details"] == 1


# -- Redis across processes ----------------------------------------------------------------------

READER_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from nine_pic_async import NinePicClient, redis_cache

    async def main(base_url, redis_url, namespace, request_id):
        cache = redis_cache(redis_url, namespace=namespace)
        async with NinePicClient("sandbox-key", 903, base_url=base_url, cache=cache) as client:
            images = await client.faces.fetch_all(456, request_id)
            print(len(images), client.cache_stats.hits, client.cache_stats.misses)
        await cache.close()

    asyncio.run(main(*sys.argv[1:]))
    """
)


async def run_reader(*arguments: str) -> list[int]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-W",
        "error",
        "-c",
        READER_SCRIPT,
        *arguments,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=Path(__file__).parent.parent,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    return [int(number) for number in stdout.split()]


async def test_second_process_reads_every_page_from_redis(sandbox: Sandbox, redis_url: str) -> None:
    namespace = f"test-{uuid.uuid4().hex}"
    async with client_for(sandbox, None) as uncached:
        page = await uncached.faces.search(DEMO_EVENT_ID, RUNNER)
    searches = sandbox.stats.requests["faces.search"]

    first = await run_reader(sandbox.base_url, redis_url, namespace, page.request_id)
    requests_after_first = sandbox.stats.total_requests
    second = await run_reader(sandbox.base_url, redis_url, namespace, page.request_id)

    assert first == [SAMPLE_MATCHES["runner.jpg"], 0, RUNNER_PAGES]
    assert second == [SAMPLE_MATCHES["runner.jpg"], RUNNER_PAGES, 0]
    assert sandbox.stats.total_requests == requests_after_first
    assert sandbox.stats.requests["faces.search"] == searches


async def test_lock_makes_two_clients_share_one_request(sandbox: Sandbox, redis_url: str) -> None:
    namespace = f"test-{uuid.uuid4().hex}"
    async with client_for(sandbox, None) as uncached:
        page = await uncached.faces.search(DEMO_EVENT_ID, RUNNER)
    sandbox.add_fault("faces.get", Fault(delay=0.3))

    # Two clients never coalesce in-process, so only the lock in Redis can join them.
    first = client_for(sandbox, redis_cache(redis_url, namespace=namespace), cache_lock_lease=5)
    second = client_for(sandbox, redis_cache(redis_url, namespace=namespace), cache_lock_lease=5)
    async with first, second:
        pages = await asyncio.gather(
            first.faces.get(DEMO_EVENT_ID, page.request_id, page=2),
            second.faces.get(DEMO_EVENT_ID, page.request_id, page=2),
        )
        coalesced = first.cache_stats.coalesced + second.cache_stats.coalesced
    await close_caches(first, second)

    assert pages[0] == pages[1]
    assert sandbox.stats.requests["faces.get"] == 1
    assert coalesced == 1


async def test_memcached_lock_makes_two_clients_share_one_request(
    sandbox: Sandbox, memcached_server: ServerProcess
) -> None:
    namespace = f"test-{uuid.uuid4().hex}"
    async with client_for(sandbox, None) as uncached:
        page = await uncached.faces.search(DEMO_EVENT_ID, RUNNER)
    sandbox.add_fault("faces.get", Fault(delay=0.3))

    def shared() -> BaseCache:
        return memcached_cache("127.0.0.1", memcached_server.port, namespace=namespace)

    first = client_for(sandbox, shared(), cache_lock_lease=5)
    second = client_for(sandbox, shared(), cache_lock_lease=5)
    async with first, second:
        pages = await asyncio.gather(
            first.faces.get(DEMO_EVENT_ID, page.request_id, page=2),
            second.faces.get(DEMO_EVENT_ID, page.request_id, page=2),
        )
    await close_caches(first, second)

    assert pages[0] == pages[1]
    assert sandbox.stats.requests["faces.get"] == 1


async def test_fresh_read_does_not_wait_for_lock_holder(sandbox: Sandbox, redis_url: str) -> None:
    namespace = f"test-{uuid.uuid4().hex}"
    async with client_for(sandbox, None) as uncached:
        page = await uncached.faces.search(DEMO_EVENT_ID, RUNNER)
    sandbox.add_fault("faces.get", Fault(delay=0.3), times=2)

    first = client_for(sandbox, redis_cache(redis_url, namespace=namespace), cache_lock_lease=5)
    second = client_for(sandbox, redis_cache(redis_url, namespace=namespace), cache_lock_lease=5)
    async with first, second:
        holder = asyncio.ensure_future(first.faces.get(DEMO_EVENT_ID, page.request_id, page=2))
        await asyncio.sleep(0.1)  # The first client takes the lock and waits for its response.
        await second.faces.get(DEMO_EVENT_ID, page.request_id, page=2, fresh=True)
        await holder
        coalesced = first.cache_stats.coalesced + second.cache_stats.coalesced
    await close_caches(first, second)

    # Waiting for the holder would end in a lookup, which a fresh read must skip.
    assert sandbox.stats.requests["faces.get"] == 2
    assert coalesced == 0


async def test_without_lock_two_clients_both_request(sandbox: Sandbox, redis_url: str) -> None:
    namespace = f"test-{uuid.uuid4().hex}"
    async with client_for(sandbox, None) as uncached:
        page = await uncached.faces.search(DEMO_EVENT_ID, RUNNER)
    sandbox.add_fault("faces.get", Fault(delay=0.3), times=2)

    first = client_for(sandbox, redis_cache(redis_url, namespace=namespace))
    second = client_for(sandbox, redis_cache(redis_url, namespace=namespace))
    async with first, second:
        await asyncio.gather(
            first.faces.get(DEMO_EVENT_ID, page.request_id, page=2),
            second.faces.get(DEMO_EVENT_ID, page.request_id, page=2),
        )
    await close_caches(first, second)

    assert sandbox.stats.requests["faces.get"] == 2


async def test_lock_holder_failure_lets_waiter_fetch(sandbox: Sandbox, redis_url: str) -> None:
    namespace = f"test-{uuid.uuid4().hex}"
    async with client_for(sandbox, None) as uncached:
        page = await uncached.faces.search(DEMO_EVENT_ID, RUNNER)
    sandbox.add_fault("faces.get", Fault(status=404, delay=0.2))

    first = client_for(sandbox, redis_cache(redis_url, namespace=namespace), cache_lock_lease=5)
    second = client_for(sandbox, redis_cache(redis_url, namespace=namespace), cache_lock_lease=5)
    async with first, second:
        results = await asyncio.gather(
            first.faces.get(DEMO_EVENT_ID, page.request_id, page=2),
            second.faces.get(DEMO_EVENT_ID, page.request_id, page=2),
            return_exceptions=True,
        )
    await close_caches(first, second)

    failures = [result for result in results if isinstance(result, Exception)]
    assert len(failures) == 1
    assert sandbox.stats.requests["faces.get"] == 2


# -- Failing and hostile backends ----------------------------------------------------------------


async def test_reads_survive_redis_outage_and_recover(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    server = redis_process()
    server.start()
    cache = redis_cache(f"redis://127.0.0.1:{server.port}/0", timeout=0.3)
    caplog.set_level(logging.INFO, logger="nine_pic_async.cache")
    try:
        async with client_for(sandbox, cache) as client:
            page = await client.faces.search(DEMO_EVENT_ID, RUNNER)

            server.stop()
            during_outage = [
                await client.faces.get(DEMO_EVENT_ID, page.request_id, page=number)
                for number in (1, 2, 3, 1, 2, 3)
            ]
            gets_during_outage = sandbox.stats.requests["faces.get"]

            server.start()
            await asyncio.sleep(1.1)  # The client skips a failing backend for 1 s.
            await client.faces.get(DEMO_EVENT_ID, page.request_id, page=2)
            await client.faces.get(DEMO_EVENT_ID, page.request_id, page=2)
            gets_after_recovery = sandbox.stats.requests["faces.get"] - gets_during_outage
    finally:
        await cache.close()
        server.stop()

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [p.pagination.current_page for p in during_outage] == [1, 2, 3, 1, 2, 3]
    assert gets_during_outage == 6
    assert gets_after_recovery == 1
    assert len(warnings) == 1
    assert "reading from the network" in warnings[0].getMessage()
    assert any("recovered" in r.getMessage() for r in caplog.records)


async def test_stalled_backend_is_a_miss_within_its_timeout(sandbox: Sandbox) -> None:
    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # Accept and read, but never respond.
        writer.close()

    stalled = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = stalled.sockets[0].getsockname()[1]
    cache = redis_cache(f"redis://127.0.0.1:{port}/0", timeout=0.2)
    try:
        async with client_for(sandbox, cache) as client:
            details = await client.events.details(DEMO_EVENT_ID)
            stats = client.cache_stats
    finally:
        await cache.close()
        stalled.close()
        await stalled.wait_closed()

    assert details.event_id == DEMO_EVENT_ID
    assert stats.errors >= 1


async def test_corrupt_entry_is_a_miss_and_is_overwritten(
    sandbox: Sandbox,
    redis_url: str,
    raw_redis: redis_asyncio.Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    namespace = f"test-{uuid.uuid4().hex}"
    key = f"{namespace}:nine_pic:v1:903:{DEMO_EVENT_ID}:details"
    await raw_redis.set(key, b"\xc1 not msgpack")
    cache = redis_cache(redis_url, namespace=namespace)

    async with client_for(sandbox, cache) as client:
        details = await client.events.details(DEMO_EVENT_ID)
    await cache.close()

    stored = await raw_redis.get(key)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "unreadable" in warnings[0].getMessage()
    assert details.event_id == DEMO_EVENT_ID
    assert sandbox.stats.requests["events.details"] == 1
    assert isinstance(stored, bytes)
    assert msgspec.msgpack.decode(stored)["event_id"] == DEMO_EVENT_ID


class _Exploit:
    """A pickle that creates a file when it is loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (Path.touch, (self.marker,))


async def test_pickled_value_is_never_unpickled(
    sandbox: Sandbox, redis_url: str, raw_redis: redis_asyncio.Redis, tmp_path: Path
) -> None:
    marker = tmp_path / "unpickled"
    namespace = f"test-{uuid.uuid4().hex}"
    key = f"{namespace}:nine_pic:v1:903:{DEMO_EVENT_ID}:details"
    await raw_redis.set(key, pickle.dumps(_Exploit(marker)))
    cache = redis_cache(redis_url, namespace=namespace)

    async with client_for(sandbox, cache) as client:
        details = await client.events.details(DEMO_EVENT_ID)
    await cache.close()

    assert details.event_id == DEMO_EVENT_ID
    assert await asyncio.to_thread(marker.exists) is False


def test_backend_that_decodes_text_is_rejected() -> None:
    with pytest.raises(ValueError, match="BytesSerializer"):
        NinePicClient("k", 1, cache=aiocache.RedisCache())


# -- TTLs ----------------------------------------------------------------------------------------


async def test_per_call_ttl_expires_entry(sandbox: Sandbox) -> None:
    async with client_for(sandbox, memory_cache()) as client:
        page = await client.faces.search(DEMO_EVENT_ID, RUNNER, ttl=0.05)
        await asyncio.sleep(0.06)
        again = await client.faces.get(DEMO_EVENT_ID, page.request_id)

    assert again.images == page.images
    assert sandbox.stats.requests["faces.get"] == 1


async def test_client_ttl_override_applies(sandbox: Sandbox) -> None:
    async with client_for(sandbox, memory_cache(), cache_ttls={"details": 0.05}) as client:
        await client.events.details(DEMO_EVENT_ID)
        await asyncio.sleep(0.06)
        await client.events.details(DEMO_EVENT_ID)

    assert sandbox.stats.requests["events.details"] == 2


async def test_redis_entry_expires_with_ttl(sandbox: Sandbox, redis_url: str) -> None:
    cache = redis_cache(redis_url, namespace=f"test-{uuid.uuid4().hex}")
    async with client_for(sandbox, cache) as client:
        await client.events.details(DEMO_EVENT_ID, ttl=1)
        await client.events.details(DEMO_EVENT_ID)
        await asyncio.sleep(1.1)
        await client.events.details(DEMO_EVENT_ID)
    await cache.close()

    assert sandbox.stats.requests["events.details"] == 2


@pytest.mark.parametrize("ttls", [{"faces": 0}, {"details": -1}, {"gallery": 10}, {"faces": True}])
def test_invalid_cache_ttls_are_rejected(ttls: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="cache_ttls"):
        NinePicClient("k", 1, cache_ttls=ttls)


@pytest.mark.parametrize("ttl", [0, -5.0])
async def test_invalid_call_ttl_is_rejected(client: NinePicClient, ttl: float) -> None:
    with pytest.raises(ValueError, match="ttl must be a positive number"):
        await client.faces.get(DEMO_EVENT_ID, uuid.uuid4(), ttl=ttl)


# -- Memory bound --------------------------------------------------------------------------------


def make_page(number: int) -> FaceSearchPage:
    return FaceSearchPage(
        request_id=str(uuid.UUID(int=number)),
        images=tuple(
            ImageItem(
                image_id=f"{number}-{index}",
                img_url=f"http://127.0.0.1:8080/media/456/large/{number}-{index}.jpg",
                thumbnail_url=f"http://127.0.0.1:8080/media/456/small/{number}-{index}.jpg",
                width=3240,
                height=4860,
            )
            for index in range(4)
        ),
        pagination=Pagination(
            total=4,
            current_page=1,
            total_pages=1,
            has_next_page=False,
            has_previous_page=False,
            page_size=32,
        ),
    )


def test_memory_bound_holds_under_100000_keys() -> None:
    max_bytes = 4 * 1024 * 1024
    cache = MemoryCache(max_entries=1_000_000, max_bytes=max_bytes)

    for number in range(100_000):
        cache.set_nowait(f"nine_pic:v1:903:456:faces:{number}:1:32", make_page(number))

    assert cache.stored_bytes <= max_bytes
    assert 0 < len(cache) < 100_000
    assert cache.get_nowait("nine_pic:v1:903:456:faces:99999:1:32") is not None
    assert cache.get_nowait("nine_pic:v1:903:456:faces:0:1:32") is None


def test_memory_estimate_matches_traced_memory() -> None:
    max_bytes = 1024 * 1024
    cache = MemoryCache(max_entries=1_000_000, max_bytes=max_bytes)

    tracemalloc.start()
    for number in range(5_000):
        cache.set_nowait(f"nine_pic:v1:903:456:faces:{number}:1:32", make_page(number))
    traced, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # Entry sizes are estimates: the real memory may be off by half either way.
    assert len(cache) < 5_000
    assert traced <= 1.5 * max_bytes
    assert traced >= 0.5 * cache.stored_bytes


def test_value_larger_than_bound_is_not_stored() -> None:
    cache = MemoryCache(max_bytes=1000)

    cache.set_nowait("big", b"x" * 2000)

    assert cache.get_nowait("big") is None
    assert cache.stored_bytes == 0


async def test_forget_finds_pages_stored_concurrently(
    sandbox: Sandbox, backend_factory: Callable[[], BaseCache]
) -> None:
    async with client_for(sandbox, backend_factory()) as client:
        page = await client.faces.search(DEMO_EVENT_ID, SAMPLE_SELFIES["crowd.jpg"], page_size=50)
        images = await client.faces.fetch_all(
            DEMO_EVENT_ID, page.request_id, page_size=50, concurrency=19
        )

        removed = await client.faces.forget(DEMO_EVENT_ID, page.request_id)

    assert len(images) == SAMPLE_MATCHES["crowd.jpg"]
    assert removed == 20
