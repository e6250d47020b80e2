"""MemoryCache: bounded LRU, timestamp expiry, and aiocache's interface."""

from __future__ import annotations

import asyncio
import time

import pytest

from nine_pic_async import MemoryCache


def test_hit_returns_the_stored_object_itself() -> None:
    cache = MemoryCache()
    value = object()
    cache.set_nowait("k", value)

    assert cache.get_nowait("k") is value


def test_least_recently_used_entry_is_evicted() -> None:
    cache = MemoryCache(max_entries=2)
    cache.set_nowait("a", 1)
    cache.set_nowait("b", 2)
    cache.get_nowait("a")
    cache.set_nowait("c", 3)

    assert cache.get_nowait("a") == 1
    assert cache.get_nowait("b") is None
    assert cache.get_nowait("c") == 3
    assert len(cache) == 2


def test_entry_expires_by_timestamp_without_a_loop() -> None:
    cache = MemoryCache()
    cache.set_nowait("k", "v", ttl=0.05)

    assert cache.get_nowait("k") == "v"
    time.sleep(0.06)
    assert cache.get_nowait("k") is None
    assert len(cache) == 0


def test_entry_stored_in_one_loop_expires_after_it_ends() -> None:
    cache = MemoryCache()

    async def store() -> None:
        await cache.set("k", "v", ttl=0.05)

    asyncio.run(store())
    time.sleep(0.06)

    async def read() -> object:
        return await cache.get("k")

    assert asyncio.run(read()) is None


def test_bound_holds_under_many_keys() -> None:
    cache = MemoryCache(max_entries=1000)
    for number in range(20_000):
        cache.set_nowait(f"key-{number}", number)

    assert len(cache) == 1000
    assert cache.get_nowait("key-19999") == 19999
    assert cache.get_nowait("key-0") is None


@pytest.mark.parametrize("value", [0, -1, True, 2.5])
def test_invalid_max_entries_is_rejected(value: object) -> None:
    with pytest.raises(ValueError, match="max_entries"):
        MemoryCache(max_entries=value)  # type: ignore[arg-type]


async def test_aiocache_interface() -> None:
    cache = MemoryCache()

    assert await cache.set("a", 1) is True
    assert await cache.get("a") == 1
    assert await cache.exists("a") is True
    assert await cache.add("b", 2) is True
    with pytest.raises(ValueError, match="already exists"):
        await cache.add("b", 3)
    assert await cache.multi_get(["a", "b", "c"]) == [1, 2, None]
    assert await cache.increment("a", 5) == 6
    assert await cache.delete("a") == 1
    assert await cache.get("a") is None
    await cache.multi_set([("x", 1), ("y", 2)])
    assert await cache.clear() is True
    assert await cache.get("x") is None
    await cache.close()
