"""Repeated reads of one result from several processes sharing a Redis cache.

Run from the repository root: `python -m benchmarks.shared_cache [--quick] [--json]`. Four
worker processes start together and each read every page of the same face search result
several times. The SDK shares `redis_cache()` between them (with and without
`cache_lock_lease`); aiohttp-client-cache, a generic HTTP cache, shares its Redis backend.
The sandbox runs in its own process with 20 ms of latency and counts the page requests that
reach it. Redis is emptied before each side runs. Needs redis-server; without it the section
is skipped.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.queues
import statistics
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier, Lock
from typing import Any

import redis.asyncio as redis_asyncio
from aiohttp_client_cache.backends.redis import RedisBackend
from aiohttp_client_cache.session import CachedSession

from benchmarks._report import Column, Measurement, Section, Target, count_of
from benchmarks._support import (
    free_port,
    process_on_port,
    redis_server,
    request_counts,
    sandbox_command,
    section_main,
)
from nine_pic_async import NinePicClient, redis_cache
from nine_pic_async.testing import DEMO_API_KEY, DEMO_EVENT_ID, DEMO_ORG_ID, SAMPLE_SELFIES

NAME = "shared_cache"
WORKERS = 4
LATENCY = 0.02
PAGE_SIZE = 100  # crowd.jpg matches 1,000 photos: 10 pages.
LOCK_LEASE = 10.0
WORKER_TIMEOUT = 120.0
"""Seconds that a wait for another process may last: a barrier, a turn or a worker's result."""

SDK_LOCK = "SDK redis_cache with cache_lock_lease"
SDK_NO_LOCK = "SDK redis_cache, no lock"
GENERIC = "aiohttp-client-cache RedisBackend"
SIDES = (SDK_LOCK, SDK_NO_LOCK, GENERIC)
CASE = f"repeated reads from {WORKERS} processes"
FEWER_REQUESTS = "fewer network requests than aiohttp-client-cache"
FASTER_HITS = "faster hits than aiohttp-client-cache"
GOALS = (FEWER_REQUESTS, FASTER_HITS)


@dataclass(frozen=True)
class WorkerPlan:
    """The result one worker reads, the side whose client it uses, and its number of passes."""

    side: str
    base_url: str
    redis_url: str
    request_id: str
    pages: int
    passes: int


@dataclass(frozen=True)
class SideResult:
    """One run of one side: the page requests the sandbox received, and per-worker timings."""

    requests: int
    first_pass_s: list[float]
    hit_s: list[float]


@asynccontextmanager
async def open_reader(plan: WorkerPlan) -> AsyncIterator[Callable[[int], Awaitable[object]]]:
    """Yield a function that reads one page the way `plan.side` does, with warm connections."""
    if plan.side == GENERIC:
        url = (
            f"{plan.base_url}/api/v1/ext/{DEMO_ORG_ID}/event/{DEMO_EVENT_ID}"
            f"/faces/{plan.request_id}"
        )
        # autoclose: without it, closing the session leaves the Redis connections open.
        backend = RedisBackend(cache_name="benchmark", address=plan.redis_url, autoclose=True)
        async with CachedSession(cache=backend, headers={"X-API-Key": DEMO_API_KEY}) as session:

            async def read_generic(page: int) -> object:
                params = {"page": page, "page_size": PAGE_SIZE}
                async with session.get(url, params=params) as response:
                    response.raise_for_status()
                    return await response.json()

            # Opens the HTTP connection and the Redis pool. The sandbox counts Ping under its
            # own route, so it does not add to the page requests.
            ping = f"{plan.base_url}/api/v1/ext/{DEMO_ORG_ID}/event/{DEMO_EVENT_ID}/ping"
            async with session.get(ping) as response:
                response.raise_for_status()
            yield read_generic
        return

    cache = redis_cache(plan.redis_url)
    lease = LOCK_LEASE if plan.side == SDK_LOCK else None
    try:
        async with NinePicClient(
            DEMO_API_KEY, DEMO_ORG_ID, base_url=plan.base_url, cache=cache, cache_lock_lease=lease
        ) as client:

            async def read_sdk(page: int) -> object:
                return await client.faces.get(
                    DEMO_EVENT_ID, plan.request_id, page=page, page_size=PAGE_SIZE
                )

            await client.events.ping(DEMO_EVENT_ID)
            await cache.exists("benchmark-warm-up")
            yield read_sdk
    finally:
        await cache.close()


