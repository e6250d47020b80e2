"""Share one cache between worker processes, as a web service with several workers does.

The main process runs one face search. Then each worker process opens its own client and
reads every page of that result. With `--cache memory` each worker has a cache of its own and
fetches every page itself. With Redis or Memcached the workers share one cache: a page that
one worker fetched is a hit in the others, and `cache_lock_lease` makes workers that miss the
same page at the same moment send one request between them.

    ninepic sandbox
    export NINEPIC_API_KEY=sandbox-key NINEPIC_ORG_ID=903
    python examples/cache_workers.py http://127.0.0.1:8080 --cache memory
    python examples/cache_workers.py http://127.0.0.1:8080 --cache redis \\
        --redis redis://127.0.0.1:6379/0

Redis needs `pip install 'nine-pic-async[redis]'`, Memcached `[memcached]`.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from aiocache.base import BaseCache

from nine_pic_async import NinePicClient, memcached_cache, memory_cache, redis_cache
from nine_pic_async.testing import DEMO_EVENT_ID, SAMPLE_SELFIES

PAGE_SIZE = 10
LOCK_LEASE = 10.0  # seconds a worker waits for another worker's request before its own


@dataclass(frozen=True)
class CacheSettings:
    kind: str
    redis_url: str
    memcached: str


def open_cache(settings: CacheSettings) -> BaseCache:
    """Create the cache of one process. Create it in that process, never before a fork."""
    if settings.kind == "redis":
        return redis_cache(settings.redis_url)
    if settings.kind == "memcached":
        host, _, port = settings.memcached.rpartition(":")
        return memcached_cache(host, int(port))
    return memory_cache()


async def read_result(
    base_url: str, settings: CacheSettings, event_id: int, request_id: str
) -> dict[str, int]:
    """Read every page of a stored search, as one worker would; return its cache counters."""
    cache = open_cache(settings)
    lease = LOCK_LEASE if settings.kind != "memory" else None
    try:
        async with NinePicClient(base_url=base_url, cache=cache, cache_lock_lease=lease) as client:
            images = await client.faces.fetch_all(event_id, request_id, page_size=PAGE_SIZE)
            stats = client.cache_stats
    finally:
        await cache.close()  # the client does not close a cache passed in
    return {
        "images": len(images),
        "hits": stats.hits,
        "misses": stats.misses,
        "coalesced": stats.coalesced,
        "errors": stats.errors,
    }


def worker(
    base_url: str, settings: CacheSettings, event_id: int, request_id: str
) -> dict[str, int]:
    # Each worker process runs its own event loop with its own client and cache.
    return asyncio.run(read_result(base_url, settings, event_id, request_id))


async def search(base_url: str, settings: CacheSettings, event_id: int, selfie: str) -> str:
    cache = open_cache(settings)
    try:
        async with NinePicClient(base_url=base_url, cache=cache) as client:
            page = await client.faces.search(event_id, selfie, page_size=PAGE_SIZE)
    finally:
        await cache.close()
    return page.request_id


def main() -> None:
    parser = argparse.ArgumentParser(description="Read one result from several processes.")
    parser.add_argument(
        "base_url",
        nargs="?",
        default=os.environ.get("NINEPIC_BASE_URL"),
        help="9Pic API root, e.g. http://127.0.0.1:8080 (default: $NINEPIC_BASE_URL)",
    )
    parser.add_argument("--cache", choices=["memory", "redis", "memcached"], default="memory")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="Redis URL")
    parser.add_argument("--memcached", default="127.0.0.1:11211", help="Memcached HOST:PORT")
    parser.add_argument("--workers", type=int, default=3, help="processes (default: 3)")
    parser.add_argument("--event-id", type=int, default=DEMO_EVENT_ID, help="default: 456")
    parser.add_argument("--selfie", default=str(SAMPLE_SELFIES["runner.jpg"]))
    args = parser.parse_args()
    if not args.base_url:
        parser.error("the base URL is missing: pass it as an argument or set NINEPIC_BASE_URL")
    settings = CacheSettings(args.cache, args.redis, args.memcached)

    request_id = asyncio.run(search(args.base_url, settings, args.event_id, args.selfie))
    print(f"searched once: request_id {request_id}")

    # "spawn" starts clean processes, as gunicorn or uvicorn workers are: nothing of the
    # parent's event loop, client or cache connections is copied into them.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.workers, mp_context=context) as pool:
        futures = [
            pool.submit(worker, args.base_url, settings, args.event_id, request_id)
            for _ in range(args.workers)
        ]
        for number, future in enumerate(futures, start=1):
            stats = future.result()
            print(
                f"worker {number}: {stats['images']} images, {stats['misses']} pages fetched, "
                f"{stats['hits']} cache hits, {stats['coalesced']} shared with another worker, "
                f"{stats['errors']} cache errors"
            )


if __name__ == "__main__":
    main()