async def read_repeatedly(plan: WorkerPlan, barrier: Barrier, turn: Lock) -> dict[str, float]:
    """Read every page `plan.passes` times and return the first pass and the mean hit time.

    Every worker starts the first pass at once, so they miss the same pages together. The
    later passes are all hits, and workers take them in turn, holding `turn`, so that a hit's
    time is the cache's and not that of four processes sharing the CPUs.
    """
    async with open_reader(plan) as read:
        await asyncio.to_thread(barrier.wait, WORKER_TIMEOUT)
        started = time.perf_counter()
        for page in range(1, plan.pages + 1):
            await read(page)
        first_pass = time.perf_counter() - started

        await asyncio.to_thread(barrier.wait, WORKER_TIMEOUT)
        if not await asyncio.to_thread(turn.acquire, True, WORKER_TIMEOUT):
            raise TimeoutError(f"no turn to read hits within {WORKER_TIMEOUT} s")
        try:
            hit_times = []
            for _ in range(plan.passes - 1):
                for page in range(1, plan.pages + 1):
                    started = time.perf_counter()
                    await read(page)
                    hit_times.append(time.perf_counter() - started)
        finally:
            turn.release()
        # A worker that closes its client and exits costs CPU time, which would slow the hits
        # of the worker whose turn it is. So no worker leaves before every worker had its turn.
        await asyncio.to_thread(barrier.wait, WORKER_TIMEOUT)
    return {"first_pass_s": first_pass, "hit_s": statistics.mean(hit_times)}


def worker_main(
    plan: WorkerPlan, barrier: Barrier, turn: Lock, results: multiprocessing.queues.Queue[Any]
) -> None:
    """Run one worker process, and put its timings or its traceback on `results`."""
    try:
        results.put(asyncio.run(read_repeatedly(plan, barrier, turn)))
    except BaseException:
        barrier.abort()  # Release the other workers instead of leaving them waiting.
        results.put({"error": traceback.format_exc()})
        raise


async def run_side(plan: WorkerPlan, redis_url: str) -> SideResult:
    """Empty Redis, run `WORKERS` processes of one side together, and count page requests."""
    async with redis_asyncio.from_url(redis_url) as redis_client:
        await redis_client.flushdb()
    before = await request_counts(plan.base_url)

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    turn = context.Lock()
    results: multiprocessing.queues.Queue[Any] = context.Queue()
    processes = [
        context.Process(target=worker_main, args=(plan, barrier, turn, results))
        for _ in range(WORKERS)
    ]
    for process in processes:
        process.start()

    try:
        outcomes = [await asyncio.to_thread(results.get, True, WORKER_TIMEOUT) for _ in processes]
    finally:
        for process in processes:
            await asyncio.to_thread(process.join, WORKER_TIMEOUT)
            if process.is_alive():
                process.kill()

    errors = [outcome["error"] for outcome in outcomes if "error" in outcome]
    if errors:
        raise RuntimeError(f"a {plan.side} worker failed:\n{errors[0]}")

    after = await request_counts(plan.base_url)
    return SideResult(
        requests=after["faces.get"] - before["faces.get"],
        first_pass_s=[outcome["first_pass_s"] for outcome in outcomes],
        hit_s=[outcome["hit_s"] for outcome in outcomes],
    )


async def run(quick: bool) -> Section:
    rounds, passes = (1, 3) if quick else (5, 20)
    section = Section(
        name=NAME,
        title="Several processes sharing a cache",
        description=(
            f"{WORKERS} worker processes start together and each read all pages of one face "
            f"search result ({PAGE_SIZE} images a page) {passes} times, through a cache shared "
            f"in one redis-server on loopback. The sandbox adds {LATENCY * 1000:.0f} ms to "
            'every response and counts the page requests it receives. "first pass" is the '
            "slowest worker's time to read every page once, all workers at once, starting "
            "from an empty cache. Hit times are from the later passes, which the workers take "
            "in turn so that CPU contention does not count: each round's figure is the median "
            "over workers of their mean time per read. "
            f"Median of {count_of(rounds, 'round')}, each side in turn."
        ),
        unit="µs",
        columns=[
            Column("median", "hit median µs"),
            Column("min", "hit min µs"),
            Column("max", "hit max µs"),
            Column("requests", "page requests to server (median)"),
            Column("requests_max", "page requests (max)"),
            Column("first_pass_ms", "first pass ms", 0),
        ],
    )
    with redis_server() as redis_port:
        if redis_port is None:
            section.skipped = (
                "redis-server is not installed; install it with 'apt-get install redis-server' "
                "to run this case."
            )
            section.targets += [Target(CASE, goal, "-", None) for goal in GOALS]
            return section
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        sandbox_port = free_port()
        base_url = f"http://127.0.0.1:{sandbox_port}"
        with process_on_port(sandbox_command(sandbox_port, latency=LATENCY), sandbox_port):
            async with NinePicClient(
                DEMO_API_KEY, DEMO_ORG_ID, base_url=base_url, cache=None
            ) as client:
                first = await client.faces.search(
                    DEMO_EVENT_ID, SAMPLE_SELFIES["crowd.jpg"], page_size=PAGE_SIZE
                )
            results: dict[str, list[SideResult]] = {side: [] for side in SIDES}
            for round_number in range(rounds):
                order = SIDES if round_number % 2 == 0 else tuple(reversed(SIDES))
                for side in order:
                    plan = WorkerPlan(
                        side=side,
                        base_url=base_url,
                        redis_url=redis_url,
                        request_id=first.request_id,
                        pages=first.pagination.total_pages,
                        passes=passes,
                    )
                    results[side].append(await run_side(plan, redis_url))

    for side, runs in results.items():
        requests = [run.requests for run in runs]
        section.measurements.append(
            Measurement(
                case=side,
                samples=[statistics.median(run.hit_s) * 1e6 for run in runs],
                extra={
                    "requests": round(statistics.median(requests)),
                    "requests_max": max(requests),
                    "first_pass_ms": statistics.median(max(run.first_pass_s) for run in runs)
                    * 1000,
                },
            )
        )
    section.notes.append(
        f"The result has {first.pagination.total_pages} pages, so "
        f"{first.pagination.total_pages} page requests is the fewest possible."
    )
    add_targets(section)
    return section


def add_targets(section: Section) -> None:
    sdk = section.measurement(SDK_LOCK)
    generic = section.measurement(GENERIC)
    sdk_requests = sdk.extra["requests"]
    generic_requests = generic.extra["requests"]
    assert isinstance(sdk_requests, int)
    assert isinstance(generic_requests, int)
    section.targets += [
        Target(
            case=CASE,
            goal=FEWER_REQUESTS,
            measured=f"{sdk_requests} against {generic_requests} page requests",
            met=sdk_requests < generic_requests,
        ),
        Target(
            case=CASE,
            goal=FASTER_HITS,
            measured=(
                f"{sdk.median:.0f} µs against {generic.median:.0f} µs "
                f"({generic.median / sdk.median:.1f}x faster)"
            ),
            met=sdk.median < generic.median,
        ),
    ]


if __name__ == "__main__":
    section_main(__doc__.splitlines()[0], run)
